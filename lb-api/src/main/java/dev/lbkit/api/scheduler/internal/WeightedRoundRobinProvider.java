package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code wrr}: smooth weighted round robin (nginx); option max-cycle. */
public final class WeightedRoundRobinProvider extends BuiltinProvider {
    public WeightedRoundRobinProvider() {
        super("wrr", "smooth weighted round robin (nginx); option max-cycle", "max-cycle");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        int maxCycle = check(options).getInt("max-cycle", WeightedRoundRobinScheduler.DEFAULT_MAX_CYCLE);
        if (maxCycle < 1) {
            throw new IllegalArgumentException("wrr max-cycle must be > 0, got " + maxCycle);
        }
        return new WeightedRoundRobinScheduler(maxCycle);
    }
}
