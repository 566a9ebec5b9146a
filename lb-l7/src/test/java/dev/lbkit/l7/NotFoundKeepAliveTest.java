package dev.lbkit.l7;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A request no route matches gets a 404 on a connection that stays open when the client asked for
 * keep-alive, as nginx keeps it after its own 404 page (ngx_http_special_response_handler turns keep-alive
 * off only for 400, 413, 414, 500 and 501): its body is read and dropped, never forwarded or parsed as a
 * request, and the next request on the connection is served.
 */
class NotFoundKeepAliveTest {
    /** A body that would be a request if the proxy parsed it as one. */
    private static final String SMUGGLED = "GET /app/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    private static final String ROUTED = "GET /app/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    @RegisterExtension
    static final ProxiedBackend PROXIED = new ProxiedBackend(Script.ok("fine"),
            pool -> start(pool, ProxyTimeouts.DEFAULT, false));

    private HttpBalancer lb;
    private TestBackend backend;

    /** A balancer with a 1000-byte body limit whose one route, {@code /app/}, goes to {@code pool}. */
    private static HttpBalancer start(UpstreamPool pool, ProxyTimeouts timeouts, boolean accessLog) {
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1).timeouts(timeouts)
                .accessLog(accessLog).limits(ClientLimits.builder().maxBodySize(1000).build())
                .route(Route.builder("/app/").group(UpstreamGroup.of(pool)).build()).build().start();
    }

    @BeforeEach
    void clear() {
        lb = PROXIED.lb();
        backend = PROXIED.backend();
        backend.clear();
    }

    private static Socket connect(HttpBalancer b) throws IOException {
        Socket s = new Socket("127.0.0.1", b.address().getPort());
        s.setTcpNoDelay(true);
        s.setSoTimeout(10_000);
        return s;
    }


    private static void assertKeptAlive404(String got) {
        assertTrue(got.startsWith("HTTP/1.1 404 "), got);
        assertFalse(got.toLowerCase().contains("connection: close"), got);
    }

    /** Reads the routed request's 200 and then the proxy's close (it asked for Connection: close). */
    private void assertRoutedThenClosed(InputStream in) throws IOException {
        String got = Fixtures.readResponse(in) + Fixtures.readAll(in);
        assertTrue(got.startsWith("HTTP/1.1 200 ") && got.endsWith("fine"), got);
        assertEquals(List.of("/app/next"), targets(), "only the routed request reaches the upstream");
    }

    private List<String> targets() {
        return backend.requests().stream().map(RecordedRequest::target).toList();
    }

    @Test
    void aSecondRequestIsServedOnTheConnectionOfA404() throws Exception {
        long routed = routedRequests();
        try (Socket s = connect(lb)) {
            Fixtures.send(s, "GET /none HTTP/1.1\r\nHost: x\r\n\r\n");
            assertKeptAlive404(Fixtures.readResponse(s.getInputStream()));
            Fixtures.send(s, ROUTED);
            assertRoutedThenClosed(s.getInputStream());
        }
        // Unrouted, the 404 counts on no route; the routed request counts once.
        assertEquals(routed + 1, routedRequests());
    }

    private long routedRequests() {
        return lb.stats().routes().values().stream().mapToLong(TrafficStats::requests).sum();
    }

    @Test
    void theContentLengthBodyOfA404IsDroppedThenTheNextRequestIsServed() throws Exception {
        try (Socket s = connect(lb)) {
            Fixtures.send(s, "POST /none HTTP/1.1\r\nHost: x\r\nContent-Length: " + SMUGGLED.length() + "\r\n\r\n");
            // The 404 goes out before the body is read, as nginx's; the body follows in a later read.
            assertKeptAlive404(Fixtures.readResponse(s.getInputStream()));
            Fixtures.send(s, SMUGGLED.substring(0, 10));
            Fixtures.send(s, SMUGGLED.substring(10) + ROUTED);
            assertRoutedThenClosed(s.getInputStream());
        }
    }

    @Test
    void theChunkedBodyOfA404IsDroppedThenTheNextRequestIsServed() throws Exception {
        try (Socket s = connect(lb)) {
            Fixtures.send(s, "POST /none HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            assertKeptAlive404(Fixtures.readResponse(s.getInputStream()));
            Fixtures.send(s, Integer.toHexString(SMUGGLED.length()) + "\r\n" + SMUGGLED + "\r\n");
            Fixtures.send(s, "5\r\nabcde\r\n0\r\nX-Trailer: t\r\n\r\n" + ROUTED);
            assertRoutedThenClosed(s.getInputStream());
        }
    }

    @Test
    void requestsPipelinedBehindA404AreServedInOrder() throws Exception {
        String got = Fixtures.raw(lb, "GET /none HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /also-none HTTP/1.1\r\nHost: x\r\nContent-Length: " + SMUGGLED.length() + "\r\n\r\n" + SMUGGLED
                + "HEAD /none HTTP/1.1\r\nHost: x\r\n\r\n" + ROUTED);
        int first = got.indexOf("HTTP/1.1 404 ");
        int second = got.indexOf("HTTP/1.1 404 ", first + 1);
        int head = got.indexOf("HTTP/1.1 404 ", second + 1);
        int routed = got.indexOf("HTTP/1.1 200 ");
        assertTrue(first == 0 && second > first && head > second && routed > head, got);
        assertTrue(got.endsWith("fine"), "the HEAD's 404 has no body, the routed answer comes last: " + got);
        assertEquals(List.of("/app/next"), targets());
    }

    @Test
    void aClientJdkHttpClientGetsA404AndThenItsNextRequestOnTheSameConnection() throws Exception {
        // Connections of the other tests are gone first, so the count below is this client's.
        Await.until(() -> lb.stats().openConnections() == 0);
        HttpResponse<String> missing = Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/none"))
                .POST(HttpRequest.BodyPublishers.ofString("ignored")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
        assertTrue(missing.headers().firstValue("connection").isEmpty(), missing.headers().toString());
        assertEquals(1, lb.stats().openConnections(), "the connection of the 404 stays open");
        HttpResponse<String> ok = Fixtures.get(lb, "/app/ok");
        assertEquals(200, ok.statusCode());
        assertEquals("fine", ok.body());
        assertEquals(1, lb.stats().openConnections(), "the client's one connection served both");
        assertEquals(List.of("/app/ok"), targets());
    }

    @Test
    void a404ClosesWhenTheClientAskedForIt() throws Exception {
        String got = Fixtures.raw(lb, "GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + ROUTED);
        assertTrue(got.startsWith("HTTP/1.1 404 ") && got.toLowerCase().contains("connection: close"), got);
        assertTrue(got.endsWith("</html>\n"), "one 404, then the close: " + got);
        assertEquals(List.of(), targets());
    }

    @Test
    void a404ToHttp10ClosesUnlessTheClientAskedForKeepAlive() throws Exception {
        String closed = Fixtures.raw(lb, "GET /none HTTP/1.0\r\n\r\n" + ROUTED);
        assertTrue(closed.startsWith("HTTP/1.1 404 ") && closed.endsWith("</html>\n"), closed);
        assertEquals(List.of(), targets());
        String kept = Fixtures.raw(lb, "GET /none HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + ROUTED);
        assertTrue(kept.startsWith("HTTP/1.1 404 ") && kept.toLowerCase().contains("connection: keep-alive"), kept);
        assertTrue(kept.endsWith("fine"), kept);
        assertEquals(List.of("/app/next"), targets());
    }

    /**
     * A 404's body may not be longer than the body limit either: with a {@code Content-Length} over it the
     * answer is 413, checked before the route as nginx checks {@code client_max_body_size} (400, 413 close
     * in nginx); a chunked body found over it while it is dropped ends the keep-alive, the 404 being out:
     * nothing after it is read as a request, and the connection closes.
     */
    @Test
    void a404WhoseBodyIsOverTheLimitCloses() throws Exception {
        String announced = Fixtures.raw(lb, "POST /none HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n"
                + "a".repeat(1001) + ROUTED);
        assertTrue(announced.startsWith("HTTP/1.1 413 ") && announced.endsWith("</html>\n"), announced);
        try (Socket s = connect(lb)) {
            Fixtures.send(s, "POST /none HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            assertKeptAlive404(Fixtures.readResponse(s.getInputStream()));
            Fixtures.send(s, "3e8\r\n" + "a".repeat(1000) + "\r\n1\r\nb\r\n0\r\n\r\n" + ROUTED);
            assertEquals("", Fixtures.readAll(s.getInputStream()), "closed, nothing more answered");
        }
        assertEquals(List.of(), targets());
    }

    @Test
    void a404WhoseBodyStallsForTheBodyTimeoutCloses() throws Exception {
        try (HttpBalancer quick = start(PROXIED.pool(), ProxyTimeouts.builder().clientBody(Duration.ofMillis(300)).build(), false);
                Socket s = connect(quick)) {
            Fixtures.send(s, "POST /none HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
            assertKeptAlive404(Fixtures.readResponse(s.getInputStream()));
            long start = System.nanoTime();
            assertEquals("", Fixtures.readAll(s.getInputStream()), "closed after clientBody of silence");
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(9).toNanos());
            Await.until(() -> quick.stats().openConnections() == 0);
        }
    }

    /**
     * A graceful stop while a 404's body is still coming waits for it, as for a request being served, and
     * then closes the connection: the client that sends the rest reads the end of the stream, not a reset.
     */
    @Test
    void aGracefulStopWaitsForTheBodyOfA404BeingDropped() throws Exception {
        HttpBalancer stopping = start(PROXIED.pool(), ProxyTimeouts.DEFAULT, false);
        try (Socket s = connect(stopping)) {
            Fixtures.send(s, "POST /none HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
            assertKeptAlive404(Fixtures.readResponse(s.getInputStream()));
            java.util.concurrent.CompletableFuture<Void> stopped =
                    java.util.concurrent.CompletableFuture.runAsync(() -> stopping.stop(Duration.ofSeconds(20)));
            Thread.sleep(500);
            assertFalse(stopped.isDone(), "the stop waits for the body being dropped");
            Fixtures.send(s, "67890");
            assertEquals("", Fixtures.readAll(s.getInputStream()), "closed once the body was read");
            stopped.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            stopping.close();
        }
    }

    @Test
    void theAccessLogHasOneLineForEachRequest() throws Exception {
        PrintStream old = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (HttpBalancer logged = start(PROXIED.pool(), ProxyTimeouts.DEFAULT, true)) {
            String got = Fixtures.raw(logged, "POST /none HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    + ROUTED);
            assertTrue(got.endsWith("fine"), got);
        } finally {
            System.setErr(old);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertEquals(1, log.split("\"POST /none HTTP/1.1\" 404 ", -1).length - 1, log);
        assertEquals(1, log.split("\"GET /app/next HTTP/1.1\" 200 4 ", -1).length - 1, log);
    }
}
