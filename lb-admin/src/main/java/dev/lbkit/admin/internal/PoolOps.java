package dev.lbkit.admin.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The runtime changes the admin API makes, each through lb-api's pool so that work in flight is never
 * disturbed: HAProxy's {@code set server ... state drain|ready|maint}, {@code set weight}, and adding and
 * removing upstreams. Stateless; thread-safe as the pool is.
 */
public final class PoolOps {
    private PoolOps() {}

    /**
     * Drains: weight 0 (no new traffic, work in flight continues), keeping the weight in the upstream's
     * metadata so that {@link #ready} can restore it. Draining a drained upstream changes nothing.
     */
    public static Member drain(UpstreamPool pool, Member m) {
        Upstream u = m.upstream();
        if (u.weight() == 0) {
            return m;
        }
        return pool.update(rebuild(u, 0, Integer.toString(u.weight())));
    }

    /** Back to service: lifts maintenance and a drain (restoring the weight it saved, else 1). */
    public static Member ready(UpstreamPool pool, Member m) {
        Upstream u = m.upstream();
        if (m.isAdminDown()) {
            pool.markDown(u.key(), false);
        }
        if (u.weight() == 0) {
            int saved = AdminState.savedWeight(u);
            return pool.update(rebuild(u, saved > 0 ? saved : 1, null));
        }
        return m;
    }

    /** HAProxy's {@code state maint}: no new traffic until {@link #ready}. */
    public static Member maint(UpstreamPool pool, Member m) {
        return pool.markDown(m.upstream().key(), true);
    }

    /** Sets the weight (0 drains, keeping the previous weight for {@code ready}). */
    public static Member weight(UpstreamPool pool, Member m, int weight) {
        if (weight == 0) {
            return drain(pool, m);
        }
        return pool.update(rebuild(m.upstream(), weight, null));
    }

    /**
     * A copy of {@code u} with {@code weight}, and the saved weight set to {@code saved} (or removed when
     * {@code null}); every other field is kept.
     */
    static Upstream rebuild(Upstream u, int weight, String saved) {
        // Keep a resolved address (an upstream a resolver found) unless that would change the key.
        Upstream.Builder b = Upstream.builder(u.host(), u.port());
        if (!u.address().isUnresolved() && Upstream.of(u.address()).key().equals(u.key())) {
            b = Upstream.builder(u.address());
        }
        b.weight(weight).backup(u.isBackup()).maxConnections(u.maxConnections());
        u.name().ifPresent(b::name);
        Map<String, String> md = new LinkedHashMap<>(u.metadata());
        md.remove(AdminState.SAVED_WEIGHT);
        if (saved != null) {
            md.put(AdminState.SAVED_WEIGHT, saved);
        }
        b.metadata(md);
        return b.build();
    }
}
