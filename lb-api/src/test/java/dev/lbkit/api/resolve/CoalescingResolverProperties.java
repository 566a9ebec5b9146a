package dev.lbkit.api.resolve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.Upstream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
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
