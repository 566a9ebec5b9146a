package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code dh}: hash of the key, else the client address (IPVS dh); option table-size. */
public final class DestinationHashProvider extends BuiltinProvider {
    public DestinationHashProvider() {
        super("dh", "hash of the key, else the client address (IPVS dh); option table-size", "table-size");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        return new BucketHashScheduler(false, BucketHashProviders.tableSize("dh", check(options)));
    }
}
