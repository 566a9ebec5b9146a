package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code rr}: round robin, weights ignored (IPVS rr). */
public final class RoundRobinProvider extends BuiltinProvider {
    public RoundRobinProvider() {
        super("rr", "round robin, weights ignored (IPVS rr)");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        check(options);
        return new RoundRobinScheduler();
    }
}
