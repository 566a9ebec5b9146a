package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code ring}: ketama consistent hashing (nginx hash consistent); option points-per-weight. */
public final class RingHashProvider extends BuiltinProvider {
    public RingHashProvider() {
        super("ring", "ketama consistent hashing (nginx hash consistent); option points-per-weight", "points-per-weight");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        int points = check(options).getInt("points-per-weight", RingHashScheduler.DEFAULT_POINTS);
        if (points < 1 || points > RingHashScheduler.MAX_POINTS_PER_WEIGHT) {
            throw new IllegalArgumentException("ring points-per-weight must be in 1.."
                    + RingHashScheduler.MAX_POINTS_PER_WEIGHT + ", got " + points);
        }
        return new RingHashScheduler(points);
    }
}
