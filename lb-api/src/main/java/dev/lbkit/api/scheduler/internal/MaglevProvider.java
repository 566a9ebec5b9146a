package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code mh}: Maglev hashing of the key or client address (IPVS mh); option table-size (prime). */
public final class MaglevProvider extends BuiltinProvider {
    public MaglevProvider() {
        super("mh", "Maglev hashing of the key or client address (IPVS mh); option table-size (prime)", "table-size");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        return new MaglevScheduler(check(options).getInt("table-size", MaglevScheduler.DEFAULT_TABLE_SIZE));
    }
}
