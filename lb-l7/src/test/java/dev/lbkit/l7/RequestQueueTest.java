package dev.lbkit.l7;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.PassiveHealthPolicy;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The per-group request queue (nginx Plus {@code queue}, HAProxy {@code maxconn} + {@code timeout queue})
 * with real sockets: an upstream with {@code max_conns=1} and a slow backend.
 */
class RequestQueueTest {

    private static Upstream limited(TestBackend b, int maxConns) {
        return Upstream.builder("127.0.0.1", b.port()).maxConnections(maxConns).build();
    }

    private static HttpBalancer start(UpstreamGroup group, int eventLoops) {
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(eventLoops)
                .route(Route.builder("/").group(group).build()).build().start();
    }

    private static CompletableFuture<HttpResponse<String>> getAsync(HttpBalancer lb, String path) {
        return Fixtures.CLIENT.sendAsync(HttpRequest.newBuilder(Fixtures.uri(lb, path))
                .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> paths(TestBackend b) {
        return b.requests().stream().map(RecordedRequest::target).toList();
    }

    @Test
    void waitingRequestsAreServedInOrderAndAFullQueueAnswers503AtOnce() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(700)).build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(b, 1))
                        .healthPolicy(PassiveHealthPolicy.builder().maxFails(1).build()).build();
                // Two event loops: a slot freed on one loop hands the request waiting on the other its turn.
                HttpBalancer lb = start(UpstreamGroup.builder(pool).queue(new RequestQueue(2, Duration.ofSeconds(10)))
                        .build(), 2)) {
            CompletableFuture<HttpResponse<String>> first = getAsync(lb, "/1");
            Await.until(() -> b.requestCount() == 1);
            CompletableFuture<HttpResponse<String>> second = getAsync(lb, "/2");
            Await.until(() -> lb.stats().queue("g").queued() == 1);
            CompletableFuture<HttpResponse<String>> third = getAsync(lb, "/3");
            Await.until(() -> lb.stats().queue("g").queued() == 2);

            // (b) the queue is full: 503 at once, while the first request is still at the backend.
            HttpResponse<String> fourth = getAsync(lb, "/4").get(5, TimeUnit.SECONDS);
            assertEquals(503, fourth.statusCode());
            assertFalse(first.isDone(), "the 503 did not wait for a slot");
            assertEquals(1, lb.stats().queue("g").rejected());

            // (a) all three get 200, and the backend saw them one at a time, in arrival order.
            for (CompletableFuture<HttpResponse<String>> f : List.of(first, second, third)) {
                HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode());
                assertEquals("slow", r.body());
            }
            assertEquals(List.of("/1", "/2", "/3"), paths(b));
            QueueStats q = lb.stats().queue("g");
            assertEquals(new QueueStats(0, 2, 1, 0), q);
            // The wait is neither a try nor a failure: the upstream stays healthy.
            TrafficStats up = lb.stats().upstream("g", "127.0.0.1:" + b.port());
            assertEquals(3, up.requests());
            assertEquals(0, up.failures());
            assertEquals(0, up.retries());
            assertTrue(pool.member("127.0.0.1:" + b.port()).orElseThrow().isAvailable(System.nanoTime()));
            assertEquals(1, lb.stats().route("/").responses(5));
        }
    }

    @Test
    void aRequestThatWaitsLongerThanTheTimeoutGets503() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(1500)).build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(b, 1))
                        .healthPolicy(PassiveHealthPolicy.builder().maxFails(1).build()).build();
                HttpBalancer lb = start(UpstreamGroup.builder(pool)
                        .queue(new RequestQueue(4, Duration.ofMillis(300))).build(), 1)) {
            CompletableFuture<HttpResponse<String>> first = getAsync(lb, "/1");
            Await.until(() -> b.requestCount() == 1);
            long start = System.nanoTime();
            HttpResponse<String> waited = getAsync(lb, "/2").get(10, TimeUnit.SECONDS);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(503, waited.statusCode());
            assertTrue(millis >= 250, "answered after " + millis + " ms, before the queue timeout");
            assertTrue(millis < 1400, "answered after " + millis + " ms, not by the queue timeout");
            assertEquals(new QueueStats(0, 1, 0, 1), lb.stats().queue("g"));
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            assertEquals(List.of("/1"), paths(b));
            assertEquals(0, lb.stats().upstream("g", "127.0.0.1:" + b.port()).failures());
            assertTrue(pool.member("127.0.0.1:" + b.port()).orElseThrow().isAvailable(System.nanoTime()));
        }
    }

    @Test
    void aClientThatLeavesTheQueueIsNeverSentOn() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(500)).build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(b, 1)).build();
                HttpBalancer lb = start(UpstreamGroup.builder(pool)
                        .queue(new RequestQueue(4, Duration.ofSeconds(10))).build(), 1)) {
            CompletableFuture<HttpResponse<String>> first = getAsync(lb, "/1");
            Await.until(() -> b.requestCount() == 1);
            try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
                s.getOutputStream().write("GET /gone HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                Await.until(() -> lb.stats().queue("g").queued() == 1);
            }
            Await.until(() -> lb.stats().queue("g").queued() == 0);
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            // The slot that frees goes to the next request, not to the one whose client left.
            assertEquals(200, Fixtures.get(lb, "/3").statusCode());
            assertEquals(List.of("/1", "/3"), paths(b));
            assertEquals(new QueueStats(0, 1, 0, 0), lb.stats().queue("g"));
            Await.until(() -> lb.stats().route("/").inFlight() == 0);
        }
    }

    @Test
    void withoutAQueueAFullGroupAnswers502AtOnce() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(700)).build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(b, 1)).build();
                HttpBalancer lb = start(UpstreamGroup.of(pool), 1)) {
            assertEquals(RequestQueue.OFF, UpstreamGroup.of(pool).queue());
            CompletableFuture<HttpResponse<String>> first = getAsync(lb, "/1");
            Await.until(() -> b.requestCount() == 1);
            HttpResponse<String> second = Fixtures.get(lb, "/2");
            assertEquals(502, second.statusCode());
            assertFalse(first.isDone());
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            assertEquals(List.of("/1"), paths(b));
            assertTrue(lb.stats().queues().isEmpty());
            assertEquals(QueueStats.EMPTY, lb.stats().queue("g"));
        }
    }

    @Test
    void noLiveUpstreamIs502EvenWithAQueue() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(b, 1)).build();
                HttpBalancer lb = start(UpstreamGroup.builder(pool)
                        .queue(new RequestQueue(4, Duration.ofSeconds(10))).build(), 1)) {
            pool.markDown("127.0.0.1:" + b.port(), true);
            assertEquals(502, Fixtures.get(lb, "/").statusCode());
            assertEquals(QueueStats.EMPTY, lb.stats().queue("g"));
        }
    }

    @Test
    void anUpstreamAddedWhileRequestsWaitServesThem() throws Exception {
        try (TestBackend slow = TestBackend.start(Script.builder().body("slow").delay(Duration.ofSeconds(2)).build());
                TestBackend fresh = TestBackend.start(Script.ok("fresh"));
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(slow, 1)).build();
                HttpBalancer lb = start(UpstreamGroup.builder(pool)
                        .queue(new RequestQueue(4, Duration.ofSeconds(10))).build(), 1)) {
            CompletableFuture<HttpResponse<String>> first = getAsync(lb, "/1");
            Await.until(() -> slow.requestCount() == 1);
            CompletableFuture<HttpResponse<String>> second = getAsync(lb, "/2");
            Await.until(() -> lb.stats().queue("g").queued() == 1);
            pool.add(limited(fresh, 1));
            HttpResponse<String> r = second.get(5, TimeUnit.SECONDS);
            assertEquals("fresh", r.body());
            assertFalse(first.isDone(), "served by the new upstream, not after the slow one");
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
        }
    }

    @Test
    void anUpstreamReweightedOrMarkedUpWhileRequestsWaitServesThem() throws Exception {
        // Each stays busy with what it gets, so every request ends where the queue sent it.
        try (TestBackend slow = TestBackend.start(Script.builder().body("slow").delay(Duration.ofSeconds(3)).build());
                TestBackend drained = TestBackend.start(Script.builder().body("drained").delay(Duration.ofSeconds(1))
                        .build());
                TestBackend down = TestBackend.start(Script.builder().body("down").delay(Duration.ofSeconds(1)).build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(slow, 1)).add(limited(drained, 1))
                        .add(limited(down, 1)).build();
                HttpBalancer lb = start(UpstreamGroup.builder(pool)
                        .queue(new RequestQueue(4, Duration.ofSeconds(10))).build(), 2)) {
            pool.drain("127.0.0.1:" + drained.port());
            pool.markDown("127.0.0.1:" + down.port(), true);
            CompletableFuture<HttpResponse<String>> first = getAsync(lb, "/1");
            Await.until(() -> slow.requestCount() == 1);
            CompletableFuture<HttpResponse<String>> second = getAsync(lb, "/2");
            Await.until(() -> lb.stats().queue("g").queued() == 1);
            CompletableFuture<HttpResponse<String>> third = getAsync(lb, "/3");
            Await.until(() -> lb.stats().queue("g").queued() == 2);
            pool.weight("127.0.0.1:" + drained.port(), 1);
            Await.until(() -> drained.requestCount() == 1);
            assertEquals(1, lb.stats().queue("g").queued());
            pool.markDown("127.0.0.1:" + down.port(), false);
            Await.until(() -> down.requestCount() == 1);
            assertFalse(first.isDone(), "both were sent on before the slow upstream freed up");
            assertEquals("drained", second.get(5, TimeUnit.SECONDS).body());
            assertEquals("down", third.get(5, TimeUnit.SECONDS).body());
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            assertEquals(new QueueStats(0, 2, 0, 0), lb.stats().queue("g"));
        }
    }

    @Test
    void aWaitingRequestKeepsItsBody() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(400)).build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(b, 1)).build();
                HttpBalancer lb = start(UpstreamGroup.builder(pool)
                        .queue(new RequestQueue(4, Duration.ofSeconds(10))).build(), 1)) {
            CompletableFuture<HttpResponse<String>> first = getAsync(lb, "/1");
            Await.until(() -> b.requestCount() == 1);
            // Larger than the default replay buffer (64 KiB): part of it waits in the socket.
            String body = "x".repeat(200 * 1024);
            CompletableFuture<HttpResponse<String>> post = Fixtures.CLIENT.sendAsync(HttpRequest.newBuilder(
                    Fixtures.uri(lb, "/post")).POST(HttpRequest.BodyPublishers.ofString(body))
                    .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
            Await.until(() -> lb.stats().queue("g").queued() == 1);
            assertEquals(200, first.get(10, TimeUnit.SECONDS).statusCode());
            assertEquals(200, post.get(10, TimeUnit.SECONDS).statusCode());
            RecordedRequest got = b.requests().get(1);
            assertEquals("/post", got.target());
            assertEquals(body, got.bodyText());
        }
    }

    @Test
    void manyConcurrentRequestsOverTwoLoopsAllGetThrough() throws Exception {
        int n = 30;
        try (TestBackend b = TestBackend.start(Script.builder().body("ok").delay(Duration.ofMillis(20)).build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(b, 2)).build();
                HttpBalancer lb = start(UpstreamGroup.builder(pool)
                        .queue(new RequestQueue(n, Duration.ofSeconds(10))).build(), 2)) {
            List<CompletableFuture<HttpResponse<String>>> all = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                all.add(getAsync(lb, "/" + i));
            }
            for (CompletableFuture<HttpResponse<String>> f : all) {
                assertEquals(200, f.get(15, TimeUnit.SECONDS).statusCode());
            }
            assertEquals(n, b.requestCount());
            QueueStats q = lb.stats().queue("g");
            assertEquals(0, q.queued());
            assertEquals(0, q.rejected() + q.timedOut());
            assertTrue(q.totalQueued() > 0, "some had to wait: " + q);
            Await.until(() -> pool.member("127.0.0.1:" + b.port()).orElseThrow().active() == 0);
        }
    }

    @Test
    void aGracefulStopSendsWaitingRequestsOnWhileItCan() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(400)).build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(b, 1)).build()) {
            HttpBalancer lb = start(UpstreamGroup.builder(pool)
                    .queue(new RequestQueue(4, Duration.ofSeconds(10))).build(), 1);
            CompletableFuture<HttpResponse<String>> first = getAsync(lb, "/1");
            Await.until(() -> b.requestCount() == 1);
            CompletableFuture<HttpResponse<String>> second = getAsync(lb, "/2");
            Await.until(() -> lb.stats().queue("g").queued() == 1);
            lb.stop(Duration.ofSeconds(5));
            assertEquals(200, first.get(5, TimeUnit.SECONDS).statusCode());
            assertEquals(200, second.get(5, TimeUnit.SECONDS).statusCode());
            assertEquals(List.of("/1", "/2"), paths(b));
        }
    }

    @Test
    void requestsStillWaitingAtTheStopDeadlineGet503() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().mode(Script.Mode.NEVER_ANSWER).build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(limited(b, 1)).build()) {
            HttpBalancer lb = start(UpstreamGroup.builder(pool)
                    .queue(new RequestQueue(4, Duration.ofSeconds(30))).build(), 1);
            try (Socket held = new Socket("127.0.0.1", lb.address().getPort());
                    Socket waiting = new Socket("127.0.0.1", lb.address().getPort())) {
                held.getOutputStream().write("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                Await.until(() -> b.requestCount() == 1);
                waiting.getOutputStream().write("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                Await.until(() -> lb.stats().queue("g").queued() == 1);
                waiting.setSoTimeout(5000);
                lb.stop(Duration.ofMillis(200));
                InputStream in = waiting.getInputStream();
                String answer = Fixtures.readResponse(in);
                assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
                assertTrue(answer.toLowerCase().contains("connection: close"), answer);
            }
            assertEquals(List.of("/1"), paths(b));
            assertEquals(0, lb.stats().queue("g").queued());
        }
    }

    @Test
    void optionsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new RequestQueue(-1, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new RequestQueue(1, Duration.ZERO));
        assertThrows(NullPointerException.class, () -> new RequestQueue(1, null));
        assertFalse(RequestQueue.OFF.enabled());
        assertEquals(Duration.ofSeconds(60), RequestQueue.OFF.timeout());
        assertTrue(new RequestQueue(1, Duration.ofSeconds(1)).enabled());
    }
}
