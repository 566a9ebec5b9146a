package dev.lbkit.api;

import dev.lbkit.api.health.HealthEvent;

/**
 * Told about changes in an {@link UpstreamPool}: membership, weights and admin state (a new
 * {@link PoolSnapshot}), and health transitions.
 *
 * <p>Called synchronously on the thread that made the change, in the order of the changes. A listener
 * must return quickly, must not block and must not change the pool from inside the callback; an
 * exception it throws is logged and otherwise ignored.
 */
public interface PoolListener {

    /** The pool published a new snapshot. */
    default void onSnapshot(PoolSnapshot snapshot) {}

    /** A member became available or unavailable. */
    default void onHealthChange(HealthEvent event) {}
}
