package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.get;
import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.BlackHole;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetryTest {
    private static final ProxyTimeouts FAST = ProxyTimeouts.builder().read(Duration.ofMillis(200)).build();
    private static final Script HANG = Script.builder().mode(Script.Mode.NEVER_ANSWER).build();

    private static UpstreamPool pool(RecordingPolicy p, TestBackend... bs) {
        UpstreamPool.Builder b = UpstreamPool.builder().healthPolicy(p);
        for (TestBackend t : bs) {
            b.add(upstream(t.port()));
        }
        return b.build();
    }

    private static HttpResponse<String> post(HttpBalancer lb, String body) throws IOException, InterruptedException {
        return Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/p")).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void timeoutIsRetriedOnTheNextUpstreamAndCounted() throws Exception {
        RecordingPolicy rec = new RecordingPolicy();
        try (TestBackend slow = TestBackend.start(HANG); TestBackend ok = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = pool(rec, slow, ok);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.DEFAULT)) {
            HttpResponse<String> r = get(lb, "/");
            HttpResponse<String> r2 = get(lb, "/");
            assertEquals(200, r.statusCode());
            assertEquals("ok", r.body());
            assertEquals("ok", r2.body());
            assertTrue(rec.outcomes.contains(slow.port() + " TIMEOUT"), rec.outcomes.toString());
            assertTrue(rec.outcomes.contains(ok.port() + " SUCCESS"), rec.outcomes.toString());
            long retries = lb.stats().route("/").retries();
            assertTrue(retries == 1 || retries == 2, "retries " + retries);
            assertEquals(retries, slow.requestCount());
        }
    }

    @Test
    void postIsNotRetriedAfterItMayHaveReachedTheUpstreamUnlessConfigured() throws Exception {
        RecordingPolicy rec = new RecordingPolicy();
        try (TestBackend slow = TestBackend.start(HANG); TestBackend ok = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = pool(rec, slow, ok);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.DEFAULT)) {
            // Round robin sends one of the two to the silent upstream; that one is not retried.
            int a = post(lb, "x").statusCode();
            int b = post(lb, "x").statusCode();
            assertEquals(java.util.Set.of(200, 504), java.util.Set.of(a, b));
            assertEquals(1, ok.requestCount());
        }
        try (TestBackend slow = TestBackend.start(HANG); TestBackend ok = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = pool(rec, slow, ok);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.builder()
                        .conditions(NextUpstream.ERROR, NextUpstream.TIMEOUT, NextUpstream.NON_IDEMPOTENT).build())) {
            assertEquals(200, post(lb, "body!").statusCode());
            assertEquals(200, post(lb, "body!").statusCode());
            assertEquals(2, ok.requestCount());
            assertEquals("body!", ok.requests().get(1).bodyText());
        }
    }

    @Test
    void postIsRetriedAfterAConnectError() throws Exception {
        try (TestBackend ok = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = UpstreamPool.of(upstream(Fixtures.deadPort()), upstream(ok.port()));
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.DEFAULT)) {
            for (int i = 0; i < 2; i++) {
                assertEquals(200, post(lb, "b" + i).statusCode());
            }
            assertEquals(List.of("b0", "b1"), ok.requests().stream().map(r -> r.bodyText()).toList());
        }
    }

    @Test
    void postIsRetriedAfterAConnectTimeout() throws Exception {
        // A listener whose accept queue is full: further SYNs are dropped, so connecting hangs. As nginx
        // (request_sent is 0), a connect timeout moves even a POST on; it still counts as a timeout.
        RecordingPolicy rec = new RecordingPolicy();
        ProxyTimeouts connect = ProxyTimeouts.builder().connect(Duration.ofMillis(200)).build();
        try (BlackHole full = BlackHole.start(); TestBackend ok = TestBackend.start(Script.ok("ok"))) {
            try (UpstreamPool pool = UpstreamPool.builder().healthPolicy(rec).add(upstream(full.port()))
                            .add(upstream(ok.port())).build();
                    HttpBalancer lb = Fixtures.start(pool, connect, RetryPolicy.DEFAULT)) {
                for (int i = 0; i < 2; i++) {
                    assertEquals(200, post(lb, "b" + i).statusCode());
                }
                assertEquals(List.of("b0", "b1"), ok.requests().stream().map(r -> r.bodyText()).toList());
                assertTrue(rec.outcomes.contains(full.port() + " TIMEOUT"), rec.outcomes.toString());
            }
            // No upstream left to try: a timeout's 504.
            try (UpstreamPool pool = UpstreamPool.of(upstream(full.port()));
                    HttpBalancer lb = Fixtures.start(pool, connect, RetryPolicy.DEFAULT)) {
                assertEquals(504, post(lb, "b").statusCode());
            }
        }
    }

    @Test
    void statusIsRetriedOnlyWhenListedAndCountedOnlyThen() throws Exception {
        RecordingPolicy rec = new RecordingPolicy();
        try (TestBackend bad = TestBackend.start(Script.builder().status(503).body("busy").build());
                TestBackend ok = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = pool(rec, bad, ok);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.DEFAULT)) {
            // Not listed: passed through, and a success as far as health goes.
            HttpResponse<String> first = get(lb, "/");
            HttpResponse<String> second = get(lb, "/");
            assertEquals(java.util.Set.of(503, 200), java.util.Set.of(first.statusCode(), second.statusCode()));
            assertEquals("busy", (first.statusCode() == 503 ? first : second).body());
            assertEquals(java.util.Set.of(bad.port() + " SUCCESS", ok.port() + " SUCCESS"),
                    java.util.Set.copyOf(rec.outcomes));
        }
        rec.outcomes.clear();
        try (TestBackend bad = TestBackend.start(Script.builder().status(503).body("busy").build());
                TestBackend ok = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = pool(rec, bad, ok);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.builder()
                        .conditions(NextUpstream.ERROR, NextUpstream.HTTP_503).build())) {
            assertEquals("ok", get(lb, "/").body());
            assertEquals("ok", get(lb, "/").body());
            assertTrue(rec.outcomes.contains(bad.port() + " ERROR_STATUS"), rec.outcomes.toString());
            // The answer that was dropped for a retry does not leave its connection behind.
            Fixtures.await(() -> bad.openConnections() == 0, Duration.ofSeconds(2));
        }
    }

    @Test
    void fourOhFourIsRetriedWhenListedButNeverCounted() throws Exception {
        RecordingPolicy rec = new RecordingPolicy();
        try (TestBackend missing = TestBackend.start(Script.builder().status(404).body("nope").build());
                TestBackend ok = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = pool(rec, missing, ok);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.builder()
                        .conditions(NextUpstream.HTTP_404).build())) {
            assertEquals("ok", get(lb, "/").body());
            assertEquals("ok", get(lb, "/").body());
            assertTrue(missing.requestCount() >= 1 && missing.requestCount() <= 2);
            assertTrue(rec.outcomes.stream().allMatch(o -> o.endsWith(" SUCCESS")), rec.outcomes.toString());
        }
    }

    @Test
    void lastUpstreamStatusIsPassedThroughWhenTriesRunOut() throws Exception {
        try (TestBackend a = TestBackend.start(Script.builder().status(503).body("a").build());
                TestBackend b = TestBackend.start(Script.builder().status(503).body("b").build());
                UpstreamPool pool = UpstreamPool.of(upstream(a.port()), upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.builder()
                        .conditions(NextUpstream.HTTP_503).build())) {
            HttpResponse<String> r = get(lb, "/");
            assertEquals(503, r.statusCode());
            assertEquals(1, a.requestCount());
            assertEquals(1, b.requestCount());
        }
    }

    @Test
    void triesLimitStopsRetrying() throws Exception {
        try (TestBackend a = TestBackend.start(HANG); TestBackend b = TestBackend.start(HANG);
                TestBackend c = TestBackend.start(HANG);
                UpstreamPool pool = UpstreamPool.of(upstream(a.port()), upstream(b.port()), upstream(c.port()));
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.builder().tries(2).build())) {
            assertEquals(504, get(lb, "/").statusCode());
            assertEquals(2, a.requestCount() + b.requestCount() + c.requestCount());
        }
    }

    @Test
    void retryTimeoutStopsRetrying() throws Exception {
        try (TestBackend a = TestBackend.start(HANG); TestBackend b = TestBackend.start(HANG);
                UpstreamPool pool = UpstreamPool.of(upstream(a.port()), upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, FAST,
                        RetryPolicy.builder().timeout(Duration.ofMillis(100)).build())) {
            assertEquals(504, get(lb, "/").statusCode());
            assertEquals(1, a.requestCount() + b.requestCount());
        }
    }

    @Test
    void bodyBeyondTheReplayBufferIsNotRetried() throws Exception {
        try (TestBackend a = TestBackend.start(HANG); TestBackend b = TestBackend.start(HANG);
                UpstreamPool pool = UpstreamPool.of(upstream(a.port()), upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.builder().replayBufferBytes(1024).build())) {
            HttpResponse<String> r = Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/p"))
                    .timeout(Duration.ofSeconds(10)).PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[200_000]))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(504, r.statusCode());
            assertEquals(1, a.requestCount() + b.requestCount());
        }
        try (TestBackend a = TestBackend.start(HANG); TestBackend b = TestBackend.start(HANG);
                UpstreamPool pool = UpstreamPool.of(upstream(a.port()), upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.builder().replayBufferBytes(1024).build())) {
            HttpResponse<String> r = Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/p"))
                    .timeout(Duration.ofSeconds(10)).PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[1000]))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(504, r.statusCode());
            assertEquals(2, a.requestCount() + b.requestCount());
            assertEquals(1000, (a.requestCount() > 0 ? a : b).requests().get(0).body().length);
        }
    }

    @Test
    void invalidResponseGives502AndIsRetriedWhenListed() throws Exception {
        RecordingPolicy rec = new RecordingPolicy();
        Script garbage = Script.builder().rawResponse("HTTP/1.1 abc\r\n\r\n").build();
        try (TestBackend bad = TestBackend.start(garbage);
                UpstreamPool pool = pool(rec, bad);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.DEFAULT)) {
            assertEquals(502, get(lb, "/").statusCode());
            assertEquals(List.of(bad.port() + " INVALID_RESPONSE"), rec.outcomes);
        }
        try (TestBackend bad = TestBackend.start(garbage); TestBackend ok = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = pool(rec, bad, ok);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.builder()
                        .conditions(NextUpstream.INVALID_RESPONSE).build())) {
            assertEquals("ok", get(lb, "/").body());
        }
    }

    @Test
    void truncatedResponseIsNeverPassedOffAsComplete() throws Exception {
        RecordingPolicy rec = new RecordingPolicy();
        try (TestBackend cut = TestBackend.start(Script.builder().body("0123456789".repeat(100)).truncateAt(10).build());
                UpstreamPool pool = pool(rec, cut);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.DEFAULT)) {
            assertThrows(IOException.class, () -> get(lb, "/"));
            Fixtures.await(() -> rec.outcomes.contains(cut.port() + " INVALID_RESPONSE"), Duration.ofSeconds(2));
            assertEquals(1, cut.requestCount());
        }
    }

    @Test
    void upstreamClosingBeforeAnsweringGives502() throws Exception {
        try (TestBackend close = TestBackend.start(Script.builder().mode(Script.Mode.CLOSE).build());
                UpstreamPool pool = UpstreamPool.of(upstream(close.port()));
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.DEFAULT)) {
            assertEquals(502, get(lb, "/").statusCode());
        }
    }

    @Test
    void staleKeepAliveConnectionDoesNotUseATry() throws Exception {
        // The backend answers the first request on connection 0, then closes it when the next one comes:
        // the race in which the proxy reuses a keep-alive connection the upstream has just given up.
        java.util.Map<Integer, Integer> perConnection = new java.util.concurrent.ConcurrentHashMap<>();
        RecordingPolicy rec = new RecordingPolicy();
        try (TestBackend b = TestBackend.start(new java.net.InetSocketAddress("127.0.0.1", 0), req -> {
            int n = perConnection.merge(req.connectionIndex(), 1, Integer::sum);
            return req.connectionIndex() == 0 && n == 2 ? Script.builder().mode(Script.Mode.CLOSE).build()
                    : Script.ok("conn" + req.connectionIndex());
        });
                UpstreamPool pool = pool(rec, b);
                HttpBalancer lb = Fixtures.start(pool, FAST, RetryPolicy.builder().tries(1).build())) {
            assertEquals("conn0", get(lb, "/").body());
            HttpResponse<String> r = get(lb, "/");
            assertEquals(200, r.statusCode());
            assertEquals("conn1", r.body());
            assertEquals(2, b.connectionCount());
            assertEquals(List.of(b.port() + " SUCCESS", b.port() + " SUCCESS"), rec.outcomes);
        }
    }
}
