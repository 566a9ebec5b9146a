package dev.lbkit.api.scheduler;

import java.util.List;

/** A scheduler from "another jar": registered in this test tree's META-INF/services. */
public final class ThirdPartyProvider implements SchedulerProvider {
    @Override
    public String name() {
        return "first";
    }

    @Override
    public Scheduler newScheduler(SchedulerOptions options) {
        options.requireOnly("first");
        return new Scheduler() {
            @Override
            public String name() {
                return "first";
            }

            @Override
            public Picker newPicker(List<dev.lbkit.api.Member> members) {
                return ctx -> {
                    for (dev.lbkit.api.Member m : members) {
                        if (ctx.isEligible(m)) {
                            return m;
                        }
                    }
                    return null;
                };
            }
        };
    }
}
