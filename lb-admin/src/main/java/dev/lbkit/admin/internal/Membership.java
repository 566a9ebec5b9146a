package dev.lbkit.admin.internal;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;

/**
 * How the admin API adds and removes upstreams of one pool. Usually the pool itself; a tier that keeps
 * state per upstream (lb-l4's counters per real server) supplies its own so that adding through the
 * API is the same as adding through the tier.
 */
public interface Membership {

    /**
     * Adds {@code upstream}.
     *
     * @throws IllegalArgumentException when the tier cannot take it (answered 400 with the message)
     */
    void add(Upstream upstream);

    /** Removes the upstream with {@code key}; whether it was present. */
    boolean remove(String key);

    /** The pool's own add and remove. */
    static Membership of(UpstreamPool pool) {
        return new Membership() {
            @Override
            public void add(Upstream upstream) {
                pool.add(upstream);
            }

            @Override
            public boolean remove(String key) {
                return pool.remove(key);
            }
        };
    }
}
