package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.get;
import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.BlackHole;
import dev.lbkit.testing.EchoServer;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimeoutsTest {
    private static final Duration SHORT = Duration.ofMillis(200);

    @Test
    void defaultsAreNginxs() {
        ProxyTimeouts t = ProxyTimeouts.DEFAULT;
        assertEquals(Duration.ofSeconds(60), t.connect());
        assertEquals(Duration.ofSeconds(60), t.send());
        assertEquals(Duration.ofSeconds(60), t.read());
        assertEquals(Duration.ofSeconds(60), t.clientSend());
        assertEquals(Duration.ofSeconds(60), t.clientHeader());
        assertEquals(Duration.ofSeconds(60), t.clientBody());
        assertEquals(Duration.ofSeconds(75), t.keepAlive());
        assertEquals(Duration.ofSeconds(30), t.lingeringTime());
        assertEquals(Duration.ofSeconds(5), t.lingeringTimeout());
    }

    @Test
    void connectTimeoutGives504() throws Exception {
        try (BlackHole full = BlackHole.start();
                UpstreamPool pool = UpstreamPool.of(upstream(full.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().connect(SHORT).build(),
                        RetryPolicy.DEFAULT)) {
            long t0 = System.nanoTime();
            assertEquals(504, get(lb, "/").statusCode());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 150 && ms < 3000, "took " + ms + " ms");
        }
    }

    @Test
    void readTimeoutGives504() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().mode(Script.Mode.NEVER_ANSWER).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().read(SHORT).build(), RetryPolicy.DEFAULT)) {
            long t0 = System.nanoTime();
            assertEquals(504, get(lb, "/").statusCode());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 180 && ms < 3000, "took " + ms + " ms");
            Fixtures.await(() -> b.openConnections() == 0, Duration.ofSeconds(2));
        }
    }

    @Test
    void readTimeoutIsBetweenReadsNotForTheWholeResponse() throws Exception {
        // Five chunks 120 ms apart: 600 ms in all, but never 300 ms without a byte.
        try (RawServer drip = new RawServer(s -> {
            InputStream in = s.getInputStream();
            RawServer.readHead(in);
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (int i = 0; i < 5; i++) {
                Thread.sleep(120);
                out.write('a' + i);
                out.flush();
            }
            in.read();
        });
                UpstreamPool pool = UpstreamPool.of(upstream(drip.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().read(Duration.ofMillis(300)).build(),
                        RetryPolicy.DEFAULT)) {
            HttpResponse<String> r = get(lb, "/");
            assertEquals(200, r.statusCode());
            assertEquals("abcde", r.body());
        }
    }

    @Test
    void readTimeoutDoesNotRunWhileASlowClientHoldsTheResponseBack() throws Exception {
        // As nginx: while the proxy leaves the upstream unread because the client takes nothing, only
        // send_timeout applies; the upstream is neither cut off nor blamed (max_fails).
        byte[] big = new byte[8 * 1024 * 1024];
        RecordingPolicy rec = new RecordingPolicy();
        try (TestBackend b = TestBackend.start(Script.builder().body(big).build());
                UpstreamPool pool = UpstreamPool.builder().healthPolicy(rec).add(upstream(b.port())).build();
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().read(Duration.ofSeconds(1))
                        .clientSend(Duration.ofSeconds(30)).build(), RetryPolicy.DEFAULT);
                Socket s = new Socket()) {
            // A small receive buffer: the proxy's writes stall long before 8 MiB.
            s.setReceiveBufferSize(8 * 1024);
            s.connect(new java.net.InetSocketAddress("127.0.0.1", lb.address().getPort()));
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            // Four read timeouts without taking a byte, well within send_timeout.
            Thread.sleep(4000);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long got = 0;
            int n;
            while ((n = in.read(buf)) >= 0) {
                got += n;
            }
            assertTrue(got > big.length, "got " + got + " bytes of " + big.length + "; outcomes " + rec.outcomes);
            assertEquals(List.of(b.port() + " SUCCESS"), rec.outcomes);
            assertEquals(0, lb.stats().route("/").failures());
        }
    }

    @Test
    void sendTimeoutGives504WhenTheUpstreamStopsReading() throws Exception {
        try (EchoServer silent = EchoServer.start(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                EchoServer.Mode.SILENT, "");
                UpstreamPool pool = UpstreamPool.of(upstream(silent.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .nativeTransport(false).timeouts(ProxyTimeouts.builder().send(SHORT).build())
                        .limits(ClientLimits.builder().maxBodySize(0).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            byte[] big = new byte[32 * 1024 * 1024];
            HttpResponse<String> r = Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/up"))
                    .timeout(Duration.ofSeconds(10)).PUT(HttpRequest.BodyPublishers.ofByteArray(big)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(504, r.statusCode());
        }
    }

    @Test
    void clientSendTimeoutClosesASlowReader() throws Exception {
        byte[] big = new byte[16 * 1024 * 1024];
        try (TestBackend b = TestBackend.start(Script.builder().body(big).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().clientSend(SHORT).build(),
                        RetryPolicy.DEFAULT);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setReceiveBufferSize(16 * 1024);
            s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            // Do not read: the proxy's writes stall, and after send_timeout it gives up.
            Fixtures.await(() -> b.connectionCount() == 1, Duration.ofSeconds(5));
            Fixtures.await(() -> b.openConnections() == 0, Duration.ofSeconds(5));
            s.setSoTimeout(5000);
            long got = 0;
            InputStream in = s.getInputStream();
            byte[] buf = new byte[65536];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    got += n;
                }
            } catch (java.net.SocketException reset) {
                // Closed with data unread: fine.
            }
            assertTrue(got < big.length, "client got the whole body: " + got);
            assertEquals(1, lb.stats().route("/").failures());
        }
    }

    @Test
    void clientHeaderTimeoutGives408() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().clientHeader(SHORT).build(),
                        RetryPolicy.DEFAULT);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            long t0 = System.nanoTime();
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            String got = Fixtures.readAll(s.getInputStream());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(got.startsWith("HTTP/1.1 408 "), got);
            assertTrue(ms >= 150 && ms < 3000, "took " + ms);
            assertEquals(0, b.requestCount());
        }
    }

    /**
     * A client the header timeout cuts off in the middle of its head, and still sending it, reads the whole
     * 408, on a new connection and on a keep-alive one: the proxy lingers, instead of closing with the
     * client's next bytes unread, which resets the connection and can destroy the 408 before it is read.
     */
    @Test
    void aClientStillSendingItsHeadGetsThe408() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().clientHeader(Duration.ofMillis(300))
                        .build(), RetryPolicy.DEFAULT)) {
            for (boolean keepAlive : new boolean[] {false, true}) {
                try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
                    s.setSoTimeout(10_000);
                    OutputStream out = s.getOutputStream();
                    InputStream in = s.getInputStream();
                    if (keepAlive) {
                        out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        assertTrue(Fixtures.readResponse(in).startsWith("HTTP/1.1 200 "));
                    }
                    out.write("GET / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                    // A header line every 50 ms until the 408 has come, and five more: bytes that reach the
                    // proxy after it answered, however late the timeout fires on a busy machine.
                    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    int afterAnswer = 0;
                    for (int i = 0; afterAnswer < 5; i++) {
                        assertTrue(System.nanoTime() - deadline < 0, "no 408 within 10 s");
                        Thread.sleep(50);
                        // A reset here is the bug.
                        out.write(("X-Slow-" + i + ": y\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        if (in.available() > 0) {
                            afterAnswer++;
                        }
                    }
                    String got = Fixtures.readAll(in);
                    assertTrue(got.startsWith("HTTP/1.1 408 ") && got.endsWith("</html>\n"), got);
                }
            }
            assertEquals(1, b.requestCount());
        }
    }

    @Test
    void clientBodyTimeoutGives408() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().clientBody(SHORT)
                        .lingeringTimeout(Duration.ofSeconds(1)).build(), RetryPolicy.DEFAULT)) {
            // The body may still be coming: the proxy shuts its output down (the client reads the end) and
            // lingers, then closes after lingeringTimeout of silence.
            lingersOneSecond(lb, null, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", "408");
            Fixtures.await(() -> b.openConnections() == 0, Duration.ofSeconds(2));
        }
    }

    /** A refused upload lingers as well, and lingeringTimeout of silence ends it (lingeringTime is 30 s). */
    @Test
    void aRefusedUploadLingersUntilLingeringTimeoutOfSilence() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .timeouts(ProxyTimeouts.builder().lingeringTimeout(Duration.ofSeconds(1)).build())
                        .limits(ClientLimits.builder().maxBodySize(1000).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            lingersOneSecond(lb, null, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
                    + "a".repeat(1000), "413");
            assertEquals(0, b.requestCount());
        }
    }

    /**
     * A refused request with nothing more to read (its body came whole with it, or it had none) closes at
     * once, without lingering for a client that keeps its end open.
     */
    @Test
    void aRefusalWithNothingMoreToReadClosesAtOnce() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .timeouts(ProxyTimeouts.builder().lingeringTimeout(Duration.ofSeconds(30))
                                .lingeringTime(Duration.ofSeconds(60)).build())
                        .limits(ClientLimits.builder().maxBodySize(100).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            String[][] cases = {{"413", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n" + "a".repeat(200)},
                {"413", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n" + "a".repeat(128)
                        + "\r\n0\r\n\r\n"},
                {"400", "GET / HTTP/1.1\r\n\r\n"},
                {"417", "POST / HTTP/1.1\r\nHost: x\r\nExpect: something\r\nContent-Length: 3\r\n\r\nabc"}};
            for (String[] c : cases) {
                try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
                    s.setSoTimeout(5000);
                    s.getOutputStream().write(c[1].getBytes(StandardCharsets.US_ASCII));
                    String got = Fixtures.readResponse(s.getInputStream());
                    assertTrue(got.startsWith("HTTP/1.1 " + c[0] + " "), got);
                    Fixtures.await(() -> lb.stats().openConnections() == 0, Duration.ofSeconds(10));
                }
            }
            assertEquals(0, b.requestCount());
        }
    }

    /**
     * Sends {@code first} (if not null) on a new connection and reads a 200 response, then {@code request}
     * and reads a {@code status} response, then the end of the connection (the proxy shuts its output down
     * after the response) while neither sending more nor closing; waits until the proxy closes it and
     * returns how long after the end that was, in ms.
     */
    private static long lingeredMillis(HttpBalancer lb, String first, String request, String status) throws Exception {
        try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            if (first != null) {
                s.getOutputStream().write(first.getBytes(StandardCharsets.US_ASCII));
                String got = Fixtures.readResponse(in);
                assertTrue(got.startsWith("HTTP/1.1 200 "), got);
            }
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            String got = Fixtures.readResponse(in);
            assertTrue(got.startsWith("HTTP/1.1 " + status + " "), got);
            long t0 = System.nanoTime();
            assertEquals("", Fixtures.readAll(in));
            Fixtures.await(() -> lb.stats().openConnections() == 0, Duration.ofSeconds(4));
            return (System.nanoTime() - t0) / 1_000_000;
        }
    }

    /**
     * As nginx's lingering_time and lingering_timeout in a location: a connection closing after a refusal of
     * a routed request lingers with the route's timeouts (the body limit is checked once the request is
     * routed, as nginx's client_max_body_size, so a 413 by Content-Length is the route's too); one refused
     * before a route is found (a bad head, the header timeout) lingers with the balancer's, also when the
     * request before it on that connection went to a route with timeouts of its own. Each time 1 s of
     * silence ends it, not the other's 30 s.
     */
    @Test
    void lingeringTakesTheRoutesTimeoutsOnceRoutedAndTheBalancersBefore() throws Exception {
        ProxyTimeouts.Builder oneSecond = ProxyTimeouts.builder().clientHeader(Duration.ofMillis(300))
                .lingeringTimeout(Duration.ofSeconds(1));
        ProxyTimeouts.Builder thirtySeconds = ProxyTimeouts.builder().lingeringTimeout(Duration.ofSeconds(30))
                .lingeringTime(Duration.ofSeconds(60));
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()))) {
            try (HttpBalancer lb = withRouteTimeouts(pool, thirtySeconds, oneSecond)) {
                String post = "POST / HTTP/1.1\r\nHost: x\r\n";
                lingersOneSecond(lb, null, post + "Content-Length: 100000\r\n\r\n" + "a".repeat(1000), "413");
                lingersOneSecond(lb, null, post + "Transfer-Encoding: chunked\r\n\r\n800\r\n" + "a".repeat(2048),
                        "413");
                lingersOneSecond(lb, null, post + "Expect: something\r\nContent-Length: 100\r\n\r\nabc", "417");
            }
            assertEquals(0, b.requestCount());
            try (HttpBalancer lb = withRouteTimeouts(pool, oneSecond, thirtySeconds)) {
                String first = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
                lingersOneSecond(lb, first, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc", "400");
                lingersOneSecond(lb, first, "GET / HTTP/1.1\r\nHost: x\r\n", "408");
            }
            assertEquals(2, b.requestCount());
        }
    }

    /** A balancer with {@code timeouts} and a 1000-byte body limit, whose one route has {@code routeTimeouts}. */
    private static HttpBalancer withRouteTimeouts(UpstreamPool pool, ProxyTimeouts.Builder timeouts,
            ProxyTimeouts.Builder routeTimeouts) {
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1).timeouts(timeouts.build())
                .limits(ClientLimits.builder().maxBodySize(1000).build())
                .route(Route.builder("/").group(UpstreamGroup.of(pool)).timeouts(routeTimeouts.build()).build())
                .build().start();
    }

    /**
     * Asserts that the connection of {@link #lingeredMillis(HttpBalancer, String, String, String)} lingered
     * for a lingeringTimeout of 1 s of silence: at least half of it, and far less than 30 s.
     */
    private static void lingersOneSecond(HttpBalancer lb, String first, String request, String status)
            throws Exception {
        long ms = lingeredMillis(lb, first, request, status);
        assertTrue(ms >= 500, status + " closed after " + ms + " ms");
    }

    /**
     * A client still sending a body the proxy will not forward (here its upstream stopped reading, so
     * proxy_send_timeout gives 504) gets the response: the proxy shuts its output down and drops what the
     * client sends until it is done (nginx's lingering close), instead of closing with unread bytes, which
     * resets the connection and can destroy the response before the client reads it.
     */
    @Test
    void aClientStillSendingItsBodyGetsTheResponse() throws Exception {
        try (EchoServer silent = EchoServer.start(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                EchoServer.Mode.SILENT, "");
                UpstreamPool pool = UpstreamPool.of(upstream(silent.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .timeouts(ProxyTimeouts.builder().send(SHORT).build())
                        .limits(ClientLimits.builder().maxBodySize(0).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(10_000);
            int size = 32 * 1024 * 1024;
            OutputStream out = s.getOutputStream();
            out.write(("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 * 1024];
            for (int sent = 0; sent < size; sent += chunk.length) {
                out.write(chunk); // a reset here is the bug
            }
            String got = Fixtures.readAll(s.getInputStream());
            assertTrue(got.startsWith("HTTP/1.1 504 "), got);
            assertTrue(!got.contains("<<"), got);
        }
    }

    /**
     * Lingering ends after lingeringTime in all, however steadily the client goes on sending: after a 408
     * (the body stalled) and after a refusal (413, the body over the limit).
     */
    @Test
    void lingeringTimeEndsLingering() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .timeouts(ProxyTimeouts.builder().clientBody(SHORT)
                                .lingeringTime(Duration.ofMillis(800)).build())
                        .limits(ClientLimits.builder().maxBodySize(1000).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            lingersAtMostLingeringTime(lb, 500, "408");
            lingersAtMostLingeringTime(lb, 100_000, "413");
        }
    }

    private static void lingersAtMostLingeringTime(HttpBalancer lb, int length, String status) throws Exception {
        try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\nabc")
                    .getBytes(StandardCharsets.US_ASCII));
            String got = Fixtures.readResponse(s.getInputStream());
            assertTrue(got.startsWith("HTTP/1.1 " + status + " "), got);
            long t0 = System.nanoTime();
            long ms = 0;
            try {
                // A byte every 50 ms keeps lingeringTimeout (5 s) from ending it; only lingeringTime can.
                while (ms < 4000 && lb.stats().openConnections() > 0) {
                    out.write('x');
                    out.flush();
                    Thread.sleep(50);
                    ms = (System.nanoTime() - t0) / 1_000_000;
                }
            } catch (java.io.IOException e) {
                // reset: closed while we were sending, as expected
            }
            Fixtures.await(() -> lb.stats().openConnections() == 0, Duration.ofSeconds(2));
            ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 600 && ms < 4000, "lingered " + ms + " ms");
        }
    }

    @Test
    void idleKeepAliveConnectionIsClosedAfterKeepAliveTimeout() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().keepAlive(Duration.ofMillis(300)).build(),
                        RetryPolicy.DEFAULT)) {
            long ms = keptAliveMillis(lb);
            assertTrue(ms >= 250 && ms < 3000, "closed after " + ms);
            Fixtures.await(() -> lb.stats().openConnections() == 0, Duration.ofSeconds(2));
        }
    }

    @Test
    void aKeepAliveLongerThanTheHeaderTimeoutIsKeptInFull() throws Exception {
        // The client timer's task runs at least every header timeout; it must re-arm, not close early.
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().clientHeader(SHORT).clientBody(SHORT)
                        .keepAlive(Duration.ofMillis(900)).build(), RetryPolicy.DEFAULT)) {
            long ms = keptAliveMillis(lb);
            assertTrue(ms >= 800 && ms < 4000, "closed after " + ms + " ms, keep-alive is 900 ms");
        }
    }

    /**
     * As nginx's keepalive_timeout in a location: the wait for the next request is that of the route that
     * answered the request before. A route's 1 s ends it though the balancer's is 60 s, and a route's 2 s
     * holds it though the balancer's is 200 ms (a route without timeouts of its own takes the balancer's:
     * {@link #idleKeepAliveConnectionIsClosedAfterKeepAliveTimeout()}).
     */
    @Test
    void theKeepAliveWaitIsThatOfTheRouteThatAnsweredTheRequestBefore() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()))) {
            try (HttpBalancer lb = withRouteTimeouts(pool, ProxyTimeouts.builder().keepAlive(Duration.ofSeconds(60)),
                    ProxyTimeouts.builder().keepAlive(Duration.ofSeconds(1)))) {
                long ms = keptAliveMillis(lb);
                assertTrue(ms >= 500, "closed after " + ms + " ms, the route's keep-alive is 1 s");
            }
            try (HttpBalancer lb = withRouteTimeouts(pool, ProxyTimeouts.builder().keepAlive(Duration.ofMillis(200)),
                    ProxyTimeouts.builder().keepAlive(Duration.ofSeconds(2)))) {
                long ms = keptAliveMillis(lb);
                assertTrue(ms >= 1000, "closed after " + ms + " ms, the route's keep-alive is 2 s");
            }
            assertEquals(2, b.requestCount());
        }
    }

    /**
     * Sends a request on a new connection and reads its 200 response, then waits, sending nothing, until the
     * proxy closes the connection (at most 10 s); returns how long after the response that was, in ms.
     */
    private static long keptAliveMillis(HttpBalancer lb) throws Exception {
        try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String got = Fixtures.readResponse(in);
            assertTrue(got.startsWith("HTTP/1.1 200 "), got);
            long t0 = System.nanoTime();
            assertEquals(-1, in.read());
            return (System.nanoTime() - t0) / 1_000_000;
        }
    }

    @Test
    void aRequestAfterAKeepAliveWaitGetsTheHeaderTimeoutNotTheKeepAlive() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().clientHeader(Duration.ofMillis(300))
                        .keepAlive(Duration.ofSeconds(30)).build(), RetryPolicy.DEFAULT);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertTrue(Fixtures.readResponse(in).startsWith("HTTP/1.1 200 "));
            Thread.sleep(100);
            s.getOutputStream().write("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            String got = Fixtures.readAll(in);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(got.startsWith("HTTP/1.1 408 "), got);
            assertTrue(ms >= 250 && ms < 3000, "408 after " + ms + " ms, header timeout is 300 ms");
        }
    }

    /** A connection that sent nothing gets the 408 and closes at once: there is nothing to linger for. */
    @Test
    void aNewConnectionThatSendsNothingGetsTheHeaderTimeout() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().clientHeader(SHORT)
                        .lingeringTimeout(Duration.ofSeconds(30)).lingeringTime(Duration.ofSeconds(60)).build(),
                        RetryPolicy.DEFAULT);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            long t0 = System.nanoTime();
            String got = Fixtures.readAll(s.getInputStream());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(got.startsWith("HTTP/1.1 408 "), got);
            assertTrue(ms >= 150 && ms < 3000, "took " + ms);
            Fixtures.await(() -> lb.stats().openConnections() == 0, Duration.ofSeconds(10));
        }
    }
}
