package dev.lbkit.api.health;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;

/**
 * Decides whether upstreams may receive traffic, fed by the outcomes tiers report and/or by probes.
 *
 * <p>A policy belongs to one {@link dev.lbkit.api.UpstreamPool}; the pool calls it and passes its
 * current snapshot, so a policy holds no reference back to the pool. Verdicts are written onto the
 * {@link Member} ({@link Member#eject}, {@link Member#checkDown}) where pickers read them lock-free;
 * the member tells the pool's listeners. Implementations must be thread-safe; {@link #admit} and
 * {@link #onOutcome} run on tiers' I/O threads and must not block.
 */
public interface HealthPolicy extends AutoCloseable {

    /** A policy that never changes availability. */
    static HealthPolicy none() {
        return NoHealthPolicy.INSTANCE;
    }

    /**
     * Called when a picker chose {@code member}; returning {@code false} turns it away for this pick
     * (the pool picks again without it). nginx's passive checks use this to let exactly one request
     * probe an upstream whose fail_timeout has passed. Lock-free; the default admits everyone.
     */
    default boolean admit(Member member, PoolSnapshot snapshot, long nanoTime) {
        return true;
    }

    /** One attempt on {@code member} ended with {@code outcome}. */
    default void onOutcome(Member member, Outcome outcome, PoolSnapshot snapshot, long nanoTime) {}

    /**
     * No member of either tier could be picked (nginx then answers "no live upstreams" and forgets every
     * failure count so that the next request tries again).
     */
    default void onExhausted(PoolSnapshot snapshot, long nanoTime) {}

    /** The pool's membership changed (also called once when the policy is attached). */
    default void onMembershipChange(PoolSnapshot snapshot) {}

    /** Stops background work (probes). Idempotent. */
    @Override
    default void close() {}
}
