package dev.lbkit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.resolve.ManualResolver;
import dev.lbkit.api.resolve.ResolutionResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A pool that follows a store, with the store's updates and resyncs interleaved with an operator's
 * changes: after every step the pool holds the store's membership with the operator's overrides applied,
 * as a model recomputes it from scratch; members that stay keep their identity, admin down stays on a
 * member for as long as it is in the pool, and so does the weight before a drain for as long as the
 * member stays drained, which undrain gives back.
 */
class OverrideProperties {
    private static final int PORTS = 5;

    /**
     * One step. kind: 0 store update (the entries of {@code store}), 1 store resync (the last list again),
     * 2 store failure, 3 add, 4 remove, 5 weight, 6 drain, 7 update (weight and a metadata value), 8 clear,
     * 9 mark down, 10 undrain.
     */
    record Step(int kind, int port, int weight, int zone, List<Entry> store) {}

    /** A store entry: port, weight, zone metadata, backup. */
    record Entry(int port, int weight, int zone, boolean backup) {}

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Entry> entry = Combinators.combine(Arbitraries.integers().between(1, PORTS),
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 1),
                Arbitraries.of(false, false, true)).as(Entry::new);
        return Combinators.combine(Arbitraries.integers().between(0, 10), Arbitraries.integers().between(1, PORTS),
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 1),
                entry.list().ofMaxSize(PORTS)).as(Step::new).list().ofMaxSize(40);
    }

    private static Upstream upstream(int port, int weight, int zone, boolean backup) {
        return Upstream.builder("127.0.0.1", port).weight(weight).backup(backup).metadata("zone", "z" + zone).build();
    }

    private static String key(int port) {
        return "127.0.0.1:" + port;
    }

    /** The override rules, recomputed from scratch: the store's membership with the overrides applied. */
    private static Map<String, Upstream> expected(Map<String, Upstream> store, Map<String, UpstreamOverride> ov) {
        Map<String, Upstream> out = new LinkedHashMap<>();
        for (Upstream s : store.values()) {
            UpstreamOverride o = ov.get(s.key());
            if (o == null) {
                out.put(s.key(), s);
            } else if (o.kind() == UpstreamOverride.Kind.WEIGHT) {
                out.put(s.key(), s.toBuilder().weight(o.weight().getAsInt()).build());
            } else if (o.kind() != UpstreamOverride.Kind.REMOVED) {
                out.put(s.key(), o.upstream().orElseThrow());
            }
        }
        for (Map.Entry<String, UpstreamOverride> e : ov.entrySet()) {
            if (e.getValue().kind() == UpstreamOverride.Kind.ADDED) {
                out.put(e.getKey(), e.getValue().upstream().orElseThrow());
            }
        }
        return out;
    }

    @Property(tries = 500)
    void thePoolIsAlwaysTheStoresMembershipWithTheOverridesApplied(@ForAll("steps") List<Step> steps) throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add(upstream(1, 1, 0, false)).add(upstream(2, 2, 0, false)).build();
        ManualResolver store = new ManualResolver();
        pool.follow(store);
        assertTrue(pool.snapshot().followsStore());
        // Until the store's first result, the pool's own membership stands for the store's.
        Map<String, Upstream> listed = new LinkedHashMap<>();
        for (Member m : pool.snapshot().members()) {
            listed.put(m.upstream().key(), m.upstream());
        }
        List<Upstream> lastList = new ArrayList<>(listed.values());
        Map<String, UpstreamOverride> ov = new LinkedHashMap<>();
        Set<String> down = new HashSet<>();
        // The weight before a drain, by key; none for a drain of the store's weight.
        Map<String, Integer> saved = new HashMap<>();
        Map<String, Member> before = members(pool);

        for (Step step : steps) {
            String k = key(step.port());
            Map<String, Upstream> now = expected(listed, ov);
            switch (step.kind()) {
                case 0, 1 -> {
                    if (step.kind() == 0) {
                        Map<String, Upstream> next = new LinkedHashMap<>();
                        for (Entry e : step.store()) {
                            next.putIfAbsent(key(e.port()), upstream(e.port(), e.weight(), e.zone(), e.backup()));
                        }
                        lastList = new ArrayList<>(next.values());
                    }
                    store.tell(ResolutionResult.of(lastList));
                    listed = new LinkedHashMap<>();
                    for (Upstream u : lastList) {
                        listed.put(u.key(), u);
                    }
                    Map<String, Upstream> stored = listed;
                    ov.entrySet().removeIf(e -> (e.getValue().kind() == UpstreamOverride.Kind.WEIGHT
                            || e.getValue().kind() == UpstreamOverride.Kind.EDITED) && !stored.containsKey(e.getKey()));
                }
                case 2 -> store.tell(ResolutionResult.failed(new IOException("store away")));
                case 3 -> {
                    Upstream u = upstream(step.port(), step.weight(), step.zone(), false);
                    if (now.containsKey(k)) {
                        assertThrows(IllegalArgumentException.class, () -> pool.add(u));
                    } else {
                        pool.add(u);
                        ov.put(k, UpstreamOverride.added(u));
                    }
                }
                case 4 -> {
                    assertEquals(now.containsKey(k), pool.remove(k));
                    if (now.containsKey(k)) {
                        if (listed.containsKey(k)) {
                            ov.put(k, UpstreamOverride.removed());
                        } else {
                            ov.remove(k);
                        }
                    }
                }
                case 5, 6 -> {
                    int w = step.kind() == 6 ? 0 : step.weight();
                    Runnable change = () -> {
                        if (w == 0) {
                            pool.drain(k);
                        } else {
                            pool.weight(k, w);
                        }
                    };
                    if (!now.containsKey(k)) {
                        assertThrows(IllegalArgumentException.class, change::run);
                    } else {
                        change.run();
                        int was = now.get(k).weight();
                        if (w == 0 && was != 0 && ov.containsKey(k)) {
                            saved.put(k, was);
                        }
                        reweight(ov, k, w);
                    }
                }
                case 7 -> {
                    Upstream u = upstream(step.port(), step.weight(), step.zone(), false);
                    if (!now.containsKey(k)) {
                        assertThrows(IllegalArgumentException.class, () -> pool.update(u));
                    } else {
                        pool.update(u);
                        UpstreamOverride o = ov.get(k);
                        if (!u.sameAs(now.get(k))) {
                            ov.put(k, o != null && o.kind() == UpstreamOverride.Kind.ADDED
                                    ? UpstreamOverride.added(u) : UpstreamOverride.edited(u));
                        }
                    }
                }
                case 8 -> {
                    boolean had = ov.remove(k) != null;
                    assertEquals(had, pool.clearOverride(k));
                    if (had) {
                        saved.remove(k);
                    }
                }
                case 10 -> {
                    if (!now.containsKey(k)) {
                        assertThrows(IllegalArgumentException.class, () -> pool.undrain(k));
                    } else {
                        pool.undrain(k);
                        UpstreamOverride o = ov.get(k);
                        if (now.get(k).weight() != 0 || (o == null && !saved.containsKey(k))) {
                            // Not drained, or the store's own weight 0: left as it is.
                        } else if (saved.containsKey(k)) {
                            reweight(ov, k, saved.get(k));
                        } else if (o.kind() == UpstreamOverride.Kind.WEIGHT) {
                            ov.remove(k);
                        } else {
                            reweight(ov, k, 1);
                        }
                    }
                }
                default -> {
                    if (now.containsKey(k)) {
                        pool.markDown(k, true);
                        down.add(k);
                    }
                }
            }

            Map<String, Upstream> want = expected(listed, ov);
            down.retainAll(want.keySet());
            saved.keySet().removeIf(key -> !want.containsKey(key) || want.get(key).weight() != 0);
            PoolSnapshot s = pool.snapshot();
            Map<String, Member> after = members(pool);
            assertEquals(want.keySet(), after.keySet(), () -> step + ": " + s);
            for (Map.Entry<String, Member> e : after.entrySet()) {
                Member m = e.getValue();
                assertTrue(want.get(e.getKey()).sameAs(m.upstream()), () -> step + ": " + m.upstream() + " vs " + want);
                assertEquals(down.contains(e.getKey()), m.isAdminDown(), () -> step + ": admin down of " + m);
                Integer kept = saved.get(e.getKey());
                assertEquals(kept == null ? OptionalInt.empty() : OptionalInt.of(kept), m.weightBeforeDrain(),
                        () -> step + ": weight before the drain of " + m);
                Member old = before.get(e.getKey());
                if (old != null) {
                    assertSame(old, m, () -> step + ": " + m + " lost its identity");
                }
            }
            for (Map.Entry<String, Member> e : before.entrySet()) {
                assertEquals(!after.containsKey(e.getKey()), e.getValue().isRemoved(), () -> step + ": " + e);
            }
            // The snapshot shows the store's membership and the overrides as they are.
            assertEquals(listed.keySet(), s.store().keySet(), () -> step + ": " + s.store());
            for (Upstream u : listed.values()) {
                assertTrue(u.sameAs(s.store().get(u.key())), () -> step + ": " + s.store());
            }
            assertEquals(ov, s.overrides(), () -> step.toString());
            assertFalse(s.primaries().stream().anyMatch(m -> m.upstream().isBackup()));
            before = after;
        }
    }

    /** The model of {@link UpstreamPool#weight} on a pool that follows a store. */
    private static void reweight(Map<String, UpstreamOverride> ov, String k, int w) {
        UpstreamOverride o = ov.get(k);
        ov.put(k, o == null || o.kind() == UpstreamOverride.Kind.WEIGHT ? UpstreamOverride.weight(w)
                : o.kind() == UpstreamOverride.Kind.ADDED
                ? UpstreamOverride.added(o.upstream().orElseThrow().toBuilder().weight(w).build())
                : UpstreamOverride.edited(o.upstream().orElseThrow().toBuilder().weight(w).build()));
    }

    private static Map<String, Member> members(UpstreamPool pool) {
        Map<String, Member> out = new LinkedHashMap<>();
        Map<Member, Boolean> seen = new IdentityHashMap<>();
        for (Member m : pool.snapshot().members()) {
            assertTrue(seen.put(m, Boolean.TRUE) == null, "a member listed twice");
            out.put(m.upstream().key(), m);
        }
        return out;
    }
}
