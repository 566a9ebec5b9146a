package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code wlc}: weighted least connections: (active*256+inactive)/weight (IPVS wlc). */
public final class WeightedLeastConnectionProvider extends BuiltinProvider {
    public WeightedLeastConnectionProvider() {
        super("wlc", "weighted least connections: (active*256+inactive)/weight (IPVS wlc)");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        check(options);
        return new LeastLoadScheduler(LeastLoadScheduler.Kind.WLC);
    }
}
