package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code p2c}: power of two choices on least active (nginx random two least_conn). */
public final class PowerOfTwoProvider extends BuiltinProvider {
    public PowerOfTwoProvider() {
        super("p2c", "power of two choices on least active (nginx random two least_conn)");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        check(options);
        return new PowerOfTwoScheduler();
    }
}
