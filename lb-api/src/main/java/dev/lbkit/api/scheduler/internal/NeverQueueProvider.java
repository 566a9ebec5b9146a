package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.SchedulerOptions;

/** Provides {@code nq}: never queue: an idle member, else sed (IPVS nq). */
public final class NeverQueueProvider extends BuiltinProvider {
    public NeverQueueProvider() {
        super("nq", "never queue: an idle member, else sed (IPVS nq)");
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        check(options);
        return new LeastLoadScheduler(LeastLoadScheduler.Kind.NQ);
    }
}
