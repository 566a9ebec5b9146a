package dev.lbkit.l4.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.List;
import java.util.Objects;

/**
 * A scheduler that delegates to another one which can be replaced at runtime ({@code ipvsadm -E -s}),
 * so that a service keeps its pool, members and counters when its scheduler changes.
 */
final class SwitchableScheduler implements Scheduler {
    private volatile Scheduler delegate;

    SwitchableScheduler(Scheduler delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    void delegate(Scheduler delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    Scheduler delegate() {
        return delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public Picker newPicker(List<Member> members) {
        return delegate.newPicker(members);
    }
}
