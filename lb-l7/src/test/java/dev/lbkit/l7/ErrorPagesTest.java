package dev.lbkit.l7;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * nginx's {@code error_page} with local static pages, at the balancer (server) and route (location) level,
 * and {@code proxy_intercept_errors}, on real sockets.
 */
class ErrorPagesTest {
    private static final String NOT_FOUND = "no such place\n";
    private static final String GATEWAY = "<h1>back soon</h1>\n";
    private static final String ROUTE_GATEWAY = "route-level page";
    private static final String MAINTENANCE = "maintenance, but fine";

    private static TestBackend backend;
    private static HttpBalancer lb;

    @BeforeAll
    static void start() {
        backend = TestBackend.start(Fixtures.loopback(), r -> r.target().endsWith("/chunked500")
                ? Script.builder().status(500).body("upstream boom, length unknown").chunked().build()
                : r.target().endsWith("/500")
                ? Script.builder().status(500).body("upstream boom").build()
                : r.target().endsWith("/404") ? Script.builder().status(404).body("upstream 404").build()
                : Script.ok("fine"));
        UpstreamGroup live = UpstreamGroup.builder(UpstreamPool.of(Fixtures.upstream(backend.port()))).name("live").build();
        ErrorPages balancerPages = ErrorPages.builder()
                .page(ErrorPage.of(bytes(NOT_FOUND), "text/plain; charset=utf-8"), 404)
                .page(ErrorPage.of(bytes(GATEWAY), "text/html").withStatus(503).withRetryAfter(Duration.ofSeconds(5)),
                        502, 504)
                .build();
        lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1).errorPages(balancerPages)
                .route(Route.builder("/app/").group(live).interceptErrors(true).errorPages(ErrorPages.builder()
                        .page(ErrorPage.of(bytes(MAINTENANCE), "text/plain").withStatus(200), 500).build()).build())
                .route(Route.builder("/tight/").group(live).interceptErrors(true).interceptDiscardLimit(4)
                        .errorPages(ErrorPages.builder().page(ErrorPage.of(bytes(MAINTENANCE), "text/plain")
                                .withStatus(200), 500).build()).build())
                .route(Route.builder("/plain/").group(live).build())
                .route(Route.builder("/down/").group(dead("down")).build())
                .route(Route.builder("/routed-down/").group(dead("routed-down")).errorPages(ErrorPages.builder()
                        .page(ErrorPage.of(bytes(ROUTE_GATEWAY), "text/x-route"), 502).build()).build())
                .build().start();
    }

    private static UpstreamGroup dead(String name) {
        return UpstreamGroup.builder(UpstreamPool.of(Fixtures.upstream(Fixtures.deadPort()))).name(name).build();
    }

    @AfterAll
    static void stop() {
        lb.close();
        backend.close();
    }

    @BeforeEach
    void clear() {
        backend.clear();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", lb.address().getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    private static void assertPage(String got, int status, String type, String body) {
        assertTrue(got.startsWith("HTTP/1.1 " + status + " "), got);
        assertEquals(List.of(type), Fixtures.fields(got, "Content-Type"), got);
        assertEquals(List.of(Integer.toString(bytes(body).length)), Fixtures.fields(got, "Content-Length"), got);
        assertTrue(got.endsWith("\r\n\r\n" + body), got);
    }

    /** Sends a keep-alive GET of {@code path} on {@code s} and reads its response. */
    private static String get(Socket s, String path) throws IOException {
        Fixtures.send(s, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
        return Fixtures.readResponse(s.getInputStream());
    }

    /** {@link #assertPage}, on a connection the proxy keeps open. */
    private static void assertPageKeptAlive(String got, int status, String type, String body) {
        assertPage(got, status, type, body);
        assertFalse(got.toLowerCase().contains("connection: close"), got);
    }

    @Test
    void balancerPageForNoRouteKeepsTheConnection() throws IOException {
        try (Socket s = connect()) {
            assertPageKeptAlive(get(s, "/nowhere"), 404, "text/plain; charset=utf-8", NOT_FOUND);
            assertPage(get(s, "/nowhere/again"), 404, "text/plain; charset=utf-8", NOT_FOUND);
        }
    }

    @Test
    void balancerPageForUpstreamDownWithChangedStatusAndRetryAfter() throws Exception {
        HttpResponse<String> r = Fixtures.get(lb, "/down/x");
        assertEquals(503, r.statusCode());
        assertEquals(GATEWAY, r.body());
        assertEquals("text/html", r.headers().firstValue("content-type").orElseThrow());
        assertEquals("5", r.headers().firstValue("retry-after").orElseThrow());
        assertEquals(1, lb.stats().routes().get("/down/").responses(5), "counted under the status sent");
    }

    @Test
    void routePagesOverrideTheBalancers() throws Exception {
        HttpResponse<String> r = Fixtures.get(lb, "/routed-down/x");
        assertEquals(502, r.statusCode());
        assertEquals(ROUTE_GATEWAY, r.body());
        assertEquals("text/x-route", r.headers().firstValue("content-type").orElseThrow());
        assertTrue(r.headers().firstValue("retry-after").isEmpty(), "none of the balancer's page");
    }

    @Test
    void interceptReplacesAnUpstreamErrorAndKeepsBothConnections() throws IOException {
        try (Socket s = connect()) {
            for (int i = 0; i < 3; i++) {
                assertPageKeptAlive(get(s, "/app/500"), 200, "text/plain", MAINTENANCE);
            }
        }
        assertEquals(3, backend.requestCount());
        // An upstream connection closed after each would make at least two new ones (one may be pooled already).
        assertTrue(backend.connectionCount() <= 1, "the upstream's body was dropped and its connection reused");
        TrafficStats app = lb.stats().routes().get("/app/");
        assertEquals(0, app.responses(5), "counted under the status sent");
        assertTrue(app.responses(2) >= 3);
    }

    /** A body over the route's discard limit (13 bytes against 4) closes the upstream connection each time. */
    @Test
    void interceptOfABodyOverTheDiscardLimitClosesTheUpstream() throws IOException {
        try (Socket s = connect()) {
            for (int i = 0; i < 3; i++) {
                assertPageKeptAlive(get(s, "/tight/500"), 200, "text/plain", MAINTENANCE);
            }
        }
        assertEquals(3, backend.requestCount());
        assertTrue(backend.connectionCount() >= 2, "a new upstream connection after each closed one");
        try (UpstreamPool pool = UpstreamPool.of(Fixtures.upstream(1))) {
            assertEquals(Route.Builder.DEFAULT_INTERCEPT_DISCARD_LIMIT,
                    Route.builder("/").group(UpstreamGroup.of(pool)).build().interceptDiscardLimit());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Route.builder("/").interceptDiscardLimit(-1))
                .getMessage().contains("interceptDiscardLimit"));
    }

    @Test
    void interceptOfABodyOfUnknownLengthClosesTheUpstreamNotTheClient() throws IOException {
        try (Socket s = connect()) {
            assertPageKeptAlive(get(s, "/app/chunked500"), 200, "text/plain", MAINTENANCE);
            String next = get(s, "/app/ok");
            assertTrue(next.startsWith("HTTP/1.1 200 ") && next.endsWith("fine"), next);
        }
    }

    @Test
    void interceptPassesAStatusWithoutAPage() throws Exception {
        // The route's pages replace the balancer's: its 404 page is not inherited.
        HttpResponse<String> r = Fixtures.get(lb, "/app/404");
        assertEquals(404, r.statusCode());
        assertEquals("upstream 404", r.body());
    }

    @Test
    void withoutInterceptUpstreamErrorsPass() throws Exception {
        HttpResponse<String> r = Fixtures.get(lb, "/plain/500");
        assertEquals(500, r.statusCode());
        assertEquals("upstream boom", r.body());
    }

    @Test
    void headGetsThePagesHeadWithoutItsBody() throws IOException {
        try (Socket s = connect()) {
            InputStream in = s.getInputStream();
            Fixtures.send(s, "HEAD /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.read());
            }
            String got = head.toString();
            assertTrue(got.startsWith("HTTP/1.1 404 "), got);
            assertEquals(List.of(Integer.toString(NOT_FOUND.length())), Fixtures.fields(got, "Content-Length"));
            // No body follows: the next response is the next bytes on the connection.
            String next = get(s, "/app/ok");
            assertTrue(next.startsWith("HTTP/1.1 200 ") && next.endsWith("fine"), next);
        }
    }

    @Test
    void interceptOfAHeadSendsNoBody() throws IOException {
        String got = Fixtures.raw(lb, "HEAD /app/500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(got.startsWith("HTTP/1.1 200 "), got);
        assertEquals(List.of(Integer.toString(MAINTENANCE.length())), Fixtures.fields(got, "Content-Length"));
        assertTrue(got.endsWith("\r\n\r\n"), got);
    }

    @Test
    void badConfigurationIsRefusedNamingIt() {
        ErrorPage p = ErrorPage.of(new byte[0], "text/plain");
        IllegalArgumentException low = assertThrows(IllegalArgumentException.class,
                () -> ErrorPages.builder().page(p, 200));
        assertTrue(low.getMessage().contains("200"), low.getMessage());
        IllegalArgumentException high = assertThrows(IllegalArgumentException.class,
                () -> ErrorPages.builder().page(p, 502, 600));
        assertTrue(high.getMessage().contains("600"), high.getMessage());
        NullPointerException body = assertThrows(NullPointerException.class, () -> ErrorPage.of(null, "text/plain"));
        assertEquals("body", body.getMessage());
        IllegalArgumentException noBody = assertThrows(IllegalArgumentException.class, () -> p.withStatus(204));
        assertTrue(noBody.getMessage().contains("204"), noBody.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ErrorPage.of(new byte[0], "text/plain\r\nX: y"));
    }
}
