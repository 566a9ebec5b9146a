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
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * nginx's {@code proxy_cookie_path}, {@code proxy_cookie_domain} and {@code proxy_cookie_flags}: the
 * upstream's Set-Cookie headers as the route's rules rewrite them, through real sockets (raw ones where the
 * exact bytes matter, the JDK client with a cookie store where a browser's view does).
 */
class CookieRewriteTest {
    /** A backend answering each request target with the Set-Cookie values {@code cookies} gives it. */
    private static TestBackend backend(Map<String, List<String>> cookies) {
        Function<RecordedRequest, Script> router = r -> {
            Script.Builder s = Script.builder().status(200);
            for (String c : cookies.getOrDefault(r.target(), List.of())) {
                s.header(c.startsWith("X-") ? c.substring(0, c.indexOf(':')) : "Set-Cookie",
                        c.startsWith("X-") ? c.substring(c.indexOf(':') + 1).strip() : c);
            }
            return s.body("ok").build();
        };
        return TestBackend.start(Fixtures.loopback(), router);
    }

    /** A backend, its pool named {@code backend}, and a proxy routing {@code /one/} to its {@code /two/}. */
    private record Proxy(TestBackend backend, UpstreamPool pool, HttpBalancer lb) implements AutoCloseable {
        String get(String path) throws Exception {
            return Fixtures.raw(lb, "GET " + path + " HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n");
        }

        List<String> cookies(String path) throws Exception {
            return fields(get(path), "Set-Cookie");
        }

        @Override
        public void close() {
            lb.close();
            pool.close();
            backend.close();
        }
    }

    private static Proxy proxy(Map<String, List<String>> cookies, UnaryOperator<UpstreamGroup.Builder> group,
            UnaryOperator<Route.Builder> rules) {
        TestBackend b = backend(cookies);
        UpstreamPool pool = UpstreamPool.builder().name("backend").add(upstream(b.port())).build();
        Route route = rules.apply(Route.builder("/one/").group(group.apply(UpstreamGroup.builder(pool)).build())
                .rewritePrefix("/two/")).build();
        return new Proxy(b, pool, HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1).route(route).build()
                .start());
    }

    private static Proxy proxy(Map<String, List<String>> cookies, UnaryOperator<Route.Builder> rules) {
        return proxy(cookies, g -> g, rules);
    }

    @Test
    void pathFollowsTheRoutesPrefixRewriteSoTheClientSendsTheCookieBack() throws Exception {
        try (Proxy p = proxy(Map.of("/two/login", List.of("sid=abc; Path=/two/; HttpOnly")),
                r -> r.cookiePath("/two/", "/one/"))) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL))
                    .connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> login = client.send(HttpRequest.newBuilder(Fixtures.uri(p.lb(), "/one/login")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(List.of("sid=abc; Path=/one/; HttpOnly"), login.headers().allValues("set-cookie"));
            client.send(HttpRequest.newBuilder(Fixtures.uri(p.lb(), "/one/account")).build(),
                    HttpResponse.BodyHandlers.ofString());
            // The client keeps the cookie for /one/, where the route is, and sends it back through it.
            assertEquals("sid=abc", p.backend().requests().get(1).header("Cookie").orElseThrow());
            assertEquals("/two/account", p.backend().requests().get(1).target());
        }
    }

    @Test
    void offByDefaultEverySetCookiePassesAsItCame() throws Exception {
        try (Proxy p = proxy(Map.of("/two/x", List.of("a=1; Path=/two/; Domain=backend")), r -> r)) {
            assertEquals(List.of("a=1; Path=/two/; Domain=backend"), p.cookies("/one/x"));
        }
    }

    @Test
    void pathPrefixesCompareExactlyAndTheFirstMatchingRuleWins() throws Exception {
        try (Proxy p = proxy(Map.of("/two/x", List.of("a=1; Path=/two/a/b", "b=2; path=/two/c", "c=3; Path=/TWO/d",
                        "d=4; Path=/three")),
                r -> r.cookiePath("/two/a/", "/first/").cookiePath("/two/", "/second/")
                        .cookiePath("/two/a/", "/never/"))) {
            assertEquals(List.of("a=1; Path=/first/b", "b=2; path=/second/c", "c=3; Path=/TWO/d", "d=4; Path=/three"),
                    p.cookies("/one/x"));
        }
    }

    @Test
    void domainComparesTheWholeValueIgnoringCaseAndALeadingDot() throws Exception {
        try (Proxy p = proxy(Map.of("/two/x", List.of("a=1; Domain=.Backend.Local; Path=/", "b=2; domain=backend.local",
                        "c=3; Domain=sub.backend.local", "d=4; Domain=backend.local.evil", "e=5; DOMAIN = backend.local ;x")),
                r -> r.cookieDomain(".backend.local", ".example.com"))) {
            // As nginx: the rule's dots are dropped, the value's dot is kept.
            assertEquals(List.of("a=1; Domain=.example.com; Path=/", "b=2; domain=example.com",
                    "c=3; Domain=sub.backend.local", "d=4; Domain=backend.local.evil", "e=5; DOMAIN = example.com ;x"),
                    p.cookies("/one/x"));
        }
    }

    @Test
    void regexRulesReplaceTheWholeValueWithTheirGroups() throws Exception {
        try (Proxy p = proxy(Map.of("/two/x", List.of("a=1; Path=/two/p/q", "b=2; Path=/TWO/r", "c=3; Domain=api.internal",
                        "d=4; Domain=API.Internal", "e=5; Domain=db.internal")),
                r -> r.cookieRewrite(CookieRewrite.regex(CookieRewrite.Attribute.PATH, "^/two/(.*)$", "/one/$1"))
                        .cookieRewrite(CookieRewrite.regexIgnoreCase(CookieRewrite.Attribute.PATH, "^/two/", "/"))
                        .cookieRewrite(CookieRewrite.regex(CookieRewrite.Attribute.DOMAIN, "^([a-z]+)\\.internal$",
                                "$1.example.com"))
                        .cookieRewrite(CookieRewrite.regexIgnoreCase(CookieRewrite.Attribute.DOMAIN, "internal",
                                "example.com")))) {
            assertEquals(List.of("a=1; Path=/one/p/q", "b=2; Path=/", "c=3; Domain=api.example.com",
                    "d=4; Domain=example.com", "e=5; Domain=db.example.com"), p.cookies("/one/x"));
        }
    }

    @Test
    void unmatchedCookiesAndEveryByteAroundARewriteAreSentAsTheyCame() throws Exception {
        String odd = "weird=\"a;b\" ;  PATH  =  /elsewhere/  ;expires=Thu, 01 Jan 2099 00:00:00 GMT;;secure";
        String bare = "nopair; Path=/two/";
        String spaced = "s=1 ;\tpath =\t/two/deep ; Max-Age=60";
        try (Proxy p = proxy(Map.of("/two/x", List.of(odd, "X-Between: 1", bare, spaced)),
                r -> r.cookiePath("/two/", "/one/"))) {
            String got = p.get("/one/x");
            assertTrue(got.contains("\r\nSet-Cookie: " + odd + "\r\nX-Between: 1\r\nSet-Cookie: " + bare
                    + "\r\nSet-Cookie: s=1 ;\tpath =\t/one/deep ; Max-Age=60\r\n"), got);
        }
    }

    @Test
    void flagsAreAddedReplacedAndRemovedPerCookie() throws Exception {
        try (Proxy p = proxy(Map.of("/two/x", List.of("sid=1; Path=/", "SID=2; secure; SameSite=none",
                        "theme=dark; Secure; HttpOnly; samesite=Lax", "track_a=1; HTTPONLY; Secure", "track_b=2",
                        "other=3; Secure")),
                r -> r.cookieFlags(CookieFlags.cookie("sid").secure().httpOnly()
                                .sameSite(StickyCookie.SameSite.STRICT).build())
                        .cookieFlags(CookieFlags.cookie("theme").noSecure().noHttpOnly().noSameSite().build())
                        .cookieFlags(CookieFlags.cookieRegex("^track_").httpOnly().sameSite(StickyCookie.SameSite.LAX)
                                .build())
                        .cookieFlags(CookieFlags.cookieRegexIgnoreCase("^TRACK_B$").noSecure().build()))) {
            assertEquals(List.of("sid=1; Path=/; Secure; HttpOnly; SameSite=Strict",
                    // The name compares ignoring case (as nginx); Secure is there, SameSite takes the rule's value.
                    "SID=2; secure; SameSite=Strict; HttpOnly",
                    "theme=dark",
                    "track_a=1; HTTPONLY; Secure; SameSite=Lax",
                    // The first rule naming a cookie applies alone: ^TRACK_B$ comes too late.
                    "track_b=2; HttpOnly; SameSite=Lax",
                    "other=3; Secure"), p.cookies("/one/x"));
        }
    }

    @Test
    void theBalancersStickyCookieIsNeverRewritten() throws Exception {
        StickyCookie sticky = StickyCookie.builder("SRV").path("/two/").domain("backend.local").secure(true)
                .httpOnly(true).build();
        try (Proxy p = proxy(Map.of("/two/x", List.of("app=1; Path=/two/; Domain=backend.local; Secure")),
                g -> g.stickyCookie(sticky),
                r -> r.cookiePath("/two/", "/one/").cookieDomain("backend.local", "example.com")
                        .cookieFlags(CookieFlags.cookieRegex(".").noSecure().noHttpOnly()
                                .sameSite(StickyCookie.SameSite.LAX).build()))) {
            List<String> got = p.cookies("/one/x");
            assertEquals(2, got.size(), got.toString());
            assertEquals("app=1; Path=/one/; Domain=example.com; SameSite=Lax", got.get(0));
            assertTrue(got.get(1).startsWith("SRV="), got.get(1));
            assertTrue(got.get(1).endsWith("; Path=/two/; Domain=backend.local; Secure; HttpOnly"), got.get(1));
        }
    }

    @Test
    void routeListsItsRules() {
        UpstreamPool pool = UpstreamPool.builder().name("backend").add(upstream(1)).build();
        Route plain = Route.builder("/").group(UpstreamGroup.of(pool)).build();
        assertEquals(List.of(), plain.cookieRewrites());
        assertEquals(List.of(), plain.cookieFlags());
        CookieFlags flags = CookieFlags.cookie("a").secure().noSameSite().build();
        Route r = Route.builder("/").group(UpstreamGroup.of(pool)).cookiePath("/a", "/b")
                .cookieDomain(".x.test", ".y.test").cookieFlags(flags).build();
        assertEquals(List.of(CookieRewrite.path("/a", "/b"), CookieRewrite.domain("x.test", "y.test")), r.cookieRewrites());
        assertEquals("proxy_cookie_domain x.test y.test", r.cookieRewrites().get(1).toString());
        assertEquals(List.of(CookieFlags.cookie("a").secure().noSameSite().build()), r.cookieFlags());
        assertEquals("proxy_cookie_flags a secure nosamesite", flags.toString());
        assertEquals("proxy_cookie_flags ~*^t httponly samesite=lax", CookieFlags.cookieRegexIgnoreCase("^t")
                .httpOnly().sameSite(StickyCookie.SameSite.LAX).build().toString());
        pool.close();
    }

    @Test
    void badRulesAreRefusedNamingTheValue() {
        assertThrows(NullPointerException.class, () -> CookieRewrite.path(null, "/"));
        assertThrows(NullPointerException.class, () -> CookieRewrite.regex(null, "a", "b"));
        assertThrows(NullPointerException.class, () -> Route.builder("/").cookieRewrite(null));
        assertThrows(NullPointerException.class, () -> Route.builder("/").cookieFlags(null));
        assertThrows(NullPointerException.class, () -> CookieFlags.cookie("a").sameSite(null));
        assertMessage("cookie path must not be empty", () -> CookieRewrite.path("", "/"));
        assertMessage("cookie domain must not be empty, got '.'", () -> CookieRewrite.domain(".", "x"));
        assertMessage("cookie path replacement '/a;Domain=evil' has a ';'", () -> CookieRewrite.path("/", "/a;Domain=evil"));
        assertMessage("cookie domain 'a\nb' has a control character", () -> CookieRewrite.domain("a\nb", "x"));
        assertMessage("cookie path regex must not be empty",
                () -> CookieRewrite.regex(CookieRewrite.Attribute.PATH, "", "/"));
        assertMessage("cookie domain regex '(x' is invalid",
                () -> CookieRewrite.regexIgnoreCase(CookieRewrite.Attribute.DOMAIN, "(x", "/"));
        assertMessage("cookie path replacement '/$1' refers to group $1, but regex '^/' has 0",
                () -> CookieRewrite.regex(CookieRewrite.Attribute.PATH, "^/", "/$1"));
        assertMessage("cookie name 'a b' is not a token", () -> CookieFlags.cookie("a b"));
        assertMessage("cookie flags regex '[' is invalid", () -> CookieFlags.cookieRegex("["));
    }

    private static void assertMessage(String start, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().startsWith(start), x.getMessage());
    }
}
