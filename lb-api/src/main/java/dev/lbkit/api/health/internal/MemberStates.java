package dev.lbkit.api.health.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Per-member state kept by a health policy, keyed by member identity. {@link #get} is lock-free and
 * allocation-free (the outcome path); a state is created once per member, on first need; states of
 * members that left the pool are dropped on the next membership change. Not part of the public API.
 *
 * @param <S> the state type
 */
public final class MemberStates<S> {
    // Member does not override equals/hashCode, so this map is keyed by identity.
    private final ConcurrentHashMap<Member, S> states = new ConcurrentHashMap<>();
    private final Function<Member, S> factory;

    public MemberStates(Function<Member, S> factory) {
        this.factory = factory;
    }

    /** The member's state, or {@code null} if it has none yet. */
    public S get(Member member) {
        return states.get(member);
    }

    /**
     * The member's state, created if needed; {@code null} for a member that left its pool (a late
     * report about it must not resurrect its state).
     */
    public S getOrCreate(Member member) {
        S s = states.get(member);
        if (s != null) {
            return s;
        }
        if (member.isRemoved()) {
            return null;
        }
        return states.computeIfAbsent(member, factory);
    }

    /** Drops the states of members not in {@code snapshot}. */
    public void retain(PoolSnapshot snapshot) {
        Set<Member> current = Collections.newSetFromMap(new IdentityHashMap<>());
        current.addAll(snapshot.members());
        states.keySet().removeIf(m -> !current.contains(m) || m.isRemoved());
    }

    /** Every member that currently has a state. */
    public Set<Member> members() {
        return states.keySet();
    }
}
