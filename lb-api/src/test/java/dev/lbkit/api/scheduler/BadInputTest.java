package dev.lbkit.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Each bad input of the issue gives a clear IllegalArgumentException naming the value, or the documented result. */
class BadInputTest {

    @Test
    void negativeWeight() {
        expect("-3", () -> Upstream.builder("127.0.0.1", 80).weight(-3));
        expect("-3", () -> Upstream.parse("127.0.0.1:80:-3"));
    }

    @Test
    void portOutsideRange() {
        expect("0", () -> Upstream.of("127.0.0.1", 0));
        expect("65536", () -> Upstream.of("127.0.0.1", 65536));
        expect("70000", () -> Upstream.parse("127.0.0.1:70000"));
    }

    @Test
    void emptyPoolHasNoUpstreamAvailable() {
        for (String name : SchedulersTest.BUILT_INS) {
            assertNull(UpstreamPool.builder().scheduler(name).build().pick(new PickContext()), name);
            assertNull(UpstreamPool.builder().scheduler(name + ":persist=10").build()
                    .pick(new PickContext().clientAddress(java.net.InetAddress.getLoopbackAddress())), name);
        }
    }

    @Test
    void duplicateUpstream() {
        expect("127.0.0.1:80", () -> UpstreamPool.builder().add("127.0.0.1", 80).add("127.0.0.1", 80));
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 80));
        expect("127.0.0.1:80", () -> pool.add(Upstream.of("127.0.0.1", 80)));
        expect("127.0.0.1:80", () -> pool.replaceAll(java.util.List.of(Upstream.of("127.0.0.1", 80), Upstream.of("127.0.0.1", 80))));
    }

    @Test
    void nonPrimeMaglevTableSize() {
        expect("65536", () -> Schedulers.parse("mh:table-size=65536"));
        expect("1", () -> Schedulers.parse("mh:table-size=1"));
        expect("20000000", () -> Schedulers.parse("mh:table-size=20000000"));
    }

    @Test
    void unknownSchedulerName() {
        expect("'lcx'", () -> Schedulers.get("lcx"));
        expect("'lcx'", () -> Schedulers.parse("lcx:persist=1"));
    }

    @Test
    void badPersistenceSettings() {
        Scheduler rr = Schedulers.get("rr");
        expect("PT-1S", () -> PersistentScheduler.wrap(rr, Duration.ofSeconds(-1)));
        expect("33", () -> PersistentScheduler.wrap(rr, Duration.ofSeconds(1), 33));
        expect("129", () -> PersistentScheduler.builder(rr).ipv6PrefixLength(129));
        expect("0", () -> PersistentScheduler.builder(rr).maxEntries(0));
    }

    private static void expect(String value, Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(value), "message '" + x.getMessage() + "' should name " + value);
    }
}
