package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.fields;
import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/**
 * nginx's {@code proxy_redirect}: the upstream's Location and Refresh headers as the route's rules rewrite
 * them, through real sockets (raw ones where the exact bytes matter, the JDK client, not following
 * redirects, elsewhere).
 */
class RedirectRewriteTest {
    private static final HttpClient NO_FOLLOW = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

    /** A backend answering each request target with the response {@code scripts} gives it (else 200). */
    private static TestBackend backend(Map<String, Script> scripts) {
        Function<RecordedRequest, Script> router = r -> scripts.getOrDefault(r.target(), Script.ok("plain"));
        return TestBackend.start(Fixtures.loopback(), router);
    }

    private static Script redirect(int status, String... headers) {
        Script.Builder s = Script.builder().status(status);
        for (int i = 0; i < headers.length; i += 2) {
            s.header(headers[i], headers[i + 1]);
        }
        return s.build();
    }

    private static HttpBalancer start(Route route) {
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1).route(route).build().start();
    }

    private static UpstreamPool pool(String name, int port) {
        return UpstreamPool.builder().name(name).add(upstream(port)).build();
    }

    /**
     * A backend answering as {@code answers} says, its pool named {@code backend}, and a proxy with the route
     * {@code /one/} → {@code http://backend/two/} whose redirect rules {@code rules} sets.
     */
    private record Proxy(TestBackend backend, UpstreamPool pool, HttpBalancer lb) implements AutoCloseable {
        String get(String path) throws Exception {
            return RedirectRewriteTest.get(lb, path);
        }

        @Override
        public void close() {
            lb.close();
            pool.close();
            backend.close();
        }
    }

    private static Proxy proxy(Map<String, Script> answers, UnaryOperator<Route.Builder> rules) {
        TestBackend b = backend(answers);
        UpstreamPool pool = pool("backend", b.port());
        return new Proxy(b, pool, start(rules.apply(Route.builder("/one/").group(UpstreamGroup.of(pool))
                .rewritePrefix("/two/")).build()));
    }

    private static String get(HttpBalancer lb, String path) throws Exception {
        return Fixtures.raw(lb, "GET " + path + " HTTP/1.1\r\nHost: front.example\r\nConnection: close\r\n\r\n");
    }

    @Test
    void defaultRuleUndoesThePrefixRewrite() throws Exception {
        try (Proxy p = proxy(Map.of("/two/x?y=1", redirect(302, "Location", "http://backend/two/x?y=1"),
                        "/two/case", redirect(301, "Location", "HTTP://Backend/two/case"),
                        "/two/path-case", redirect(301, "Location", "http://backend/TWO/path-case")), r -> r)) {
            HttpResponse<String> r = NO_FOLLOW.send(HttpRequest.newBuilder(Fixtures.uri(p.lb(), "/one/x?y=1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(302, r.statusCode());
            assertEquals(List.of("/one/x?y=1"), r.headers().allValues("location"));
            assertEquals("/two/x?y=1", p.backend().requests().get(0).target());
            // Scheme and host compare ignoring case, the path exactly (as nginx compares all of it).
            assertEquals(List.of("/one/case"), fields(p.get("/one/case"), "Location"));
            assertEquals(List.of("http://backend/TWO/path-case"), fields(p.get("/one/path-case"), "Location"));
        }
    }

    @Test
    void defaultRuleWithoutPrefixRewriteMapsTheGroupsRootToSlash() throws Exception {
        try (TestBackend b = backend(Map.of("/one/x", redirect(302, "Location", "http://backend/one/y"),
                        "/one/z", redirect(302, "Location", "http://backend:8080/one/y")));
                UpstreamPool pool = pool("backend", b.port());
                HttpBalancer lb = start(Route.builder("/one/").group(UpstreamGroup.of(pool)).build())) {
            assertEquals(List.of("/one/y"), fields(get(lb, "/one/x"), "Location"));
            // Another authority (here a port) is not the group's name: left as it is.
            assertEquals(List.of("http://backend:8080/one/y"), fields(get(lb, "/one/z"), "Location"));
        }
    }

    @Test
    void defaultRuleFollowsTheGroupsNameNotThePools() throws Exception {
        try (TestBackend b = backend(Map.of("/a", redirect(302, "Location", "http://api/b"),
                        "/c", redirect(302, "Location", "http://pool/d")));
                UpstreamPool pool = pool("pool", b.port());
                HttpBalancer lb = start(Route.builder("/").group(UpstreamGroup.builder(pool).name("api").build())
                        .hostHeader(HostHeader.groupName()).build())) {
            assertEquals(List.of("/b"), fields(get(lb, "/a"), "Location"));
            assertEquals(List.of("http://pool/d"), fields(get(lb, "/c"), "Location"));
            assertEquals("api", b.requests().get(0).header("Host").orElseThrow());
        }
    }

    @Test
    void defaultRuleIsHttpsWhenTheGroupUsesTls() throws Exception {
        TestCertificate cert = TestCertificate.create();
        KeyManagerFactory keys = cert.keys;
        TrustManagerFactory trust = cert.trust;
        cert.delete();
        try (TestBackend b = backend(Map.of("/two/x", redirect(302, "Location", "https://backend/two/y"),
                        "/two/plain", redirect(302, "Location", "http://backend/two/y")));
                UpstreamPool inner = UpstreamPool.of(upstream(b.port()));
                HttpBalancer tlsUpstream = HttpBalancer.builder().listen(Fixtures.loopback(),
                        TlsProvider.JDK.serverContext(keys)).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(inner)).redirectOff().build()).build().start();
                UpstreamPool pool = pool("backend", tlsUpstream.address().getPort());
                HttpBalancer lb = start(Route.builder("/one/").group(UpstreamGroup.builder(pool)
                        .tls(TlsOptions.builder().trustManager(trust).build()).build())
                        .rewritePrefix("/two/").build())) {
            assertEquals(List.of("/one/y"), fields(get(lb, "/one/x"), "Location"));
            assertEquals(List.of("http://backend/two/y"), fields(get(lb, "/one/plain"), "Location"));
        }
    }

    @Test
    void explicitRulesAreTriedInOrderAndReplaceTheDefault() throws Exception {
        try (Proxy p = proxy(Map.of("/two/a/x", redirect(302, "Location", "http://backend/two/a/x"),
                        "/two/b", redirect(302, "Location", "http://backend/two/b"),
                        "/two/c", redirect(302, "Location", "http://backend/c")),
                r -> r.redirect("http://backend/two/a/", "/first/")
                        .redirect("http://backend/two/", "/second/")
                        .redirect("http://backend/two/a/", "/never/"))) {
            assertEquals(List.of("/first/x"), fields(p.get("/one/a/x"), "Location"));
            assertEquals(List.of("/second/b"), fields(p.get("/one/b"), "Location"));
            assertEquals(List.of("http://backend/c"), fields(p.get("/one/c"), "Location"));
        }
    }

    @Test
    void defaultCombinesWithARuleForTheClientsHost() throws Exception {
        try (Proxy p = proxy(Map.of("/two/a", redirect(302, "Location", "http://backend/two/x"),
                        "/two/b", redirect(302, "Location", "http://front.example/two/y")),
                r -> r.redirect(RedirectRewrite.DEFAULT)
                        .redirect("http://front.example/two/", "http://front.example/one/"))) {
            assertEquals(List.of("/one/x"), fields(p.get("/one/a"), "Location"));
            assertEquals(List.of("http://front.example/one/y"), fields(p.get("/one/b"), "Location"));
            assertEquals("front.example", p.backend().requests().get(1).header("Host").orElseThrow());
        }
    }

    @Test
    void regexRulesReplaceTheWholeValueWithTheirGroups() throws Exception {
        try (Proxy p = proxy(Map.of("/two/a", redirect(302, "Location", "https://Front.Example/two/p/q?r"),
                        "/two/b", redirect(302, "Location", "http://x/TWO/b"),
                        "/two/c", redirect(302, "Location", "http://x/Three/c"),
                        "/two/d", redirect(302, "Location", "http://x/four/d")),
                r -> r.redirect(RedirectRewrite.regex("^https?://[^/]+/two/(.*)$", "/one/$1"))
                        .redirect(RedirectRewrite.regexIgnoreCase("/three/(.)(z)?", "/3/$1$2$"))
                        .redirect(RedirectRewrite.regex("four", "/4")))) {
            assertEquals(List.of("/one/p/q?r"), fields(p.get("/one/a"), "Location"));
            assertEquals(List.of("http://x/TWO/b"), fields(p.get("/one/b"), "Location"), "~ is case-sensitive");
            assertEquals(List.of("/3/c$"), fields(p.get("/one/c"), "Location"));
            // Found anywhere, as PCRE's exec: the whole value becomes the replacement.
            assertEquals(List.of("/4"), fields(p.get("/one/d"), "Location"));
        }
    }

    @Test
    void offPassesLocationAndRefreshUnchanged() throws Exception {
        try (Proxy p = proxy(Map.of("/two/x", redirect(302, "Location", "http://backend/two/x",
                        "Refresh", "0; url=http://backend/two/y")),
                r -> r.redirectOff())) {
            String got = p.get("/one/x");
            assertEquals(List.of("http://backend/two/x"), fields(got, "Location"));
            assertEquals(List.of("0; url=http://backend/two/y"), fields(got, "Refresh"));
        }
    }

    @Test
    void refreshHasItsUrlRewritten() throws Exception {
        try (Proxy p = proxy(Map.of("/two/a", redirect(200, "Refresh", "5; url=http://backend/two/x"),
                        "/two/b", redirect(200, "Refresh", "5;URL=http://backend/two/y"),
                        "/two/c", redirect(200, "Refresh", "5"),
                        "/two/d", redirect(200, "Refresh", "5; url=http://other/two/z"),
                        "/two/e", redirect(200, "Refresh", "http://backend/two/no-url-part")),
                r -> r.redirect(RedirectRewrite.DEFAULT)
                        .redirect(RedirectRewrite.regex("^http://other/two/(.*)", "/o/$1")))) {
            assertEquals(List.of("5; url=/one/x"), fields(p.get("/one/a"), "Refresh"));
            assertEquals(List.of("5;URL=/one/y"), fields(p.get("/one/b"), "Refresh"));
            assertEquals(List.of("5"), fields(p.get("/one/c"), "Refresh"));
            assertEquals(List.of("5; url=/o/z"), fields(p.get("/one/d"), "Refresh"));
            assertEquals(List.of("http://backend/two/no-url-part"), fields(p.get("/one/e"), "Refresh"));
        }
    }

    @Test
    void unmatchedValuesAreSentByteForByte() throws Exception {
        String odd = "http://elsewhere.example/two/a%20b?c=d&e=f\t;x";
        try (Proxy p = proxy(Map.of("/two/x", redirect(302, "Location", odd, "X-After", "1")), r -> r)) {
            String got = p.get("/one/x");
            assertTrue(got.contains("\r\nLocation: " + odd + "\r\nX-After: 1\r\n"), got);
        }
    }

    @Test
    void everyLocationFieldIsRewrittenOnItsOwnInItsPlace() throws Exception {
        try (Proxy p = proxy(Map.of("/two/x", redirect(302, "Location", "http://backend/two/a",
                        "X-Between", "1", "location", "http://other/b", "LOCATION", "http://backend/two/c")), r -> r)) {
            String got = p.get("/one/x");
            assertTrue(got.contains("\r\nLocation: /one/a\r\nX-Between: 1\r\nlocation: http://other/b\r\n"
                    + "LOCATION: /one/c\r\n"), got);
        }
    }

    @Test
    void locationOnResponsesOtherThanRedirectsIsRewrittenToo() throws Exception {
        try (Proxy p = proxy(Map.of("/two/new", Script.builder().status(201, "Created")
                        .header("Location", "http://backend/two/items/7").body("made").build()), r -> r)) {
            HttpResponse<String> r = NO_FOLLOW.send(HttpRequest.newBuilder(Fixtures.uri(p.lb(), "/one/new"))
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, r.statusCode());
            assertEquals("made", r.body());
            assertEquals(List.of("/one/items/7"), r.headers().allValues("location"));
        }
    }

    @Test
    void responseHeaderRulesApplyAfterTheRewrite() throws Exception {
        try (TestBackend b = backend(Map.of("/x", redirect(302, "Location", "http://backend/x")));
                UpstreamPool pool = pool("backend", b.port());
                HttpBalancer lb = start(Route.builder("/").group(UpstreamGroup.of(pool))
                        .addResponseHeader("Location", "http://backend/added").build())) {
            assertEquals(List.of("/x", "http://backend/added"), fields(get(lb, "/x"), "Location"));
        }
    }

    @Test
    void routeListsItsRulesAndResolvesTheDefault() {
        UpstreamPool pool = UpstreamPool.builder().name("backend").add(upstream(1)).build();
        Route plain = Route.builder("/one/").group(UpstreamGroup.of(pool)).build();
        assertEquals(List.of(RedirectRewrite.DEFAULT), plain.redirects());
        assertEquals(List.of(RedirectRewrite.prefix("http://backend/", "/")), plain.resolvedRedirects());
        Route rewritten = Route.builder("/one/").group(UpstreamGroup.of(pool)).rewritePrefix("/two/")
                .redirect(RedirectRewrite.DEFAULT).redirect("/two/", "/one/").build();
        assertEquals(List.of(RedirectRewrite.prefix("http://backend/two/", "/one/"),
                RedirectRewrite.prefix("/two/", "/one/")), rewritten.resolvedRedirects());
        Route off = Route.builder("/").group(UpstreamGroup.of(pool)).redirect("/a", "/b").redirectOff().build();
        assertEquals(List.of(), off.redirects());
        assertEquals(List.of(), off.resolvedRedirects());
        pool.close();
    }

    @Test
    void badRulesAreRefusedNamingTheValue() {
        assertThrows(NullPointerException.class, () -> RedirectRewrite.prefix(null, "/"));
        assertThrows(NullPointerException.class, () -> RedirectRewrite.regex("a", null));
        assertMessage("redirect prefix must not be empty", () -> RedirectRewrite.prefix("", "/"));
        assertMessage("redirect regex must not be empty", () -> RedirectRewrite.regex("", "/"));
        assertMessage("redirect regex '(unclosed' is invalid", () -> RedirectRewrite.regex("(unclosed", "/"));
        assertMessage("redirect replacement '/x/$2' refers to group $2, but regex '^/(a)' has 1",
                () -> RedirectRewrite.regexIgnoreCase("^/(a)", "/x/$2"));
        assertMessage("redirect replacement '/a\r\nX: 1' has a control character",
                () -> RedirectRewrite.prefix("/", "/a\r\nX: 1"));
        assertMessage("redirect prefix '/\u0001' has a control character", () -> RedirectRewrite.prefix("/\u0001", "/"));
        assertThrows(NullPointerException.class, () -> Route.builder("/").redirect((RedirectRewrite) null));
    }

    private static void assertMessage(String start, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().startsWith(start), x.getMessage());
    }
}
