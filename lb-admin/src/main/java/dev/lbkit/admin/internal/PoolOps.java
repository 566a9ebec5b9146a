package dev.lbkit.admin.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamOverride;
import dev.lbkit.api.UpstreamPool;
import java.util.Map;

/**
 * The runtime changes the admin API makes, each through lb-api's pool so that work in flight is never
 * disturbed: HAProxy's {@code set server ... state drain|ready|maint}, {@code set weight}, and adding and
 * removing upstreams. On a pool that follows a store, the pool keeps them as overrides of the store's
 * membership. The weight a drain saves for {@code ready} is kept by member in {@code saved} (the admin
 * state's). Thread-safe as the pool is.
 */
public final class PoolOps {
    private PoolOps() {}

    /**
     * Drains: weight 0 (no new traffic, work in flight continues), saving the weight for {@link #ready}
     * unless it is the store's, which {@code ready} gives back by clearing the drain. Draining a drained
     * upstream changes nothing.
     */
    public static Member drain(UpstreamPool pool, Member m, Map<Member, Integer> saved) {
        Upstream u = m.upstream();
        if (u.weight() == 0) {
            return m;
        }
        PoolSnapshot s = pool.snapshot();
        boolean storesWeight = s.followsStore() && !s.overrides().containsKey(u.key());
        Member drained = pool.drain(u.key());
        // After the drain: the admin state drops saved weights of members that are not drained.
        if (!storesWeight) {
            saved.put(drained, u.weight());
        }
        return drained;
    }

    /**
     * Back to service: lifts maintenance and a drain. A drain's saved weight is restored; on a pool that
     * follows a store, an operator's drain without one (it replaced the store's weight) is cleared, so the
     * store's weight applies again, and a weight 0 that the store gives stays; otherwise weight 1.
     */
    public static Member ready(UpstreamPool pool, Member m, Map<Member, Integer> saved) {
        Upstream u = m.upstream();
        if (m.isAdminDown()) {
            pool.markDown(u.key(), false);
        }
        if (u.weight() != 0) {
            return m;
        }
        Integer w = saved.remove(m);
        if (w != null) {
            return pool.weight(u.key(), w);
        }
        PoolSnapshot s = pool.snapshot();
        if (s.followsStore()) {
            UpstreamOverride o = s.overrides().get(u.key());
            if (o == null) {
                return m;
            }
            if (o.kind() == UpstreamOverride.Kind.WEIGHT) {
                pool.clearOverride(u.key());
                return m;
            }
        }
        return pool.weight(u.key(), 1);
    }

    /** HAProxy's {@code state maint}: no new traffic until {@link #ready}. */
    public static Member maint(UpstreamPool pool, Member m) {
        return pool.markDown(m.upstream().key(), true);
    }

    /** Sets the weight (0 drains, saving the previous weight for {@code ready}). */
    public static Member weight(UpstreamPool pool, Member m, int weight, Map<Member, Integer> saved) {
        if (weight == 0) {
            return drain(pool, m, saved);
        }
        return pool.weight(m.upstream().key(), weight);
    }
}
