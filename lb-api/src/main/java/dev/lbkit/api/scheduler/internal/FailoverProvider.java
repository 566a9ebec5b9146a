package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code fo}: failover to the available member of highest weight (IPVS fo). */
public final class FailoverProvider extends BuiltinProvider {
    public FailoverProvider() {
        super("fo", "failover to the available member of highest weight (IPVS fo)");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        check(options);
        return new FailoverScheduler();
    }
}
