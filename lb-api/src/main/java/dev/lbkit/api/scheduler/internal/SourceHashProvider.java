package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code sh}: source hash of the client address (IPVS sh); option table-size. */
public final class SourceHashProvider extends BuiltinProvider {
    public SourceHashProvider() {
        super("sh", "source hash of the client address (IPVS sh); option table-size", "table-size");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        return new BucketHashScheduler(true, BucketHashProviders.tableSize("sh", check(options)));
    }
}
