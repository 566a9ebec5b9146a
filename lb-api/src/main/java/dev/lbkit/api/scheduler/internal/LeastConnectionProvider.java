package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code lc}: least connections: active*256+inactive (IPVS lc). */
public final class LeastConnectionProvider extends BuiltinProvider {
    public LeastConnectionProvider() {
        super("lc", "least connections: active*256+inactive (IPVS lc)");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        check(options);
        return new LeastLoadScheduler(LeastLoadScheduler.Kind.LC);
    }
}
