package dev.lbkit.l7;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.FakeTicker;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** limit_req and limit_conn per route, over real sockets. */
class RouteLimitsTest {
    private static final FakeTicker NO_TICKER = null;

    private static HttpBalancer start(TestBackend b, FakeTicker ticker, UnaryOperator<Route.Builder> limits) {
        UpstreamPool.Builder pb = UpstreamPool.builder().name("g").add(Fixtures.upstream(b.port()));
        if (ticker != null) {
            pb.ticker(ticker);
        }
        UpstreamPool pool = pb.build();
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(2)
                .route(limits.apply(Route.builder("/").group(UpstreamGroup.of(pool))).build()).build().start();
    }

    private static HttpResponse<String> get(HttpBalancer lb, String path, String key) throws Exception {
        return getAsync(lb, path, key).get(20, TimeUnit.SECONDS);
    }

    private static CompletableFuture<HttpResponse<String>> getAsync(HttpBalancer lb, String path, String key) {
        HttpRequest.Builder r = HttpRequest.newBuilder(Fixtures.uri(lb, path)).timeout(Duration.ofSeconds(20));
        if (key != null) {
            r.header("X-Key", key);
        }
        return Fixtures.CLIENT.sendAsync(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static TrafficStats stats(HttpBalancer lb) {
        return lb.stats().route("/");
    }

    @Test
    void aConcurrencyLimitRefusesTheRequestOverItAndAcceptsAgainOnceOneEnds() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(800)).build());
                HttpBalancer lb = start(b, NO_TICKER, r -> r.limit(ConcurrencyLimit.of(1).build()))) {
            CompletableFuture<HttpResponse<String>> first = getAsync(lb, "/1", null);
            Await.until(() -> b.requestCount() == 1);
            HttpResponse<String> second = get(lb, "/2", null);
            assertEquals(503, second.statusCode());
            assertEquals(200, first.get(20, TimeUnit.SECONDS).statusCode());
            Await.until(() -> stats(lb).inFlight() == 0);
            assertEquals(200, get(lb, "/3", null).statusCode());
            assertEquals(1, stats(lb).limitRejected());
            assertEquals(3, stats(lb).requests());
            assertEquals(1, stats(lb).responses(5));
            assertEquals(2, b.requestCount());
        }
    }

    @Test
    void clientAddressesAreSeparateKeys() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(800)).build());
                HttpBalancer lb = start(b, NO_TICKER, r -> r.limit(ConcurrencyLimit.of(1).build()))) {
            try (Socket one = Fixtures.from("127.0.0.1", lb); Socket other = Fixtures.from("127.0.0.2", lb);
                    Socket oneAgain = Fixtures.from("127.0.0.1", lb)) {
                Fixtures.send(one, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
                Await.until(() -> b.requestCount() == 1);
                Fixtures.send(oneAgain, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(Fixtures.readResponse(oneAgain.getInputStream()).startsWith("HTTP/1.1 503 "));
                Fixtures.send(other, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(Fixtures.readResponse(other.getInputStream()).startsWith("HTTP/1.1 200 "));
                assertTrue(Fixtures.readResponse(one.getInputStream()).startsWith("HTTP/1.1 200 "));
            }
        }
    }

    @Test
    void withoutBurstTheSecondImmediateRequestIsRefusedUntilTheRateAllowsIt() throws Exception {
        FakeTicker t = new FakeTicker();
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(b, t, r -> r.limit(RequestRateLimit.perSecond(2).build()))) {
            assertEquals(200, get(lb, "/", null).statusCode());
            assertEquals(503, get(lb, "/", null).statusCode());
            t.advance(Duration.ofMillis(499));
            assertEquals(503, get(lb, "/", null).statusCode());
            t.advance(Duration.ofMillis(1));
            assertEquals(200, get(lb, "/", null).statusCode());
            assertEquals(2, stats(lb).limitRejected());
            assertEquals(2, b.requestCount());
        }
    }

    @Test
    void aBurstIsDelayedToTheRateAndWhatIsOverItRefused() throws Exception {
        FakeTicker t = new FakeTicker(); // frozen: the delays come from the excess alone
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(b, t, r -> r.limit(RequestRateLimit.perSecond(4).burst(2)
                        .key(HashKey.header("X-Key")).build()))) {
            assertEquals(200, get(lb, "/", "k").statusCode());
            long start = System.nanoTime();
            List<CompletableFuture<Long>> delayed = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                delayed.add(getAsync(lb, "/", "k").thenApply(r -> {
                    assertEquals(200, r.statusCode());
                    return (System.nanoTime() - start) / 1_000_000;
                }));
            }
            Await.until(() -> stats(lb).limitDelayed() == 2);
            assertEquals(503, get(lb, "/", "k").statusCode());
            List<Long> ms = new ArrayList<>();
            for (CompletableFuture<Long> f : delayed) {
                ms.add(f.get(20, TimeUnit.SECONDS));
            }
            ms.sort(null);
            // The k-th excess request waits k / rate: 250 and 500 ms (a little less allowed for rounding).
            assertTrue(ms.get(0) >= 240, "first delayed answered after " + ms);
            assertTrue(ms.get(1) >= 490, "second delayed answered after " + ms);
            assertEquals(1, stats(lb).limitRejected());
            assertEquals(3, b.requestCount());
        }
    }

    @Test
    void nodelayPassesTheBurstAtOnceAndDelayNPassesTheFirstN() throws Exception {
        FakeTicker t = new FakeTicker();
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(b, t, r -> r
                        .limit(RequestRateLimit.perSecond(1).burst(3).nodelay().key(HashKey.header("X-Key")).build())
                        .limit(RequestRateLimit.perMinute(60).burst(3).delay(2).key(HashKey.header("X-Other"))
                                .build()))) {
            for (int i = 0; i < 4; i++) {
                assertEquals(200, get(lb, "/", "n").statusCode(), "request " + i);
            }
            assertEquals(503, get(lb, "/", "n").statusCode());
            assertEquals(0, stats(lb).limitDelayed());
            assertEquals(1, stats(lb).limitRejected());
            // delay=2: the first two excess requests pass at once, the third waits.
            for (int i = 0; i < 3; i++) {
                HttpRequest r = HttpRequest.newBuilder(Fixtures.uri(lb, "/")).header("X-Other", "d")
                        .timeout(Duration.ofSeconds(20)).build();
                assertEquals(200, Fixtures.CLIENT.send(r, HttpResponse.BodyHandlers.ofString()).statusCode());
                assertEquals(0, stats(lb).limitDelayed());
            }
            HttpRequest r = HttpRequest.newBuilder(Fixtures.uri(lb, "/")).header("X-Other", "d")
                    .timeout(Duration.ofSeconds(20)).build();
            assertEquals(200, Fixtures.CLIENT.send(r, HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(1, stats(lb).limitDelayed());
        }
    }

    @Test
    void aRefusalHasTheConfiguredStatusKeepsTheConnectionAndDiscardsTheBodyAndIsNeverInvited() throws Exception {
        FakeTicker t = new FakeTicker();
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(b, t, r -> r.limit(RequestRateLimit.perSecond(1).status(429).build()));
                Socket s = Fixtures.from("127.0.0.1", lb)) {
            Fixtures.send(s, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(Fixtures.readResponse(s.getInputStream()).startsWith("HTTP/1.1 200 "));
            Fixtures.send(s, "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 22\r\n\r\nGET /smuggled HTTP/1.1");
            String refused = Fixtures.readResponse(s.getInputStream());
            assertTrue(refused.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), refused);
            assertFalse(refused.toLowerCase().contains("connection: close"), refused);
            t.advance(Duration.ofSeconds(1));
            Fixtures.send(s, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(Fixtures.readResponse(s.getInputStream()).startsWith("HTTP/1.1 200 "));
            // A refused request is never invited to send its body (nginx's special responses mark the
            // expectation tested): the status at once; the body the client then sends is dropped.
            Fixtures.send(s, "PUT /d HTTP/1.1\r\nHost: x\r\nContent-Length: 22\r\nExpect: 100-continue\r\n\r\n");
            String uninvited = Fixtures.readResponse(s.getInputStream());
            assertTrue(uninvited.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), uninvited);
            Fixtures.send(s, "GET /smuggled HTTP/1.1");
            t.advance(Duration.ofSeconds(1));
            Fixtures.send(s, "GET /e HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(Fixtures.readResponse(s.getInputStream()).startsWith("HTTP/1.1 200 "));
            assertEquals(List.of("/a", "/c", "/e"),
                    b.requests().stream().map(dev.lbkit.testing.RecordedRequest::target).toList());
        }
    }

    /**
     * nginx sends "100 Continue" when it starts reading the body, after limit_req's delay: a delayed request
     * is invited only when its delay ends, and the client body timeout (shorter than the delay here) does
     * not run while the client waits for that invitation.
     */
    @Test
    void aDelayedRequestIsInvitedToSendItsBodyOnlyWhenItsDelayEnds() throws Exception {
        FakeTicker t = new FakeTicker(); // frozen: the delay comes from the excess alone
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(b, t, r -> r.limit(RequestRateLimit.perSecond(1).burst(1)
                        .key(HashKey.header("X-Key")).build())
                        .timeouts(ProxyTimeouts.builder().clientBody(Duration.ofMillis(300)).build()));
                Socket s = Fixtures.from("127.0.0.1", lb)) {
            assertEquals(200, get(lb, "/", "k").statusCode());
            long start = System.nanoTime();
            Fixtures.send(s, "PUT /up HTTP/1.1\r\nHost: x\r\nX-Key: k\r\nContent-Length: 4\r\n"
                    + "Expect: 100-continue\r\n\r\n");
            String interim = Fixtures.readResponse(s.getInputStream());
            long waited = (System.nanoTime() - start) / 1_000_000;
            assertTrue(interim.startsWith("HTTP/1.1 100 Continue\r\n"), interim);
            // The excess request waits 1 / rate: 1000 ms (a little less allowed for rounding).
            assertTrue(waited >= 950, "invited after " + waited + " ms");
            assertEquals(1, stats(lb).limitDelayed());
            Fixtures.send(s, "data");
            String r = Fixtures.readResponse(s.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 200 ") && r.endsWith("ok"), r);
            assertEquals("data", b.requests().get(1).bodyText());
            assertTrue(b.requests().get(1).header("Expect").isEmpty());
        }
    }

    @Test
    void aDryRunPassesEverythingAndCountsIt() throws Exception {
        FakeTicker t = new FakeTicker();
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(b, t, r -> r.limit(RequestRateLimit.perSecond(1).dryRun(true).build())
                        .limit(ConcurrencyLimit.of(1).dryRun(true).build()))) {
            for (int i = 0; i < 3; i++) {
                assertEquals(200, get(lb, "/", null).statusCode());
            }
            assertEquals(2, stats(lb).limitDryRun());
            assertEquals(0, stats(lb).limitRejected());
            assertEquals(0, stats(lb).limitDelayed());
        }
    }

    @Test
    void aFullTableEvictsTheLeastRecentlyUsedKey() throws Exception {
        FakeTicker t = new FakeTicker();
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(b, t, r -> r.limit(RequestRateLimit.perMinute(1).maxKeys(2)
                        .key(HashKey.header("X-Key")).build()))) {
            assertEquals(200, get(lb, "/", "a").statusCode());
            assertEquals(200, get(lb, "/", "b").statusCode());
            assertEquals(503, get(lb, "/", "a").statusCode()); // a is now the most recently used
            assertEquals(200, get(lb, "/", "c").statusCode()); // evicts b
            assertEquals(503, get(lb, "/", "a").statusCode());
            assertEquals(200, get(lb, "/", "b").statusCode()); // b starts again; evicts c
            assertEquals(200, get(lb, "/", "c").statusCode());
        }
    }

    @Test
    void aDelayedRequestWhoseClientLeavesIsDroppedAndFreesItsConcurrencySlot() throws Exception {
        FakeTicker t = new FakeTicker();
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(b, t, r -> r
                        .limit(RequestRateLimit.perMinute(1).burst(1).key(HashKey.header("X-Key")).build())
                        .limit(ConcurrencyLimit.of(1).key(HashKey.header("X-C")).build()))) {
            assertEquals(200, get(lb, "/", "k").statusCode());
            try (Socket s = Fixtures.from("127.0.0.1", lb)) {
                Fixtures.send(s, "GET /waits-a-minute HTTP/1.1\r\nHost: x\r\nX-Key: k\r\nX-C: c\r\n\r\n");
                Await.until(() -> stats(lb).limitDelayed() == 1 && stats(lb).inFlight() == 1);
                HttpRequest busy = HttpRequest.newBuilder(Fixtures.uri(lb, "/")).header("X-C", "c")
                        .timeout(Duration.ofSeconds(20)).build();
                assertEquals(503, Fixtures.CLIENT.send(busy, HttpResponse.BodyHandlers.ofString()).statusCode());
            }
            Await.until(() -> stats(lb).inFlight() == 0);
            HttpRequest free = HttpRequest.newBuilder(Fixtures.uri(lb, "/")).header("X-C", "c")
                    .timeout(Duration.ofSeconds(20)).build();
            assertEquals(200, Fixtures.CLIENT.send(free, HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(2, b.requestCount());
            assertEquals(1, stats(lb).responses(5));
        }
    }

    @Test
    void requestsWithoutTheKeyAreNotLimited() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(b, new FakeTicker(), r -> r
                        .limit(RequestRateLimit.perMinute(1).key(HashKey.header("X-Key")).build())
                        .limit(ConcurrencyLimit.of(1).key(HashKey.cookie("sid")).build()))) {
            for (int i = 0; i < 3; i++) {
                assertEquals(200, get(lb, "/", null).statusCode());
            }
            assertEquals(200, get(lb, "/", "k").statusCode());
            assertEquals(503, get(lb, "/", "k").statusCode());
        }
    }

    @Test
    void badValuesAreRejectedNamingThem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RequestRateLimit.perSecond(0))
                .getMessage().contains("requests"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RequestRateLimit.perSecond(1).burst(-1))
                .getMessage().contains("burst"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RequestRateLimit.perSecond(1).delay(-1))
                .getMessage().contains("delay"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RequestRateLimit.perSecond(1).status(200))
                .getMessage().contains("status"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RequestRateLimit.perSecond(1).maxKeys(0))
                .getMessage().contains("maxKeys"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConcurrencyLimit.of(0))
                .getMessage().contains("max"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConcurrencyLimit.of(1).status(600))
                .getMessage().contains("status"));
        assertThrows(NullPointerException.class, () -> ConcurrencyLimit.of(1).key(null));
        assertEquals(500, RequestRateLimit.perMinute(30).build().requestsPerSecond());
        try (UpstreamPool pool = UpstreamPool.builder().add(Upstream.of("127.0.0.1", 1)).build()) {
            Route.Builder r = Route.builder("/").group(UpstreamGroup.of(pool));
            for (int i = 0; i < Route.Builder.MAX_RATE_LIMITS; i++) {
                r.limit(RequestRateLimit.perSecond(1).build());
            }
            assertTrue(assertThrows(IllegalArgumentException.class, () -> r.limit(RequestRateLimit.perSecond(1).build()))
                    .getMessage().contains("at most 64 rate limits"));
        }
    }

}
