package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code random}: random, by effective weight (nginx random). */
public final class RandomProvider extends BuiltinProvider {
    public RandomProvider() {
        super("random", "random, by effective weight (nginx random)");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        check(options);
        return new RandomScheduler();
    }
}
