package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.get;
import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.ProbeResult;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import dev.lbkit.transport.TransportType;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class OperationsTest {

    @Test
    void aListenAddressInUseFailsStartNamingTheReasonAndLeavesNoEventLoop() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                java.net.ServerSocket busy = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            long before = dev.lbkit.testing.Threads.named("lb-l7");
            HttpBalancer.Builder builder = HttpBalancer.builder().eventLoops(2)
                    .listen(Listener.builder(new InetSocketAddress("127.0.0.1", busy.getLocalPort())).build())
                    .route(Route.builder("/").group(UpstreamGroup.of(pool)).build());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> builder.build().start());
            assertTrue(e.getMessage().startsWith("cannot listen: ") && e.getMessage().contains("Address already in use"),
                    e.getMessage());
            dev.lbkit.testing.Await.until(() -> dev.lbkit.testing.Threads.named("lb-l7") <= before);
        }
    }

    @Test
    void statsCountRequestsResponsesBytesAndLatency() throws Exception {
        try (TestBackend ok = TestBackend.start(Script.ok("12345"));
                TestBackend missing = TestBackend.start(Script.builder().status(404).body("no").build());
                UpstreamPool pool = UpstreamPool.builder().name("g").add(upstream(ok.port()))
                        .add(upstream(missing.port())).build();
                UpstreamPool dead = UpstreamPool.builder().name("dead").add(upstream(Fixtures.deadPort())).build();
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build())
                        .route(Route.builder("/dead").group(UpstreamGroup.of(dead)).build()).build().start()) {
            for (int i = 0; i < 4; i++) {
                get(lb, "/");
            }
            assertEquals(502, get(lb, "/dead").statusCode());
            HttpBalancerStats s = lb.stats();
            TrafficStats root = s.route("/");
            assertEquals(4, root.requests());
            assertEquals(2, root.responses(2));
            assertEquals(2, root.responses(4));
            assertEquals(2 * 5 + 2 * 2, root.bytesOut());
            assertEquals(0, root.inFlight());
            assertEquals(4, root.latency().count());
            assertTrue(root.latency().quantileUpperBound(0.5).compareTo(Duration.ofSeconds(1)) <= 0);
            TrafficStats up = s.upstream("g", "127.0.0.1:" + ok.port());
            assertEquals(2, up.requests());
            assertEquals(2, up.responses(2));
            assertEquals(10, up.bytesIn());
            TrafficStats d = s.route("/dead");
            assertEquals(1, d.failures(), s.toString());
            assertEquals(1, d.responses(5));
            assertEquals(1, s.upstreams().values().stream().mapToLong(TrafficStats::failures).sum());
            assertThrows(UnsupportedOperationException.class, () -> s.routes().clear());
        }
    }

    @Test
    void eachUpstreamHasAHeaderTimeHistogramCountingItsResponses() throws Exception {
        try (TestBackend slow = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(300)).build());
                TestBackend fast = TestBackend.start(Script.ok("fast"));
                UpstreamPool pool = UpstreamPool.builder().name("g").add(upstream(slow.port()))
                        .add(upstream(fast.port())).build();
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            for (int i = 0; i < 4; i++) {
                assertEquals(200, get(lb, "/").statusCode());
            }
            HttpBalancerStats s = lb.stats();
            TrafficStats slowStats = s.upstream("g", "127.0.0.1:" + slow.port());
            TrafficStats fastStats = s.upstream("g", "127.0.0.1:" + fast.port());
            long slowResponses = slowStats.responsesByClass().stream().mapToLong(Long::longValue).sum();
            long fastResponses = fastStats.responsesByClass().stream().mapToLong(Long::longValue).sum();
            assertEquals(4, slowResponses + fastResponses, s.toString());
            assertTrue(slowResponses > 0 && fastResponses > 0, s.toString());
            assertEquals(slowResponses, slowStats.latency().count(), s.toString());
            assertEquals(fastResponses, fastStats.latency().count(), s.toString());
            // The slow upstream's fastest sample sits above its 300 ms delay: no sample in a bucket <= 200 ms.
            Duration slowMin = slowStats.latency().quantileUpperBound(1.0 / slowResponses);
            assertTrue(slowMin.compareTo(Duration.ofMillis(500)) >= 0, s.toString());
            assertTrue(fastStats.latency().quantileUpperBound(1.0).compareTo(Duration.ofMillis(200)) <= 0,
                    s.toString());
            assertTrue(s.route("/").latency().count() == 4, s.toString());
        }
    }

    @Test
    void accessLogIsOffByDefaultAndNginxCombinedWhenOn() throws Exception {
        PrintStream old = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (TestBackend b = TestBackend.start(Script.ok("hello"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()))) {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            try (HttpBalancer quiet = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
                get(quiet, "/quiet");
            }
            try (HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1).accessLog(true)
                    .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
                Fixtures.raw(lb, "GET /logged?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: test-agent\r\n"
                        + "Referer: http://ref.example/\r\nConnection: close\r\n\r\n");
            }
        } finally {
            System.setErr(old);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertTrue(!log.contains("/quiet"), log);
        assertTrue(log.contains("127.0.0.1 - - ["), log);
        assertTrue(log.contains("\"GET /logged?x=1 HTTP/1.1\" 200 5 \"http://ref.example/\" \"test-agent\""), log);
        assertTrue(log.contains("upstream=127.0.0.1:"), log);
        assertTrue(log.contains("tries=1"), log);
    }

    @Test
    void accessLogEscapesQuotesBackslashesAndControlCharactersAsNginx() throws Exception {
        PrintStream old = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (TestBackend b = TestBackend.start(Script.ok("hello"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()))) {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            try (HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1).accessLog(true)
                    .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
                Fixtures.raw(lb, "GET /a\"b HTTP/1.1\r\nHost: h\r\nUser-Agent: x\" 200 1 \"-\" \"forged\\\t\u00e9\r\n"
                        + "Referer: r\"\r\nConnection: close\r\n\r\n");
            }
        } finally {
            System.setErr(old);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        // As nginx's escape=default: a client's quote cannot end a quoted field and forge the ones after it.
        assertTrue(log.contains("\"GET /a\\x22b HTTP/1.1\" 200 5 \"r\\x22\" "
                + "\"x\\x22 200 1 \\x22-\\x22 \\x22forged\\x5C\\x09\\xE9\" upstream="), log);
    }

    @Test
    void liveChangesLoseNoRequest() throws Exception {
        try (TestBackend a = TestBackend.start(Script.ok("a")); TestBackend b = TestBackend.start(Script.ok("b"));
                TestBackend c = TestBackend.start(Script.ok("c"));
                UpstreamPool pool = UpstreamPool.builder().scheduler("wrr").add(upstream(a.port()))
                        .add(upstream(b.port())).build();
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(2)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            AtomicBoolean run = new AtomicBoolean(true);
            ConcurrentLinkedQueue<String> bad = new ConcurrentLinkedQueue<>();
            ExecutorService clients = Executors.newFixedThreadPool(4);
            List<Future<Integer>> counts = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                counts.add(clients.submit(() -> {
                    int n = 0;
                    while (run.get() && n < 2000) {
                        try {
                            HttpResponse<String> r = get(lb, "/");
                            if (r.statusCode() != 200) {
                                bad.add(r.statusCode() + " " + r.body());
                            }
                        } catch (Exception e) {
                            bad.add(e.toString());
                        }
                        n++;
                    }
                    return n;
                }));
            }
            Thread.sleep(150);
            pool.add(upstream(c.port()));
            Thread.sleep(150);
            pool.weight("127.0.0.1:" + b.port(), 5);
            Thread.sleep(150);
            pool.drain("127.0.0.1:" + a.port());
            Thread.sleep(150);
            int aBefore = a.requestCount();
            Thread.sleep(150);
            assertEquals(aBefore, a.requestCount(), "a drained but still receiving");
            pool.remove("127.0.0.1:" + a.port());
            Thread.sleep(150);
            pool.remove("127.0.0.1:" + c.port());
            Thread.sleep(150);
            run.set(false);
            int total = 0;
            for (Future<Integer> f : counts) {
                total += f.get(10, TimeUnit.SECONDS);
            }
            clients.shutdown();
            assertTrue(bad.isEmpty(), bad.toString());
            assertTrue(total > 100, "only " + total + " requests");
            assertTrue(c.requestCount() > 0);
        }
    }

    @Test
    void gracefulStopFinishesRequestsInFlightAndClosesIdleConnections() throws Exception {
        try (TestBackend slow = TestBackend.start(Script.builder().body("slow but fine").delay(Duration.ofMillis(500))
                .build()); UpstreamPool pool = UpstreamPool.of(upstream(slow.port()))) {
            HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT);
            int port = lb.address().getPort();
            try (Socket idle = new Socket("127.0.0.1", port)) {
                idle.setSoTimeout(5000);
                Fixtures.await(() -> lb.stats().openConnections() == 1, Duration.ofSeconds(2));
                CompletableFuture<HttpResponse<String>> inFlight = Fixtures.CLIENT.sendAsync(
                        java.net.http.HttpRequest.newBuilder(Fixtures.uri(lb, "/")).build(),
                        HttpResponse.BodyHandlers.ofString());
                Fixtures.await(() -> slow.requestCount() == 1, Duration.ofSeconds(2));
                long t0 = System.nanoTime();
                lb.stop(Duration.ofSeconds(5));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                HttpResponse<String> r = inFlight.get(5, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode());
                assertEquals("slow but fine", r.body());
                assertTrue(ms < 3000, "stop took " + ms);
                assertEquals(-1, idle.getInputStream().read());
                assertThrows(java.io.IOException.class, () -> new Socket("127.0.0.1", port).close());
            }
        }
    }

    @Test
    void aResponseInFlightDuringAGracefulStopSaysConnectionClose() throws Exception {
        try (TestBackend slow = TestBackend.start(Script.builder().body("slow but fine").delay(Duration.ofMillis(1500))
                .build()); UpstreamPool pool = UpstreamPool.of(upstream(slow.port()))) {
            HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT);
            try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                Fixtures.await(() -> slow.requestCount() == 1, Duration.ofSeconds(5));
                Thread stopper = new Thread(() -> lb.stop(Duration.ofSeconds(10)));
                stopper.start();
                // The connection closes after this response: the client must be told (RFC 9112 §9.6), or it
                // could send its next request into a closing connection.
                String r = Fixtures.readResponse(s.getInputStream());
                assertTrue(r.startsWith("HTTP/1.1 200 ") && r.endsWith("slow but fine"), r);
                assertTrue(r.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), r);
                assertEquals(-1, s.getInputStream().read());
                stopper.join(10_000);
            }
        }
    }

    @Test
    void stopDeadlineCutsSlowRequests() throws Exception {
        try (TestBackend hang = TestBackend.start(Script.builder().mode(Script.Mode.NEVER_ANSWER).build());
                UpstreamPool pool = UpstreamPool.of(upstream(hang.port()))) {
            HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT);
            try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
                s.setSoTimeout(5000);
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                Fixtures.await(() -> hang.requestCount() == 1, Duration.ofSeconds(2));
                long t0 = System.nanoTime();
                lb.stop(Duration.ofMillis(300));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms >= 250 && ms < 3000, "stop took " + ms);
                InputStream in = s.getInputStream();
                assertEquals("", Fixtures.readAll(in).replace("<<reset>>", ""));
                Fixtures.await(() -> hang.openConnections() == 0, Duration.ofSeconds(2));
            }
        }
    }

    /**
     * Stopping closes every connection, clients and upstreams, before the event loops shut down: a loop shut
     * down with channels open closes them itself, and on io_uring their close then completes after the loop
     * has terminated (Netty logs "EventLoop rejected it", a RejectedExecutionException). Here with an idle
     * keep-alive client and its pooled upstream connection, and a client whose request an upstream holds.
     */
    @Test
    void stoppingClosesEveryConnectionQuietlyOnIoUring() throws Exception {
        assumeTrue(TransportType.available().contains(TransportType.IO_URING));
        PrintStream old = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (TestBackend ok = TestBackend.start(Script.ok("x"));
                TestBackend hang = TestBackend.start(Script.builder().mode(Script.Mode.NEVER_ANSWER).build());
                UpstreamPool okPool = UpstreamPool.of(upstream(ok.port()));
                UpstreamPool hangPool = UpstreamPool.of(upstream(hang.port()))) {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            for (int round = 1; round <= 5; round++) {
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .transport(TransportType.IO_URING)
                        .route(Route.builder("/").group(UpstreamGroup.of(okPool)).build())
                        .route(Route.builder("/hang").group(UpstreamGroup.of(hangPool)).build()).build().start();
                try (Socket idle = new Socket("127.0.0.1", lb.address().getPort());
                        Socket held = new Socket("127.0.0.1", lb.address().getPort())) {
                    idle.setSoTimeout(5000);
                    held.setSoTimeout(5000);
                    idle.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    assertTrue(Fixtures.readResponse(idle.getInputStream()).startsWith("HTTP/1.1 200 "));
                    held.getOutputStream().write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    int before = round - 1;
                    Fixtures.await(() -> hang.requestCount() == before + 1, Duration.ofSeconds(5));
                    lb.stop(Duration.ZERO);
                    assertEquals(-1, idle.getInputStream().read());
                    assertEquals("", Fixtures.readAll(held.getInputStream()).replace("<<reset>>", ""));
                    Fixtures.await(() -> ok.openConnections() == 0 && hang.openConnections() == 0,
                            Duration.ofSeconds(5));
                }
            }
        } finally {
            System.setErr(old);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertTrue(!log.contains("rejected it") && !log.contains("RejectedExecutionException"), log);
    }

    @Test
    void httpHealthProbeDrivesActiveHealth() throws Exception {
        try (TestBackend good = TestBackend.start(new InetSocketAddress("127.0.0.1", 0), req ->
                req.target().equals("/health") ? Script.ok("up") : Script.ok("good"));
                TestBackend sick = TestBackend.start(new InetSocketAddress("127.0.0.1", 0), req ->
                        req.target().equals("/health") ? Script.builder().status(503).build() : Script.ok("sick"))) {
            HttpHealthProbe probe = HttpHealthProbe.builder().path("/health").expectStatus(200, 299).build();
            ProbeResult r1 = probe.probe(upstream(good.port()), Duration.ofSeconds(1)).toCompletableFuture().get();
            ProbeResult r2 = probe.probe(upstream(sick.port()), Duration.ofSeconds(1)).toCompletableFuture().get();
            ProbeResult r3 = probe.probe(upstream(Fixtures.deadPort()), Duration.ofSeconds(1)).toCompletableFuture().get();
            assertTrue(r1.healthy(), r1.toString());
            assertTrue(!r2.healthy() && r2.detail().equals("status 503"), r2.toString());
            assertTrue(!r3.healthy(), r3.toString());
            ActiveHealthPolicy active = ActiveHealthPolicy.builder(probe).interval(Duration.ofHours(1))
                    .timeout(Duration.ofSeconds(1)).rise(1).fall(1).build();
            try (UpstreamPool pool = UpstreamPool.builder().healthPolicy(active).add(upstream(good.port()))
                    .add(upstream(sick.port())).build();
                    HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
                active.checkNow().toCompletableFuture().get(5, TimeUnit.SECONDS);
                for (int i = 0; i < 4; i++) {
                    assertEquals("good", get(lb, "/").body());
                }
                assertEquals(0, sick.requests().stream().filter(q -> !q.target().equals("/health")).count());
            }
        }
    }

    @Test
    void connectionLimitGives503() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .limits(ClientLimits.builder().maxConnections(1).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                Socket first = new Socket("127.0.0.1", lb.address().getPort())) {
            Fixtures.await(() -> lb.stats().openConnections() == 1, Duration.ofSeconds(2));
            String second = Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(second.startsWith("HTTP/1.1 503 "), second);
            first.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            first.setSoTimeout(5000);
            assertTrue(Fixtures.readResponse(first.getInputStream()).startsWith("HTTP/1.1 200 "));
        }
    }

    @Test
    void everyIdleUpstreamConnectionClosesAfterTheIdleTimeoutNotOnlyTheOldest() throws Exception {
        // One timer per upstream's idle list, set for the oldest; it must move on to the next one.
        try (TestBackend b = TestBackend.start(Script.builder().body("x").delay(Duration.ofMillis(100)).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.builder(pool)
                                .keepAlive(new UpstreamKeepAlive(4, Duration.ofMillis(300), 100)).build()).build())
                        .build().start()) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                all.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.address().getPort()
                        + "/")).build(), HttpResponse.BodyHandlers.ofString()));
                Thread.sleep(30);
            }
            for (CompletableFuture<HttpResponse<String>> f : all) {
                assertEquals(200, f.get(5, TimeUnit.SECONDS).statusCode());
            }
            assertTrue(b.connectionCount() >= 2, "overlapping exchanges, several connections: " + b.connectionCount());
            Fixtures.await(() -> b.openConnections() == 0, Duration.ofSeconds(3));
        }
    }

    @Test
    void upstreamKeepAliveLimitsAreEnforced() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.builder(pool)
                                .keepAlive(new UpstreamKeepAlive(4, Duration.ofMillis(200), 3)).build()).build())
                        .build().start()) {
            for (int i = 0; i < 6; i++) {
                get(lb, "/");
            }
            assertEquals(2, b.connectionCount(), "max 3 requests per connection");
            Fixtures.await(() -> b.openConnections() == 0, Duration.ofSeconds(2));
            get(lb, "/");
            assertEquals(3, b.connectionCount(), "idle connection closed after the idle timeout");
        }
        // More exchanges at once than maxIdle: every one finishes, then only maxIdle connections stay open.
        try (TestBackend b = TestBackend.start(Script.builder().body("x").delay(Duration.ofMillis(300)).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.builder(pool)
                                .keepAlive(new UpstreamKeepAlive(2, Duration.ofSeconds(30), 100)).build()).build())
                        .build().start()) {
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int i = 0; i < 6; i++) {
                all.add(client.sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + lb.address().getPort() + "/")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : all) {
                assertEquals(200, f.get(5, TimeUnit.SECONDS).statusCode());
            }
            assertEquals(6, b.connectionCount(), "six exchanges at once need six connections");
            Fixtures.await(() -> b.openConnections() == 2, Duration.ofSeconds(2));
        }
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.builder(pool).keepAlive(UpstreamKeepAlive.OFF)
                                .build()).build()).build().start()) {
            get(lb, "/");
            get(lb, "/");
            assertEquals(2, b.connectionCount());
            assertEquals("close", b.requests().get(0).header("Connection").orElseThrow());
        }
    }

}
