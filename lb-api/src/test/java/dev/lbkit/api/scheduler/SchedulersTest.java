package dev.lbkit.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulersTest {
    static final List<String> BUILT_INS = List.of("rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh", "ring",
            "random", "p2c", "fo");

    @Test
    void listsEveryBuiltInAndTheThirdPartyOneFromTheClassPath() {
        assertTrue(Schedulers.names().containsAll(BUILT_INS), Schedulers.names().toString());
        assertTrue(Schedulers.names().contains("first"), "ServiceLoader found the test tree's provider");
        for (String name : BUILT_INS) {
            Scheduler s = Schedulers.get(name);
            assertEquals(name, s.name());
            assertTrue(!Schedulers.provider(name).description().isBlank());
        }
    }

    @Test
    void everySchedulerPicksFromAPoolAndNothingFromAnEmptyOne() {
        for (String name : Schedulers.names()) {
            UpstreamPool pool = UpstreamPool.builder().scheduler(name).add(Upstream.of("127.0.0.1", 1))
                    .add(Upstream.of("127.0.0.1", 2)).build();
            assertTrue(pool.pick(new PickContext().hashKey("k")) != null, name);
            // The documented result of an empty pool: no upstream available (null), never an exception.
            assertNull(UpstreamPool.builder().scheduler(name).build().pick(new PickContext()), name);
        }
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Schedulers.get("wwr"));
        assertTrue(e.getMessage().contains("'wwr'"), e.getMessage());
        for (String name : BUILT_INS) {
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> UpstreamPool.builder().scheduler("nope"));
    }

    @Test
    void optionsAreCheckedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("rr:table-size=5"));
        assertTrue(e.getMessage().contains("table-size") && e.getMessage().contains("rr"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("mh:tablesize=5"));
        assertTrue(e.getMessage().contains("known: table-size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("mh:table-size=x"));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("sh:table-size=100"));
        assertTrue(e.getMessage().contains("100"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("ring:points-per-weight=0"));
        assertTrue(e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("wrr:max-cycle=-1"));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        assertEquals("ring", Schedulers.parse("ring:points-per-weight=40").name());
    }

    @Test
    void persistOptionsWrapAnyScheduler() {
        Scheduler s = Schedulers.parse("wlc:persist=600,persist-v4-prefix=24,persist-max-entries=100");
        PersistentScheduler p = assertInstanceOf(PersistentScheduler.class, s);
        assertEquals("wlc", p.name());
        assertEquals(Duration.ofSeconds(600), p.timeout());
        assertEquals(24, p.ipv4PrefixLength());
        assertEquals(128, p.ipv6PrefixLength());
        assertEquals(100, p.maxEntries());
        assertEquals(Duration.ofMinutes(5), ((PersistentScheduler) Schedulers.parse("mh:persist=PT5M,table-size=251")).timeout());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("rr:persist=soon"));
        assertTrue(e.getMessage().contains("soon"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("rr:persist=300,persist-v4-prefix=33"));
        assertTrue(e.getMessage().contains("33"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("rr:persist=0"));
        assertTrue(e.getMessage().contains("PT0S"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("rr:persist-v4-prefix=24"));
        assertTrue(e.getMessage().contains("persist"), e.getMessage());
    }

    @Test
    void providerRegisteredByHandWinsByPriority() {
        SchedulerProvider mine = new SchedulerProvider() {
            @Override
            public String name() {
                return "by-hand";
            }

            @Override
            public Scheduler newScheduler(SchedulerOptions options) {
                return Schedulers.get("fo");
            }
        };
        Schedulers.register(mine);
        assertSame(mine, Schedulers.provider("by-hand"));
        SchedulerProvider low = new SchedulerProvider() {
            @Override
            public String name() {
                return "by-hand";
            }

            @Override
            public int priority() {
                return 1;
            }

            @Override
            public Scheduler newScheduler(SchedulerOptions options) {
                throw new AssertionError();
            }
        };
        Schedulers.register(low);
        assertSame(mine, Schedulers.provider("by-hand"), "lower priority does not replace");
    }
}
