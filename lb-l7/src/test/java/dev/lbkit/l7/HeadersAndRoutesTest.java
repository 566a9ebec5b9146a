package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeadersAndRoutesTest {

    private static HttpBalancer start(Route... routes) {
        HttpBalancer.Builder b = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1);
        for (Route r : routes) {
            b.route(r);
        }
        return b.build().start();
    }

    private static RecordedRequest last(TestBackend b) {
        return b.requests().get(b.requestCount() - 1);
    }

    @Test
    void hopByHopHeadersAreRemovedBothWays() throws Exception {
        Script s = Script.builder().body("x").header("Connection", "X-Resp-Hop").header("X-Resp-Hop", "1")
                .header("Keep-Alive", "timeout=5").header("X-End", "2").build();
        try (TestBackend b = TestBackend.start(s); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = start(Route.builder("/").group(UpstreamGroup.of(pool)).build())) {
            String got = Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n"
                    + "Keep-Alive: 300\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: foo\r\n"
                    + "X-Keep: yes\r\n\r\n");
            RecordedRequest r = last(b);
            for (String h : List.of("X-Hop", "Keep-Alive", "Proxy-Connection", "TE", "Upgrade")) {
                assertTrue(r.header(h).isEmpty(), h + " reached the upstream");
            }
            assertTrue(r.header("Connection").isEmpty(), "Connection reached the upstream");
            assertEquals("yes", r.header("X-Keep").orElseThrow());
            String lower = got.toLowerCase();
            assertFalse(lower.contains("x-resp-hop"), got);
            assertFalse(lower.contains("keep-alive:"), got);
            assertTrue(lower.contains("x-end: 2"), got);
        }
    }

    @Test
    void headerRulesSetAddAndRemove() throws Exception {
        Script s = Script.builder().body("x").header("Server", "secret/1.0").header("X-Up", "u").build();
        try (TestBackend b = TestBackend.start(s); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = start(Route.builder("/").group(UpstreamGroup.of(pool))
                        .setRequestHeader("X-high-load-test", "123").addRequestHeader("X-Multi", "b")
                        .removeRequestHeader("Cookie").removeResponseHeader("Server")
                        .addResponseHeader("X-Served-By", "lbkit").setResponseHeader("X-Up", "changed").build())) {
            String got = Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nX-high-load-test: 1\r\n"
                    + "X-Multi: a\r\nCookie: c=1\r\n\r\n");
            RecordedRequest r = last(b);
            assertEquals(List.of("123"), r.headers("X-high-load-test"));
            assertEquals(List.of("a", "b"), r.headers("X-Multi"));
            assertTrue(r.header("Cookie").isEmpty());
            String lower = got.toLowerCase();
            assertFalse(lower.contains("secret"), got);
            assertTrue(lower.contains("x-served-by: lbkit"), got);
            assertTrue(lower.contains("x-up: changed"), got);
        }
    }

    @Test
    void setRequestHeaderStripsItsValueAndAnEmptyOneRemovesTheHeader() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("x").build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = start(Route.builder("/").group(UpstreamGroup.of(pool))
                        .setRequestHeader("X-Trim", "  v \t").setRequestHeader("X-Gone", "").build())) {
            String got = Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nX-Gone: 1\r\n\r\n");
            assertTrue(got.startsWith("HTTP/1.1 200"), got);
            RecordedRequest r = last(b);
            assertEquals(List.of("v"), r.headers("X-Trim"));
            assertTrue(r.header("X-Gone").isEmpty(), "X-Gone reached the upstream");
        }
    }

    @Test
    void hostPolicies() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.builder().name("backend").add(upstream(b.port())).build();
                HttpBalancer lb = start(
                        Route.builder("/preserve").group(UpstreamGroup.of(pool)).build(),
                        Route.builder("/group").group(UpstreamGroup.of(pool)).hostHeader(HostHeader.groupName()).build(),
                        Route.builder("/address").group(UpstreamGroup.of(pool))
                                .hostHeader(HostHeader.upstreamAddress()).build(),
                        Route.builder("/fixed").group(UpstreamGroup.of(pool))
                                .hostHeader(HostHeader.fixed("api.internal")).build())) {
            Fixtures.raw(lb, "GET /preserve HTTP/1.1\r\nHost: client.example:8080\r\nConnection: close\r\n\r\n");
            assertEquals("client.example:8080", last(b).header("Host").orElseThrow());
            Fixtures.raw(lb, "GET /group HTTP/1.1\r\nHost: client.example\r\nConnection: close\r\n\r\n");
            assertEquals("backend", last(b).header("Host").orElseThrow());
            Fixtures.raw(lb, "GET /address HTTP/1.1\r\nHost: client.example\r\nConnection: close\r\n\r\n");
            assertEquals("127.0.0.1:" + b.port(), last(b).header("Host").orElseThrow());
            Fixtures.raw(lb, "GET /fixed HTTP/1.1\r\nHost: client.example\r\nConnection: close\r\n\r\n");
            assertEquals("api.internal", last(b).header("Host").orElseThrow());
        }
    }

    @Test
    void aHostHeaderRuleWinsOverTheHostPolicy() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.builder().name("backend").add(upstream(b.port())).build();
                HttpBalancer lb = start(
                        Route.builder("/preserve").group(UpstreamGroup.of(pool)).setRequestHeader("host", "ruled.example")
                                .build(),
                        Route.builder("/group").group(UpstreamGroup.of(pool)).hostHeader(HostHeader.groupName())
                                .setRequestHeader("Host", "ruled.example").build())) {
            // proxy_set_header Host …: the rule is what the upstream gets, whatever the policy.
            for (String path : List.of("/preserve", "/group")) {
                Fixtures.raw(lb, "GET " + path + " HTTP/1.1\r\nHost: client.example\r\nConnection: close\r\n\r\n");
                assertEquals(List.of("ruled.example"), last(b).headers("Host"), path);
            }
        }
    }

    @Test
    void forwardingHeadersAreOptionalAndAppend() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = start(
                        Route.builder("/plain").group(UpstreamGroup.of(pool)).build(),
                        Route.builder("/fwd").group(UpstreamGroup.of(pool)).forwarded(ForwardedHeader.values()).build())) {
            Fixtures.raw(lb, "GET /plain HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            assertTrue(last(b).header("X-Forwarded-For").isEmpty());
            assertTrue(last(b).header("Forwarded").isEmpty());
            Fixtures.raw(lb, "GET /fwd HTTP/1.1\r\nHost: site.example\r\nConnection: close\r\n"
                    + "X-Forwarded-For: 203.0.113.9\r\nForwarded: for=203.0.113.9\r\n\r\n");
            RecordedRequest r = last(b);
            assertEquals("203.0.113.9, 127.0.0.1", r.header("X-Forwarded-For").orElseThrow());
            assertEquals("http", r.header("X-Forwarded-Proto").orElseThrow());
            assertEquals("site.example", r.header("X-Forwarded-Host").orElseThrow());
            assertEquals("for=203.0.113.9, for=127.0.0.1;proto=http;host=\"site.example\"",
                    r.header("Forwarded").orElseThrow());
        }
    }

    @Test
    void anIpv6ClientIsForwardedInItsShortForm() throws Exception {
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("::1"))) {
            probe.getLocalPort();
        } catch (java.io.IOException e) {
            org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback: " + e);
        }
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(new java.net.InetSocketAddress("::1", 0)).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool))
                                .forwarded(ForwardedHeader.X_FORWARDED_FOR, ForwardedHeader.FORWARDED).build())
                        .build().start();
                java.net.Socket s = new java.net.Socket("::1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertTrue(Fixtures.readAll(s.getInputStream()).startsWith("HTTP/1.1 200 "));
            // As nginx's $remote_addr (RFC 5952), quoted and bracketed in Forwarded (RFC 7239 §6).
            assertEquals(List.of("::1"), last(b).headers("X-Forwarded-For"));
            assertEquals(List.of("for=\"[::1]\";proto=http;host=\"h\""), last(b).headers("Forwarded"));
        }
    }

    @Test
    void forwardingHeadersAppendToEveryIncomingLine() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = start(Route.builder("/").group(UpstreamGroup.of(pool))
                        .forwarded(ForwardedHeader.X_FORWARDED_FOR, ForwardedHeader.FORWARDED).build())) {
            // Several lines of a list field are one list (RFC 9110 §5.3): no hop a later line names is lost.
            Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nX-Forwarded-For: 192.0.2.1\r\n"
                    + "X-Forwarded-For: 192.0.2.2, 192.0.2.3\r\nForwarded: for=192.0.2.1\r\nForwarded: for=192.0.2.2\r\n\r\n");
            RecordedRequest r = last(b);
            assertEquals(List.of("192.0.2.1, 192.0.2.2, 192.0.2.3, 127.0.0.1"), r.headers("X-Forwarded-For"));
            assertEquals(List.of("for=192.0.2.1, for=192.0.2.2, for=127.0.0.1;proto=http;host=\"h\""),
                    r.headers("Forwarded"));
        }
    }

    @Test
    void forwardedQuotesTheClientHostSafely() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = start(Route.builder("/").group(UpstreamGroup.of(pool))
                        .forwarded(ForwardedHeader.FORWARDED).build())) {
            // A quote in Host must not close the quoted-string and add a forged for= to the element.
            Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: x\";for=192.0.2.9;a=\"\r\nConnection: close\r\n\r\n");
            assertEquals(List.of("for=127.0.0.1;proto=http;host=\"x\\\";for=192.0.2.9;a=\\\"\""),
                    last(b).headers("Forwarded"));
        }
    }

    @Test
    void routesByHostAndLongestPrefixWithRewrite() throws Exception {
        try (TestBackend api = TestBackend.start(Script.ok("api")); TestBackend web = TestBackend.start(Script.ok("web"));
                TestBackend admin = TestBackend.start(Script.ok("admin"));
                UpstreamPool apiPool = UpstreamPool.of(upstream(api.port()));
                UpstreamPool webPool = UpstreamPool.of(upstream(web.port()));
                UpstreamPool adminPool = UpstreamPool.of(upstream(admin.port()));
                HttpBalancer lb = start(
                        Route.builder("/").group(UpstreamGroup.of(webPool)).build(),
                        Route.builder("/api/").group(UpstreamGroup.of(apiPool)).rewritePrefix("/v2/").build(),
                        Route.builder("/").host("admin.example").group(UpstreamGroup.of(adminPool)).build())) {
            assertTrue(Fixtures.raw(lb, "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").endsWith("web"));
            assertTrue(Fixtures.raw(lb, "GET /api/users?id=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .endsWith("api"));
            assertEquals("/v2/users?id=1", last(api).target());
            assertTrue(Fixtures.raw(lb, "GET /api/x HTTP/1.1\r\nHost: Admin.Example:80\r\nConnection: close\r\n\r\n")
                    .endsWith("admin"));
            // One keep-alive connection, the Host changing between requests: each request routes by its own.
            try (java.net.Socket s = new java.net.Socket(lb.address().getAddress(), lb.address().getPort())) {
                s.setSoTimeout(5000);
                for (String[] hostAndBody : new String[][] {{"x", "web"}, {"admin.example", "admin"}, {"x", "web"},
                        {"ADMIN.example:8080", "admin"}}) {
                    s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + hostAndBody[0] + "\r\n\r\n")
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    String r = Fixtures.readResponse(s.getInputStream());
                    assertTrue(r.endsWith(hostAndBody[1]), hostAndBody[0] + ": " + r);
                }
            }
            lb.routes(List.of(Route.builder("/").group(UpstreamGroup.of(apiPool)).build()));
            assertTrue(Fixtures.raw(lb, "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").endsWith("api"));
        }
    }

    @Test
    void hostWithATrailingDotOrAPortOrAnIpv6LiteralMatchesItsRoute() throws Exception {
        try (TestBackend web = TestBackend.start(Script.ok("web")); TestBackend admin = TestBackend.start(Script.ok("admin"));
                UpstreamPool webPool = UpstreamPool.of(upstream(web.port()));
                UpstreamPool adminPool = UpstreamPool.of(upstream(admin.port()));
                HttpBalancer lb = start(Route.builder("/").group(UpstreamGroup.of(webPool)).build(),
                        Route.builder("/").host("admin.example").group(UpstreamGroup.of(adminPool)).build(),
                        Route.builder("/").host("[::1]").group(UpstreamGroup.of(adminPool)).build(),
                        Route.builder("/").host("Fqdn.Example.").group(UpstreamGroup.of(adminPool)).build())) {
            // As nginx (ngx_http_validate_host): case, port and a trailing dot do not change the name.
            for (String host : List.of("admin.example.", "ADMIN.Example.:8080", "admin.example:", "[::1]:8080", "[::1]",
                    "fqdn.example", "fqdn.example.")) {
                String got = Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
                assertTrue(got.endsWith("admin"), host + " -> " + got);
            }
            assertEquals("admin.example.", admin.requests().get(0).header("Host").orElseThrow(),
                    "the Host itself goes on unchanged");
        }
    }

    @Test
    void unroutedRequestIs404() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = start(Route.builder("/only/").group(UpstreamGroup.of(pool)).build())) {
            String got = Fixtures.raw(lb, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(got.startsWith("HTTP/1.1 404 "), got);
            assertEquals(0, b.requestCount());
        }
    }

    @Test
    void prefixRoutesCannotBeBypassedWithDotSegmentsOrEscapes() throws Exception {
        try (TestBackend pub = TestBackend.start(Script.ok("public")); TestBackend adm = TestBackend.start(Script.ok("admin"));
                UpstreamPool pubPool = UpstreamPool.of(upstream(pub.port()));
                UpstreamPool admPool = UpstreamPool.of(upstream(adm.port()));
                HttpBalancer lb = start(Route.builder("/").group(UpstreamGroup.of(pubPool)).build(),
                        Route.builder("/admin/").group(UpstreamGroup.of(admPool)).build())) {
            for (String path : List.of("/public/../admin/x", "//admin/x", "/%61dmin/x", "/./admin/x")) {
                String got = Fixtures.raw(lb, "GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                assertTrue(got.endsWith("admin"), path + " -> " + got);
            }
            String bad = Fixtures.raw(lb, "GET /../x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            assertTrue(bad.startsWith("HTTP/1.1 400 "), bad);
            assertEquals(0, pub.requestCount());
        }
    }

    @Test
    void rewrittenPathIsEscapedAgainAfterNormalization() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = start(Route.builder("/api/").group(UpstreamGroup.of(pool)).rewritePrefix("/v2/").build())) {
            // As nginx (ngx_escape_uri): what the normalization decoded is escaped again where it would change
            // the target (a decoded '?' starting a query, '#', '%', space, non-ASCII bytes); the rest stays decoded.
            String[][] cases = {{"/api/a%20b?x=1", "/v2/a%20b?x=1"}, {"/api/a%3Fb", "/v2/a%3Fb"},
                {"/api/a%23b", "/v2/a%23b"}, {"/api/a%25b", "/v2/a%25b"}, {"/api/%C3%A9", "/v2/%C3%A9"},
                {"/api/%61b", "/v2/ab"}, {"/api//x/./y?q=%20", "/v2/x/y?q=%20"}};
            for (String[] c : cases) {
                String got = Fixtures.raw(lb, "GET " + c[0] + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                assertTrue(got.startsWith("HTTP/1.1 200 "), c[0] + " -> " + got);
                assertEquals(c[1], last(b).target(), c[0]);
            }
        }
    }
}
