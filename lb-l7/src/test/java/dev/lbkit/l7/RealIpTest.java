package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.loopback;
import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link RealIp} on a listener (nginx's realip module), seen from the backend: the {@code X-Forwarded-For}
 * and {@code Forwarded} it receives, and a route limit keyed by the client address. Raw sockets, bound to
 * chosen loopback addresses, so that a connection is trusted or not.
 */
class RealIpTest {
    private static final String TRUSTED = "127.0.0.1/32";

    private static HttpBalancer start(TestBackend backend, Listener.Builder listener, RealIp realIp, Route.Builder route) {
        UpstreamPool pool = UpstreamPool.builder().add(upstream(backend.port())).build();
        return HttpBalancer.builder().listen(listener.realIp(realIp).build()).eventLoops(1)
                .route(route.group(UpstreamGroup.of(pool)).forwarded(ForwardedHeader.X_FORWARDED_FOR,
                        ForwardedHeader.FORWARDED).build())
                .build().start();
    }

    private static HttpBalancer start(TestBackend backend, RealIp realIp) {
        return start(backend, Listener.builder(loopback()), realIp, Route.builder("/"));
    }

    /** Trusting {@code cidrs}, reading {@code X-Forwarded-For} (nginx's default header is X-Real-IP). */
    private static RealIp.Builder trust(String... cidrs) {
        return RealIp.builder().trust(cidrs).header("X-Forwarded-For");
    }

    /** Sends one GET with {@code headers} (each "Name: value") on {@code s}; returns the response. */
    private static String get(Socket s, String... headers) throws IOException {
        StringBuilder b = new StringBuilder("GET /a HTTP/1.1\r\nHost: x\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        Fixtures.send(s, b.append("\r\n").toString());
        return Fixtures.readResponse(s.getInputStream());
    }

    /** The backend's view of one request from {@code local} with {@code headers}. */
    private static RecordedRequest seen(HttpBalancer lb, TestBackend backend, String local, String... headers)
            throws IOException {
        try (Socket s = Fixtures.from(local, lb)) {
            String answer = get(s, headers);
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        }
        List<RecordedRequest> r = backend.requests();
        return r.get(r.size() - 1);
    }

    private static String xff(RecordedRequest r) {
        return String.join(", ", r.headers("X-Forwarded-For"));
    }

    @Test
    void aTrustedConnectionsHeaderNamesTheClientAndIsAppendedToAsNginxDoes() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(backend, trust(TRUSTED).build())) {
            RecordedRequest r = seen(lb, backend, "127.0.0.1", "X-Forwarded-For: 203.0.113.9, 198.51.100.2");
            // $proxy_add_x_forwarded_for appends $remote_addr, which realip made the header's last address.
            assertEquals("203.0.113.9, 198.51.100.2, 198.51.100.2", xff(r));
            assertTrue(r.header("Forwarded").orElseThrow().startsWith("for=198.51.100.2;"), r.headers().toString());
        }
    }

    @Test
    void anUntrustedConnectionsHeaderIsIgnored() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(backend, trust("127.0.0.2/32", "10.0.0.0/8").build())) {
            RecordedRequest r = seen(lb, backend, "127.0.0.1", "X-Forwarded-For: 198.51.100.2");
            assertEquals("198.51.100.2, 127.0.0.1", xff(r));
            assertTrue(r.header("Forwarded").orElseThrow().startsWith("for=127.0.0.1;"));
            assertEquals("198.51.100.2, 198.51.100.2",
                    xff(seen(lb, backend, "127.0.0.2", "X-Forwarded-For: 198.51.100.2")));
        }
    }

    @Test
    void recursiveWalksPastTrustedAddressesAndNonRecursiveTakesTheLast() throws Exception {
        String chain = "X-Forwarded-For: 203.0.113.9, 10.1.1.1,10.2.2.2";
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer plain = start(backend, trust(TRUSTED, "10.0.0.0/8").build());
                HttpBalancer recursive = start(backend, trust(TRUSTED, "10.0.0.0/8").recursive(true).build())) {
            assertEquals("203.0.113.9, 10.1.1.1,10.2.2.2, 10.2.2.2", xff(seen(plain, backend, "127.0.0.1", chain)));
            assertEquals("203.0.113.9, 10.1.1.1,10.2.2.2, 203.0.113.9",
                    xff(seen(recursive, backend, "127.0.0.1", chain)));
            // All trusted: the leftmost.
            assertEquals("10.0.0.1, 10.0.0.2, 10.0.0.1",
                    xff(seen(recursive, backend, "127.0.0.1", "X-Forwarded-For: 10.0.0.1, 10.0.0.2")));
            // Two lines are one list (nginx walks them all).
            assertEquals("203.0.113.9, 10.0.0.2, 203.0.113.9", xff(seen(recursive, backend, "127.0.0.1",
                    "X-Forwarded-For: 203.0.113.9", "X-Forwarded-For: 10.0.0.2")));
        }
    }

    @Test
    void theDefaultHeaderIsXRealIpAsNginxs() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(backend, RealIp.builder().trust(TRUSTED).build())) {
            RecordedRequest r = seen(lb, backend, "127.0.0.1", "X-Forwarded-For: 192.0.2.1",
                    "X-Real-IP: 198.51.100.7");
            assertEquals("192.0.2.1, 198.51.100.7", xff(r));
            assertTrue(r.header("Forwarded").orElseThrow().startsWith("for=198.51.100.7;"), r.headers().toString());
            // X-Forwarded-For alone names nobody then.
            assertEquals("192.0.2.1, 127.0.0.1", xff(seen(lb, backend, "127.0.0.1", "X-Forwarded-For: 192.0.2.1")));
        }
    }

    /**
     * nginx 1.11.0 and later take an address with a port (RFC 3986: {@code 192.0.2.1:5555},
     * {@code [2001:db8::1]:5555}) and ignore an entry that is not valid, keeping the connection's address.
     * (The port reaches upstreams in a PROXY header: {@code ProxyProtocolTest}.)
     */
    @Test
    void anAddressWithAPortIsTakenAndAMalformedOneIgnoredAsNginxDoes() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(backend, RealIp.builder().trust(TRUSTED).build())) {
            assertEquals("192.0.2.1", xff(seen(lb, backend, "127.0.0.1", "X-Real-IP: 192.0.2.1:5555")));
            assertEquals("192.0.2.1", xff(seen(lb, backend, "127.0.0.1", "X-Real-IP: 192.0.2.1:00080")));
            RecordedRequest v6 = seen(lb, backend, "127.0.0.1", "X-Real-IP: [2001:db8::1]:5555");
            assertEquals("2001:db8::1", xff(v6));
            assertTrue(v6.header("Forwarded").orElseThrow().startsWith("for=\"[2001:db8::1]\";"), v6.headers().toString());
            for (String bad : new String[] {"192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:", "192.0.2.1:8o",
                "192.0.2.1:80:81", "[2001:db8::1]", "[2001:db8::1]:", "2001:db8::1]:80", "192.0.2:80", "host:80"}) {
                assertEquals("127.0.0.1", xff(seen(lb, backend, "127.0.0.1", "X-Real-IP: " + bad)), bad);
            }
        }
    }

    @Test
    void aCustomHeaderIsReadAndAnInvalidAddressKeepsTheConnections() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(backend, trust(TRUSTED).header("X-Client").build())) {
            RecordedRequest r = seen(lb, backend, "127.0.0.1", "X-Client: 198.51.100.7",
                    "X-Forwarded-For: 192.0.2.1", "X-Real-IP: 192.0.2.2");
            assertEquals("192.0.2.1, 198.51.100.7", xff(r));
            assertEquals("127.0.0.1", xff(seen(lb, backend, "127.0.0.1", "X-Client: nonsense")));
            assertEquals("127.0.0.1", xff(seen(lb, backend, "127.0.0.1", "X-Client: 198.51.100.300")));
            assertEquals("198.51.100.8", xff(seen(lb, backend, "127.0.0.1", "X-Client: 198.51.100.8:4711")));
        }
    }

    @Test
    void ipv6CidrsAndAddresses() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(backend, trust(TRUSTED, "2001:db8::/32").recursive(true).build())) {
            RecordedRequest r = seen(lb, backend, "127.0.0.1", "X-Forwarded-For: 2001:db9::1, [2001:db8:ffff::5]:443");
            assertEquals("2001:db9::1, [2001:db8:ffff::5]:443, 2001:db9::1", xff(r));
            assertTrue(r.header("Forwarded").orElseThrow().startsWith("for=\"[2001:db9::1]\";"));
        }
    }

    @Test
    void eachRequestOfAKeepAliveConnectionIsReadAnew() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(backend, trust(TRUSTED).build());
                Socket s = Fixtures.from("127.0.0.1", lb)) {
            assertTrue(get(s, "X-Forwarded-For: 198.51.100.2").startsWith("HTTP/1.1 200"));
            assertTrue(get(s).startsWith("HTTP/1.1 200"));
            assertTrue(get(s, "X-Forwarded-For: 198.51.100.3").startsWith("HTTP/1.1 200"));
            List<RecordedRequest> r = backend.requests();
            assertEquals("198.51.100.2, 198.51.100.2", xff(r.get(0)));
            assertEquals("127.0.0.1", xff(r.get(1)));
            assertEquals("198.51.100.3, 198.51.100.3", xff(r.get(2)));
        }
    }

    @Test
    void onAProxyProtocolListenerTrustIsCheckedAgainstTheAddressItsHeaderNames() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = start(backend, Listener.builder(loopback()).acceptProxyProtocol(true),
                        trust("203.0.113.7").build(), Route.builder("/"))) {
            for (String proxied : new String[] {"203.0.113.7", "203.0.113.8"}) {
                try (Socket s = Fixtures.from("127.0.0.1", lb)) {
                    Fixtures.send(s, "PROXY TCP4 " + proxied + " 198.51.100.1 5555 80\r\n");
                    assertTrue(get(s, "X-Forwarded-For: 192.0.2.4").startsWith("HTTP/1.1 200"));
                }
            }
            List<RecordedRequest> r = backend.requests();
            assertEquals("192.0.2.4, 192.0.2.4", xff(r.get(0)));
            assertEquals("192.0.2.4, 203.0.113.8", xff(r.get(1)));
        }
    }

    @Test
    void aConcurrencyLimitKeyedByClientAddressFollowsTheRealAddress() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(800)).build());
                HttpBalancer lb = start(backend, Listener.builder(loopback()), trust(TRUSTED).build(),
                        Route.builder("/").limit(ConcurrencyLimit.of(1).build()));
                Socket one = Fixtures.from("127.0.0.1", lb);
                Socket other = Fixtures.from("127.0.0.1", lb);
                Socket oneAgain = Fixtures.from("127.0.0.1", lb)) {
            Fixtures.send(one, "GET /a HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n");
            Await.until(() -> backend.requestCount() == 1);
            assertTrue(get(oneAgain, "X-Forwarded-For: 198.51.100.1").startsWith("HTTP/1.1 503 "));
            assertTrue(get(other, "X-Forwarded-For: 198.51.100.2").startsWith("HTTP/1.1 200 "));
            assertTrue(Fixtures.readResponse(one.getInputStream()).startsWith("HTTP/1.1 200 "));
        }
    }

    @Test
    void badOptionsAreRefusedNamingThem() {
        for (String bad : new String[] {"10.0.0.0/33", "2001:db8::/129", "10.0.0/8", "example.com", "::1::/8", "1.2.3.4/",
            "10.0.0.0/-1", "", "1.2.3.4:80"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RealIp.builder().trust(bad));
            assertTrue(e.getMessage().contains("\"" + bad + "\""), e.getMessage());
        }
        assertThrows(IllegalStateException.class, () -> RealIp.builder().build());
        assertThrows(IllegalArgumentException.class, () -> RealIp.builder().header("X Real"));
        assertThrows(NullPointerException.class, () -> RealIp.builder().trust((String) null));
        RealIp r = RealIp.builder().trust("10.1.2.3/8", "2001:DB8::1/32", "192.0.2.1").build();
        assertEquals(List.of("10.0.0.0/8", "2001:db8::/32", "192.0.2.1/32"), r.trusted());
        assertEquals("X-Real-IP", r.header());
        assertEquals(false, r.recursive());
    }
}
