package dev.lbkit.api.resolve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.Upstream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever the events, the last result told is the model's membership: by id, first id per address. */
class CoalescingResolverProperties {

    /** One store event: 0 put, 1 remove, 2 bad value, 3 store lost. */
    record Event(int kind, int id, int port, int weight) {}

    @Provide
    Arbitrary<List<Event>> events() {
        return Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 7),
                Arbitraries.integers().between(1, 5), Arbitraries.integers().between(0, 3)).as(Event::new)
                .list().ofMaxSize(40);
    }

    @Property(tries = 100)
    void theLastResultToldIsTheModelsMembership(@ForAll("events") List<Event> events) throws Exception {
        try (CoalescingResolverTest.Manual r = new CoalescingResolverTest.Manual(Duration.ofMillis(1))) {
            AtomicReference<ResolutionResult> last = new AtomicReference<>();
            r.subscribe(last::set);
            r.resync(Map.of());
            TreeMap<String, Upstream> model = new TreeMap<>();
            boolean stale = false;
            for (Event e : events) {
                String id = "id" + e.id();
                switch (e.kind()) {
                    case 0 -> {
                        Upstream u = Upstream.builder("127.0.0.1", e.port()).weight(e.weight()).build();
                        r.put(id, u);
                        model.put(id, u);
                    }
                    case 1 -> {
                        r.remove(id);
                        model.remove(id);
                    }
                    case 2 -> {
                        r.reject(id, "bad " + e.port(), "bad");
                        model.remove(id);
                    }
                    default -> {
                        r.stale(new IOException("lost"));
                        stale = true;
                    }
                }
            }
            List<Upstream> expected = new ArrayList<>();
            Set<String> keys = new HashSet<>();
            for (Upstream u : model.values()) {
                if (keys.add(u.key())) {
                    expected.add(u);
                }
            }
            boolean expectStale = stale;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (!matches(last.get(), expected, expectStale) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            ResolutionResult told = last.get();
            assertEquals(expected.size(), told.upstreams().size(), () -> told + " vs " + expected);
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(true, expected.get(i).sameAs(told.upstreams().get(i)), told + " vs " + expected);
            }
            assertEquals(expectStale, told.isStale());
        }
    }

    /** One change of the store: 0 a good value, 1 a bad value, 2 deleted; 3 the store is lost, 4 a complete read. */
    record Change(int kind, int id, int variant) {}

    @Provide
    Arbitrary<List<Change>> changes() {
        // Few ids and values, so that ids come back with a value they held before.
        return Combinators.combine(Arbitraries.integers().between(0, 4), Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(1, 2)).as(Change::new).list().ofMaxSize(40);
    }

    /**
     * A bad entry counts once per value the resolver learns an id holds, whether it learns of the
     * changes one by one or from a complete read after the store was lost (changes made meanwhile, a
     * deletion included, are missed until that read).
     */
    @Property(tries = 200)
    void badEntriesCountOncePerValueLearnedWhetherChangesAreSeenOrMissed(@ForAll("changes") List<Change> changes) {
        try (CoalescingResolverTest.Manual r = new CoalescingResolverTest.Manual(Duration.ofMillis(1))) {
            r.subscribe(x -> { });
            r.resync(Map.of());
            TreeMap<String, String> store = new TreeMap<>(); // id -> value; "good" or a bad text
            Map<String, String> known = new HashMap<>(); // the bad values the resolver knows of, by id
            long expected = 0;
            boolean away = false;
            for (Change c : changes) {
                String id = "id" + c.id();
                switch (c.kind()) {
                    case 0, 1, 2 -> {
                        String value = c.kind() == 0 ? "good" : c.kind() == 1 ? "bad " + c.variant() : null;
                        if (value == null) {
                            store.remove(id);
                        } else {
                            store.put(id, value);
                        }
                        if (!away) {
                            if (c.kind() == 1) {
                                expected += value.equals(known.put(id, value)) ? 0 : 1;
                                r.reject(id, value, "bad");
                            } else {
                                known.remove(id);
                                if (c.kind() == 0) {
                                    r.put(id, Upstream.of("127.0.0.1", 1 + c.id()));
                                } else {
                                    r.remove(id);
                                }
                            }
                        }
                    }
                    case 3 -> {
                        r.stale(new IOException("lost"));
                        away = true;
                    }
                    default -> {
                        Map<String, Upstream> good = new TreeMap<>();
                        Map<String, String> bad = new HashMap<>();
                        store.forEach((k, v) -> {
                            if (v.equals("good")) {
                                good.put(k, Upstream.of("127.0.0.1", 1 + Integer.parseInt(k.substring(2))));
                            } else {
                                bad.put(k, v);
                                r.reject(k, v, "bad");
                            }
                        });
                        for (Map.Entry<String, String> b : bad.entrySet()) {
                            expected += b.getValue().equals(known.get(b.getKey())) ? 0 : 1;
                        }
                        r.resync(good);
                        known = bad;
                        away = false;
                    }
                }
            }
            assertEquals(expected, r.rejectedEntries(), changes::toString);
        }
    }

    private static boolean matches(ResolutionResult r, List<Upstream> expected, boolean stale) {
        if (r == null || r.isStale() != stale || r.upstreams().size() != expected.size()) {
            return false;
        }
        for (int i = 0; i < expected.size(); i++) {
            if (!expected.get(i).sameAs(r.upstreams().get(i))) {
                return false;
            }
        }
        return true;
    }
}
