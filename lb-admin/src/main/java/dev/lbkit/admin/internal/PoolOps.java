package dev.lbkit.admin.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.UpstreamPool;

/**
 * The runtime changes the admin API makes, each through lb-api's pool so that work in flight is never
 * disturbed: HAProxy's {@code set server ... state drain|ready|maint}, {@code set weight}, and adding and
 * removing upstreams. On a pool that follows a store, the pool keeps them as overrides of the store's
 * membership. The weight a drain replaces is kept by the pool ({@link Member#weightBeforeDrain()}), so
 * any admin server on the pool can give it back. Thread-safe as the pool is.
 */
public final class PoolOps {
    private PoolOps() {}

    /** Drains: weight 0 (no new traffic, work in flight continues); see {@link UpstreamPool#drain}. */
    public static Member drain(UpstreamPool pool, Member m) {
        return pool.drain(m.upstream().key());
    }

    /** Back to service: lifts maintenance and a drain ({@link UpstreamPool#undrain}). */
    public static Member ready(UpstreamPool pool, Member m) {
        String key = m.upstream().key();
        if (m.isAdminDown()) {
            pool.markDown(key, false);
        }
        return pool.undrain(key);
    }

    /** HAProxy's {@code state maint}: no new traffic until {@link #ready}. */
    public static Member maint(UpstreamPool pool, Member m) {
        return pool.markDown(m.upstream().key(), true);
    }

    /** Sets the weight (0 drains, as {@link #drain}). */
    public static Member weight(UpstreamPool pool, Member m, int weight) {
        return pool.weight(m.upstream().key(), weight);
    }
}
