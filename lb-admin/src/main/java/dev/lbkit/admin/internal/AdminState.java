package dev.lbkit.admin.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamOverride;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.CheckStatus;
import dev.lbkit.api.health.HealthEvent;
import dev.lbkit.api.internal.Json;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The state lb-admin shows and changes: the registered pools (with their active checks, if any), the
 * tiers, and since when each upstream is in its current state. Thread-safe: pool listeners record state changes on whichever thread changes a pool;
 * the documents are written on the admin event loop.
 */
public final class AdminState implements AutoCloseable {
    private final Clock clock;
    private final long startedMillis;
    /** The registered pools, by name. */
    private final Map<String, PoolEntry> pools = new LinkedHashMap<>();
    /** Pools that tiers brought, by identity. Guarded by this. */
    private final Map<UpstreamPool, PoolEntry> dynamic = new IdentityHashMap<>();
    private final List<TierView> tiers;

    public AdminState(Map<UpstreamPool, ActiveHealthPolicy> registered, List<TierView> tiers, Clock clock) {
        this.clock = clock;
        this.startedMillis = clock.millis();
        this.tiers = List.copyOf(tiers);
        for (Map.Entry<UpstreamPool, ActiveHealthPolicy> e : registered.entrySet()) {
            UpstreamPool pool = e.getKey();
            if (pools.containsKey(pool.name())) {
                throw new IllegalArgumentException("two different pools are named '" + pool.name()
                        + "': give pools distinct names so that the admin API can address them");
            }
            pools.put(pool.name(), newEntry(pool.name(), pool, e.getValue()));
        }
    }

    private PoolEntry newEntry(String name, UpstreamPool pool, ActiveHealthPolicy checks) {
        ActiveHealthPolicy c = checks;
        if (c == null && pool.healthPolicy() instanceof ActiveHealthPolicy a) {
            c = a;
        }
        PoolEntry e = new PoolEntry(name, pool, c);
        pool.addListener(e);
        e.onSnapshot(pool.snapshot());
        return e;
    }

    /**
     * The pools shown now: the registered ones, then those the tiers balance over (an L4 service added
     * at runtime appears here). A tier's pool gets the tier's name for it, made unique if need be.
     */
    private synchronized List<PoolEntry> entries() {
        List<PoolEntry> out = new ArrayList<>(pools.values());
        Map<UpstreamPool, Boolean> shown = new IdentityHashMap<>();
        for (PoolEntry e : out) {
            shown.put(e.pool, Boolean.TRUE);
        }
        Set<String> names = new HashSet<>(pools.keySet());
        for (TierView t : tiers) {
            for (Map.Entry<String, UpstreamPool> tp : t.pools().entrySet()) {
                UpstreamPool p = tp.getValue();
                if (shown.put(p, Boolean.TRUE) != null) {
                    continue;
                }
                PoolEntry e = dynamic.get(p);
                if (e == null) {
                    String name = tp.getKey();
                    for (int i = 2; names.contains(name); i++) {
                        name = tp.getKey() + "-" + i;
                    }
                    e = newEntry(name, p, null);
                    dynamic.put(p, e);
                }
                names.add(e.name);
                out.add(e);
            }
        }
        dynamic.entrySet().removeIf(d -> {
            if (shown.containsKey(d.getKey())) {
                return false;
            }
            d.getKey().removeListener(d.getValue());
            return true;
        });
        return out;
    }

    private PoolEntry entry(String name) {
        for (PoolEntry e : entries()) {
            if (e.name.equals(name)) {
                return e;
            }
        }
        return null;
    }

    /** The pool named {@code name}, if shown. */
    public Optional<UpstreamPool> pool(String name) {
        PoolEntry e = entry(name);
        return e == null ? Optional.empty() : Optional.of(e.pool);
    }

    /** How the API adds and removes upstreams of {@code pool}: through the tier that owns it, else the pool. */
    public Membership membership(UpstreamPool pool) {
        for (TierView t : tiers) {
            Membership m = t.membership(pool);
            if (m != null) {
                return m;
            }
        }
        return Membership.of(pool);
    }

    public List<TierView> tiers() {
        return tiers;
    }

    /** The whole state: every pool with its upstreams and traffic, then every tier's own section. */
    public String stateJson() {
        List<PoolEntry> entries = entries();
        Json.Writer j = new Json.Writer(new StringBuilder(4096 + 512 * totalMembers(entries)));
        j.beginObject();
        j.field("time", clock.millis()).field("startedAt", startedMillis);
        j.name("pools").beginArray();
        for (PoolEntry e : entries) {
            writePool(j, e);
        }
        j.endArray();
        j.name("tiers").beginArray();
        for (TierView t : tiers) {
            j.beginObject().field("kind", t.kind()).field("name", t.name());
            t.writeSection(j);
            j.endObject();
        }
        j.endArray();
        j.endObject();
        return j.toString();
    }

    /** The list of pools, as in the state document. */
    public String poolsJson() {
        Json.Writer j = new Json.Writer();
        j.beginObject().field("time", clock.millis()).name("pools").beginArray();
        for (PoolEntry e : entries()) {
            writePool(j, e);
        }
        j.endArray().endObject();
        return j.toString();
    }

    /** One pool, or empty if unknown. */
    public Optional<String> poolJson(String name) {
        PoolEntry e = entry(name);
        if (e == null) {
            return Optional.empty();
        }
        Json.Writer j = new Json.Writer();
        writePool(j, e);
        return Optional.of(j.toString());
    }

    /** One upstream of a pool as JSON, or empty if unknown. */
    public Optional<String> upstreamJson(String pool, String key) {
        PoolEntry e = entry(pool);
        if (e == null) {
            return Optional.empty();
        }
        PoolSnapshot s = e.pool.snapshot();
        Member m = memberOf(s, key);
        if (m == null) {
            return Optional.empty();
        }
        Json.Writer j = new Json.Writer();
        writeMember(j, e, s, m, traffic(e.pool).get(key), e.pool.ticker().nanoTime());
        return Optional.of(j.toString());
    }

    /**
     * The answer to clearing the override of {@code key}: whether there was one, and the upstream now in
     * force ({@code null} when the key is not in the pool any more).
     */
    public String overrideClearedJson(String pool, String key, boolean cleared) {
        PoolEntry e = entry(pool);
        Json.Writer j = new Json.Writer();
        j.beginObject().field("pool", pool).field("key", key).field("cleared", cleared).name("upstream");
        PoolSnapshot s = e == null ? null : e.pool.snapshot();
        Member m = s == null ? null : memberOf(s, key);
        if (m == null) {
            j.nullValue();
        } else {
            writeMember(j, e, s, m, traffic(e.pool).get(key), e.pool.ticker().nanoTime());
        }
        return j.endObject().toString();
    }

    private static Member memberOf(PoolSnapshot s, String key) {
        for (Member m : s.members()) {
            if (m.upstream().key().equals(key)) {
                return m;
            }
        }
        return null;
    }

    private static int totalMembers(List<PoolEntry> entries) {
        int n = 0;
        for (PoolEntry e : entries) {
            n += e.pool.snapshot().size();
        }
        return n;
    }

    private Map<String, Traffic> traffic(UpstreamPool pool) {
        Map<String, Traffic> t = new HashMap<>();
        for (TierView v : tiers) {
            v.traffic(pool, t);
        }
        return t;
    }

    private void writePool(Json.Writer j, PoolEntry e) {
        PoolSnapshot s = e.pool.snapshot();
        long now = e.pool.ticker().nanoTime();
        Map<String, Traffic> traffic = traffic(e.pool);
        int up = 0;
        for (Member m : s.members()) {
            if (m.isAvailable(now)) {
                up++;
            }
        }
        j.beginObject().field("name", e.name).field("scheduler", e.pool.scheduler().name())
                .field("version", s.version()).field("size", s.size()).field("available", up)
                .field("activeChecks", e.checks != null).field("followsStore", s.followsStore());
        j.name("upstreams").beginArray();
        for (Member m : s.members()) {
            writeMember(j, e, s, m, traffic.get(m.upstream().key()), now);
        }
        j.endArray();
        // Upstreams the operator keeps out are in no member: listed here, so that they can be seen and cleared.
        j.name("removedByOperator").beginArray();
        for (Map.Entry<String, UpstreamOverride> o : s.overrides().entrySet()) {
            if (o.getValue().kind() == UpstreamOverride.Kind.REMOVED) {
                j.beginObject().field("key", o.getKey()).name("store");
                writeStore(j, s.store().get(o.getKey()));
                j.endObject();
            }
        }
        j.endArray().endObject();
    }

    /** The store's values of an upstream that an operator can override, or {@code null} when the store lists none. */
    private static void writeStore(Json.Writer j, Upstream u) {
        if (u == null) {
            j.nullValue();
        } else {
            j.beginObject().field("weight", u.weight()).field("backup", u.isBackup())
                    .field("maxConnections", u.maxConnections()).endObject();
        }
    }

    private void writeMember(Json.Writer j, PoolEntry e, PoolSnapshot s, Member m, Traffic t, long now) {
        Upstream u = m.upstream();
        Since since = e.track(m, now, clock.millis());
        j.beginObject().field("key", u.key()).field("host", u.host()).field("port", u.port());
        j.field("name", u.name().orElse(u.key()));
        j.field("state", since.state).field("since", since.millis).field("backup", u.isBackup());
        j.field("weight", u.weight()).field("effectiveWeight", m.effectiveWeight());
        // The pool keeps it, so that every admin server on the pool shows it and ready gives it back.
        OptionalInt saved = m.weightBeforeDrain();
        if (saved.isPresent()) {
            j.field("savedWeight", saved.getAsInt());
        }
        // Where the values come from: the store's upstream (null when the store lists none, or the pool
        // follows no store) and the operator's override of it (null when there is none).
        j.name("store");
        writeStore(j, s.store().get(u.key()));
        UpstreamOverride o = s.overrides().get(u.key());
        j.name("override");
        if (o == null) {
            j.nullValue();
        } else {
            j.beginObject().field("kind", o.kind().name().toLowerCase(Locale.ROOT))
                    .field("weight", o.weight().orElseGet(() -> o.upstream().orElseThrow().weight())).endObject();
        }
        j.field("maxConnections", u.maxConnections());
        j.field("active", m.active()).field("inactive", m.inactive());
        j.field("adminDown", m.isAdminDown()).field("checkDown", m.isCheckDown());
        long until = m.ejectedUntil();
        boolean ejected = until != Member.NOT_EJECTED && now - until < 0;
        j.field("ejected", ejected);
        if (ejected) {
            j.field("ejectedForMillis", (until - now) / 1_000_000);
        }
        j.field("ejections", since.ejections);
        Optional<CheckStatus> cs = e.checks == null ? Optional.empty() : e.checks.status(m);
        if (cs.isPresent()) {
            CheckStatus c = cs.get();
            j.name("check").beginObject().field("up", c.up()).field("healthy", c.lastResult().healthy())
                    .field("latencyMillis", c.lastResult().latency().toNanos() / 1e6)
                    .field("detail", c.lastResult().detail())
                    .field("ageMillis", Math.max(0, (now - c.checkedAt()) / 1_000_000))
                    .field("health", c.health()).field("checks", c.checks()).endObject();
        } else {
            j.name("check").nullValue();
        }
        j.name("traffic");
        if (t == null) {
            j.nullValue();
        } else {
            j.beginObject();
            t.write(j);
            j.endObject();
        }
        j.endObject();
    }

    /** The state name of {@code m} at {@code now}, in HAProxy's spirit. */
    static String stateOf(Member m, long now) {
        if (m.isAdminDown()) {
            return "maint";
        }
        if (m.isCheckDown()) {
            return "down";
        }
        long until = m.ejectedUntil();
        if (until != Member.NOT_EJECTED && now - until < 0) {
            return "ejected";
        }
        Upstream u = m.upstream();
        if (u.weight() == 0) {
            return "draining";
        }
        if (m.isOverloaded() || (u.maxConnections() > 0 && m.active() >= u.maxConnections())) {
            return "full";
        }
        return u.isBackup() ? "backup" : "up";
    }

    @Override
    public synchronized void close() {
        for (PoolEntry e : pools.values()) {
            e.pool.removeListener(e);
        }
        for (PoolEntry e : dynamic.values()) {
            e.pool.removeListener(e);
        }
        dynamic.clear();
    }

    private static final class Since {
        final String state;
        final long millis;
        final long ejections;

        Since(String state, long millis, long ejections) {
            this.state = state;
            this.millis = millis;
            this.ejections = ejections;
        }
    }

    /** A shown pool; as its listener, it notes the moment each member's state changes. */
    private final class PoolEntry implements PoolListener {
        final String name;
        final UpstreamPool pool;
        final ActiveHealthPolicy checks;
        final Map<Member, Since> since = new ConcurrentHashMap<>();

        PoolEntry(String name, UpstreamPool pool, ActiveHealthPolicy checks) {
            this.name = name;
            this.pool = pool;
            this.checks = checks;
        }

        Since track(Member m, long now, long wallMillis) {
            return since.compute(m, (k, old) -> {
                String st = stateOf(m, now);
                if (old == null) {
                    return new Since(st, wallMillis, 0);
                }
                if (old.state.equals(st)) {
                    return old;
                }
                return new Since(st, wallMillis, old.ejections + (st.equals("ejected") ? 1 : 0));
            });
        }

        @Override
        public void onSnapshot(PoolSnapshot snapshot) {
            long now = pool.ticker().nanoTime();
            long wall = clock.millis();
            Map<Member, Boolean> present = new IdentityHashMap<>();
            for (Member m : snapshot.members()) {
                present.put(m, Boolean.TRUE);
                track(m, now, wall);
            }
            since.keySet().removeIf(m -> !present.containsKey(m));
        }

        @Override
        public void onHealthChange(HealthEvent event) {
            List<Member> ms = new ArrayList<>(1);
            pool.member(event.upstream().key()).ifPresent(ms::add);
            for (Member m : ms) {
                track(m, pool.ticker().nanoTime(), clock.millis());
            }
        }
    }
}
