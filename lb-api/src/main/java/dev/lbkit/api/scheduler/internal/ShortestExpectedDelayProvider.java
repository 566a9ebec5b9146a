package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code sed}: shortest expected delay: (active+1)/weight (IPVS sed). */
public final class ShortestExpectedDelayProvider extends BuiltinProvider {
    public ShortestExpectedDelayProvider() {
        super("sed", "shortest expected delay: (active+1)/weight (IPVS sed)");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        check(options);
        return new LeastLoadScheduler(LeastLoadScheduler.Kind.SED);
    }
}
