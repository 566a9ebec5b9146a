package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;
import dev.lbkit.api.scheduler.SchedulerProvider;

/** Provides {@code rr}. */
public final class RoundRobinProvider implements SchedulerProvider {
    @Override
    public String name() {
        return "rr";
    }

    @Override
    public String description() {
        return "round robin, weights ignored (IPVS rr)";
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        return new RoundRobinScheduler();
    }
}
