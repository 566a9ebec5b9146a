package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.l7.ConcurrencyLimit;
import dev.lbkit.l7.HashKey;
import dev.lbkit.l7.RequestRateLimit;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.testing.FakeTicker;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The leaky bucket of {@link RouteLimits} against a model of nginx's limit_req, and its cost per request. */
class RouteLimitsProperties {

    /**
     * nginx's algorithm as its documentation and source state it, written out on its own: per key, the
     * excess in thousandths of a request; a new key's request leaves it at 0; else {@code excess - rate*ms/1000
     * + 1000}, at least 0, refused (and not stored) over the burst; a request within the burst waits
     * {@code (excess - delay) / rate} when its excess is over the delay.
     */
    private static final class Model {
        final long rate;
        final long burst;
        final long delay;
        final Map<Integer, long[]> keys = new HashMap<>();

        Model(long rate, long burst, long delay) {
            this.rate = rate;
            this.burst = burst;
            this.delay = delay;
        }

        /** -1: refused; else the delay in ms. */
        long request(int key, long nowMs) {
            long[] s = keys.get(key);
            if (s == null) {
                keys.put(key, new long[] {0, nowMs});
                return 0;
            }
            long e = s[0] - rate * (nowMs - s[1]) / 1000 + 1000;
            if (e < 0) {
                e = 0;
            }
            if (e > burst) {
                return -1;
            }
            s[0] = e;
            s[1] = nowMs;
            return e <= delay ? 0 : (e - delay) * 1000 / rate;
        }
    }

    @Property(tries = 300)
    void decisionsAreNginxs(@ForAll @IntRange(min = 1, max = 50) int requests, @ForAll boolean perMinute,
            @ForAll @IntRange(min = 0, max = 6) int burst, @ForAll @IntRange(min = 0, max = 7) int delay,
            @ForAll @Size(min = 1, max = 60) List<@IntRange(min = 0, max = 1500) Integer> gapsMs,
            @ForAll @Size(min = 60, max = 60) List<@IntRange(min = 0, max = 2) Integer> keyOf) {
        RequestRateLimit.Builder b = perMinute ? RequestRateLimit.perMinute(requests)
                : RequestRateLimit.perSecond(requests);
        b.burst(burst).key(HashKey.header("X-Key"));
        if (delay == 7) {
            b.nodelay();
        } else {
            b.delay(delay);
        }
        RequestRateLimit limit = b.status(429).build();
        FakeTicker t = new FakeTicker();
        RouteLimits limits = limits(t, limit, null);
        Model m = new Model(limit.requestsPerSecond(), burst * 1000L,
                delay == 7 ? Long.MAX_VALUE : delay * 1000L);
        long start = t.nanoTime() / 1_000_000;
        KeySpan span = new KeySpan();
        LimitTable.Entry[] held = new LimitTable.Entry[0];
        HttpHeaders h = new DefaultHttpHeaders();
        List<Long> got = new ArrayList<>();
        List<Long> want = new ArrayList<>();
        for (int i = 0; i < gapsMs.size(); i++) {
            t.advance(Duration.ofMillis(gapsMs.get(i)));
            int key = keyOf.get(i);
            h.set("X-Key", "k" + key);
            long r = limits.admit(null, span, "/", "/", false, h, held);
            got.add(r == -429 ? -1 : r);
            want.add(m.request(key, t.nanoTime() / 1_000_000 - start));
        }
        assertEquals(want, got);
    }

    @Test
    void concurrencyIsCountedPerKeyAndGivenBack() {
        RouteLimits limits = limits(new FakeTicker(), null, ConcurrencyLimit.of(2).build());
        KeySpan span = new KeySpan();
        HttpHeaders h = new DefaultHttpHeaders();
        InetAddress a = InetAddress.getLoopbackAddress();
        LimitTable.Entry[] one = new LimitTable.Entry[1];
        LimitTable.Entry[] two = new LimitTable.Entry[1];
        LimitTable.Entry[] three = new LimitTable.Entry[1];
        assertEquals(0, limits.admit(a, span, "/", "/", false, h, one));
        assertEquals(0, limits.admit(a, span, "/", "/", false, h, two));
        assertEquals(-503, limits.admit(a, span, "/", "/", false, h, three));
        assertEquals(null, three[0]);
        RouteLimits.release(one);
        assertEquals(0, limits.admit(a, span, "/", "/", false, h, three));
    }

    @Test
    void aFullTableOfKeysInFlightRefusesANewKey() {
        RouteLimits limits = limits(new FakeTicker(), null, ConcurrencyLimit.of(1).maxKeys(1)
                .key(HashKey.header("X-Key")).build());
        KeySpan span = new KeySpan();
        HttpHeaders h = new DefaultHttpHeaders().set("X-Key", "a");
        LimitTable.Entry[] held = new LimitTable.Entry[1];
        assertEquals(0, limits.admit(null, span, "/", "/", false, h, held));
        h.set("X-Key", "b");
        assertEquals(-503, limits.admit(null, span, "/", "/", false, h, new LimitTable.Entry[1]));
        RouteLimits.release(held);
        assertEquals(0, limits.admit(null, span, "/", "/", false, h, new LimitTable.Entry[1]));
    }

    @Test
    void admittingKnownKeysAllocatesNothing() {
        FakeTicker t = new FakeTicker();
        Duration ms = Duration.ofMillis(1);
        RouteLimits limits = limits(t, RequestRateLimit.perSecond(1_000_000).burst(10)
                .key(HashKey.header("X-Key")).build(), ConcurrencyLimit.of(5).build());
        KeySpan span = new KeySpan();
        CompactHeaders h = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        byte[] user = "u42".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        io.netty.util.AsciiString name = io.netty.util.AsciiString.cached("x-key");
        InetAddress a = InetAddress.getLoopbackAddress();
        LimitTable.Entry[] held = new LimitTable.Entry[1];
        long[] last = new long[1];
        Runnable request = () -> {
            t.advance(ms);
            h.refill(1, user.length);
            h.addLazy(name, user, 0, user.length);
            last[0] = limits.admit(a, span, "/", "/", false, h, held);
            RouteLimits.release(held);
        };
        long perRequest = ThreadAllocation.perRun(request, 20_000);
        assertTrue(last[0] >= 0);
        assertTrue(perRequest < 1, "bytes allocated per request: " + perRequest);
    }

    private static RouteLimits limits(FakeTicker t, RequestRateLimit rate, ConcurrencyLimit conc) {
        UpstreamPool pool = UpstreamPool.builder().ticker(t).add(Upstream.of("127.0.0.1", 8081)).build();
        Route.Builder r = Route.builder("/").group(UpstreamGroup.of(pool));
        if (rate != null) {
            r.limit(rate);
        }
        if (conc != null) {
            r.limit(conc);
        }
        return RouteLimits.of(r.build(), new TrafficCounters("/"), RouteLimits::newTable);
    }
}
