package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Hash keys and sticky cookies end to end: real backends, the JDK client and raw sockets. */
class SessionAffinityTest {
    private static final Pattern VALUE = Pattern.compile("SRV=([0-9a-f]{16})(;.*)?");

    private static TestBackend[] backends(String... names) {
        TestBackend[] bs = new TestBackend[names.length];
        for (int i = 0; i < names.length; i++) {
            bs[i] = TestBackend.start(Script.ok(names[i]));
        }
        return bs;
    }

    private static void closeAll(TestBackend[] bs) {
        for (TestBackend b : bs) {
            b.close();
        }
    }

    private static UpstreamPool pool(String scheduler, TestBackend... bs) {
        UpstreamPool.Builder b = UpstreamPool.builder().scheduler(scheduler);
        for (TestBackend t : bs) {
            b.add(upstream(t.port()));
        }
        return b.build();
    }

    private static HttpBalancer start(UpstreamGroup group) {
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                .route(Route.builder("/").group(group).retry(RetryPolicy.DEFAULT).build()).build().start();
    }

    private static HttpResponse<String> send(HttpBalancer lb, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(Fixtures.uri(lb, path)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return Fixtures.CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** 150 keys land on every backend, and a key sent again lands where it landed first. */
    private static void spreadsAndKeeps(HttpBalancer lb, Function<String, HttpResponse<String>> request) {
        Map<String, String> first = new HashMap<>();
        for (int k = 0; k < 150; k++) {
            first.put("key" + k, request.apply("key" + k).body());
        }
        assertEquals(Set.of("A", "B", "C"), new HashSet<>(first.values()), first.toString());
        for (int k = 0; k < 150; k += 5) {
            for (int again = 0; again < 3; again++) {
                assertEquals(first.get("key" + k), request.apply("key" + k).body(), "key" + k);
            }
        }
    }

    private static Function<String, HttpResponse<String>> unchecked(HttpBalancer lb, Function<String, String> path,
            Function<String, String[]> headers) {
        return key -> {
            try {
                return send(lb, path.apply(key), headers.apply(key));
            } catch (IOException | InterruptedException e) {
                throw new AssertionError(e);
            }
        };
    }

    /** Code run against a pool of {@code scheduler} over backends A, B, C. */
    private interface PoolCase {
        void run(TestBackend[] bs, UpstreamPool pool) throws Exception;
    }

    private static void withPool(String scheduler, PoolCase c, String... names) throws Exception {
        TestBackend[] bs = backends(names.length == 0 ? new String[] {"A", "B", "C"} : names);
        try (UpstreamPool pool = pool(scheduler, bs)) {
            c.run(bs, pool);
        } finally {
            closeAll(bs);
        }
    }

    @Test
    void equalKeysGoToOneBackendAndKeysSpreadOverAll() throws Exception {
        withPool("ring", (bs, pool) -> {
            try (HttpBalancer lb = start(UpstreamGroup.builder(pool).hashKey(HashKey.requestUri()).build())) {
                spreadsAndKeeps(lb, unchecked(lb, k -> "/p?k=" + k, k -> new String[0]));
            }
            try (HttpBalancer lb = start(UpstreamGroup.builder(pool).hashKey(HashKey.path()).build())) {
                spreadsAndKeeps(lb, unchecked(lb, k -> "/" + k + "?ignored=" + System.nanoTime(), k -> new String[0]));
            }
            try (HttpBalancer lb = start(UpstreamGroup.builder(pool).hashKey(HashKey.header("X-User")).build())) {
                spreadsAndKeeps(lb, unchecked(lb, k -> "/", k -> new String[] {"x-user", k}));
            }
            try (HttpBalancer lb = start(UpstreamGroup.builder(pool).hashKey(HashKey.cookie("uid")).build())) {
                spreadsAndKeeps(lb, unchecked(lb, k -> "/", k -> new String[] {"Cookie", "a=1; uid=" + k + "; b=2"}));
            }
            try (HttpBalancer lb = start(UpstreamGroup.builder(pool).hashKey(HashKey.queryParameter("id")).build())) {
                spreadsAndKeeps(lb, unchecked(lb, k -> "/p?x=" + System.nanoTime() + "&id=" + k, k -> new String[0]));
            }
        });
    }

    @Test
    void aPathKeyIsTheNormalisedPath() throws Exception {
        withPool("mh", (bs, pool) -> {
            try (HttpBalancer lb = start(UpstreamGroup.builder(pool).hashKey(HashKey.path()).build())) {
                for (int k = 0; k < 30; k++) {
                    String plain = send(lb, "/d" + k + "/x").body();
                    assertEquals(plain, send(lb, "/d" + k + "/./y/../x").body(), "key " + k);
                    assertEquals(plain, send(lb, "/d" + k + "/%78?q=1").body(), "key " + k);
                }
            }
        });
    }

    /**
     * nginx's {@code hash $key} sends a request whose key is empty to round robin, as HAProxy's
     * {@code balance hdr()} and {@code url_param} do: requests without the header, cookie or parameter
     * (or with an empty one) take turns over both upstreams, whatever the hash scheduler, while requests
     * with a key stay on its upstream.
     */
    @Test
    void requestsWithoutTheKeyTakeTurnsAndRequestsWithItStick() throws Exception {
        for (String scheduler : List.of("dh", "mh", "ring")) {
            withPool(scheduler, (bs, pool) -> {
                try (HttpBalancer byHeader = start(UpstreamGroup.builder(pool).hashKey(HashKey.header("X-User")).build());
                        HttpBalancer byCookie = start(UpstreamGroup.builder(pool).hashKey(HashKey.cookie("uid")).build());
                        HttpBalancer byParam = start(UpstreamGroup.builder(pool).hashKey(HashKey.queryParameter("id"))
                                .build())) {
                    Map<String, Integer> served = new HashMap<>();
                    for (int i = 0; i < 4; i++) {
                        List<String> bodies = List.of(send(byHeader, "/" + i).body(),
                                send(byHeader, "/" + i, "X-User", "").body(),
                                send(byCookie, "/" + i, "Cookie", "other=1; uidx=2").body(),
                                send(byCookie, "/" + i, "Cookie", "uid=").body(),
                                send(byParam, "/?x=" + i + "&id=").body(),
                                send(byParam, "/?ids=" + i).body());
                        bodies.forEach(b -> served.merge(b, 1, Integer::sum));
                    }
                    // One after the other (the pool's scheduler is shared by the three balancers).
                    assertEquals(Map.of("A", 12, "B", 12), served, scheduler);
                    for (int k = 0; k < 10; k++) {
                        String home = send(byHeader, "/", "X-User", "user" + k).body();
                        for (int again = 0; again < 4; again++) {
                            assertEquals(home, send(byHeader, "/" + again, "X-User", "user" + k).body(), scheduler);
                            assertEquals(send(byCookie, "/", "Cookie", "uid=user" + k).body(),
                                    send(byCookie, "/" + again, "Cookie", "a=b; uid=user" + k).body(), scheduler);
                            assertEquals(send(byParam, "/?id=user" + k).body(),
                                    send(byParam, "/?x=" + again + "&id=user" + k).body(), scheduler);
                        }
                    }
                }
            }, "A", "B");
        }
    }

    /** A group keyed by the client address keeps a client on one upstream, as ever. */
    @Test
    void theClientAddressKeyKeepsAClientOnOneUpstream() throws Exception {
        withPool("ring", (bs, pool) -> {
            try (HttpBalancer byAddress = start(UpstreamGroup.of(pool))) {
                String home = send(byAddress, "/").body();
                for (int i = 0; i < 10; i++) {
                    assertEquals(home, send(byAddress, "/" + i).body());
                }
            }
        }, "A", "B");
    }

    private static String cookieValue(HttpResponse<String> r) {
        List<String> set = r.headers().allValues("set-cookie");
        assertEquals(1, set.size(), set.toString());
        Matcher m = VALUE.matcher(set.get(0));
        assertTrue(m.matches(), set.get(0));
        return m.group(1);
    }

    @Test
    void theCookieIsSetWithItsAttributesThenHonouredAndNotForwarded() throws Exception {
        TestBackend[] bs = backends("A", "B", "C");
        StickyCookie cookie = StickyCookie.builder("SRV").domain("example.test").maxAge(Duration.ofHours(1))
                .httpOnly(true).secure(true).sameSite(StickyCookie.SameSite.LAX).build();
        try (UpstreamPool pool = pool("rr", bs);
                HttpBalancer lb = start(UpstreamGroup.builder(pool).stickyCookie(cookie).build())) {
            HttpResponse<String> first = send(lb, "/");
            String value = cookieValue(first);
            assertEquals("SRV=" + value + "; Path=/; Domain=example.test; Max-Age=3600; Secure; HttpOnly; SameSite=Lax",
                    first.headers().firstValue("set-cookie").orElseThrow());
            assertEquals(List.of("private"), first.headers().allValues("cache-control"));
            String home = first.body();
            for (TestBackend b : bs) {
                b.clear();
            }
            for (int i = 0; i < 9; i++) {
                HttpResponse<String> r = send(lb, "/" + i, "Cookie", "a=1; SRV=" + value + "; b=\"two\"");
                assertEquals(home, r.body());
                assertEquals(List.of(), r.headers().allValues("set-cookie"));
                assertEquals(List.of(), r.headers().allValues("cache-control"));
            }
            TestBackend served = backend(bs, home);
            assertEquals(9, served.requestCount());
            for (RecordedRequest rec : served.requests()) {
                assertEquals(List.of("a=1; b=\"two\""), rec.headers("Cookie"));
            }
            // Several Cookie fields: the one left empty goes, the others stay as they were.
            served.clear();
            String raw = Fixtures.raw(lb, "GET /raw HTTP/1.1\r\nHost: x\r\nCookie: SRV=" + value
                    + "\r\nCookie: c=3;d=4\r\nCookie: SRV=" + value + "; e=5\r\nConnection: close\r\n\r\n");
            assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
            assertFalse(raw.toLowerCase().contains("set-cookie"), raw);
            assertEquals(List.of("c=3;d=4", "e=5"), served.requests().get(0).headers("Cookie"));
        } finally {
            closeAll(bs);
        }
    }

    private static TestBackend backend(TestBackend[] bs, String name) {
        for (int i = 0; i < bs.length; i++) {
            if (name.equals(String.valueOf((char) ('A' + i)))) {
                return bs[i];
            }
        }
        throw new AssertionError(name);
    }

    private static String key(TestBackend b) {
        return upstream(b.port()).key();
    }

    /** The cookie value of each backend, learned from the responses of a round-robin group. */
    private static Map<String, String> values(HttpBalancer lb, int backends) throws Exception {
        Map<String, String> byBody = new HashMap<>();
        for (int i = 0; i < 3 * backends && byBody.size() < backends; i++) {
            HttpResponse<String> r = send(lb, "/");
            byBody.put(r.body(), cookieValue(r));
        }
        assertEquals(backends, byBody.size(), byBody.toString());
        assertEquals(backends, new HashSet<>(byBody.values()).size(), byBody.toString());
        return byBody;
    }

    /** A sticky case: backends named A, B … behind a round-robin group with cookie SRV, and their values. */
    private interface StickyCase {
        void run(TestBackend[] bs, UpstreamPool pool, HttpBalancer lb, Map<String, String> values) throws Exception;
    }

    private static void sticky(StickyCase c, String... names) throws Exception {
        withPool("rr", (bs, pool) -> {
            try (HttpBalancer lb = start(UpstreamGroup.builder(pool).stickyCookie(StickyCookie.of("SRV")).build())) {
                c.run(bs, pool, lb, values(lb, names.length));
            }
        }, names);
    }

    @Test
    void aDownUpstreamsCookieIsPickedAnewAndADrainedOneKeepsItsClients() throws Exception {
        sticky((bs, pool, lb, values) -> {
            // Drained (weight 0): HAProxy still sends its persistent clients there; new clients go elsewhere.
            pool.drain(key(bs[0]));
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = send(lb, "/", "Cookie", "SRV=" + values.get("A"));
                assertEquals("A", r.body());
                assertEquals(List.of(), r.headers().allValues("set-cookie"));
                HttpResponse<String> fresh = send(lb, "/");
                assertNotEquals("A", fresh.body());
                assertEquals(values.get(fresh.body()), cookieValue(fresh));
            }
            // Down: picked anew, and told the new upstream.
            pool.undrain(key(bs[0]));
            pool.markDown(key(bs[0]), true);
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = send(lb, "/", "Cookie", "SRV=" + values.get("A"));
                assertNotEquals("A", r.body());
                assertEquals(values.get(r.body()), cookieValue(r));
                assertEquals(List.of("private"), r.headers().allValues("cache-control"));
            }
        }, "A", "B", "C");
    }

    @Test
    void aValueNoUpstreamHasIsAnOrdinaryPick() throws Exception {
        sticky((bs, pool, lb, values) -> {
            Set<String> served = new HashSet<>();
            for (String bad : List.of("zzz", "0000000000000000", values.get("A").toUpperCase(), values.get("A") + "0",
                    "\"" + values.get("A") + "\"", "")) {
                for (int i = 0; i < 2; i++) {
                    HttpResponse<String> r = send(lb, "/", "Cookie", "SRV=" + bad + "; k=v");
                    assertEquals(200, r.statusCode());
                    assertEquals(values.get(r.body()), cookieValue(r), bad);
                    served.add(r.body());
                }
            }
            assertEquals(Set.of("A", "B"), served);
            for (TestBackend b : bs) {
                for (RecordedRequest rec : b.requests()) {
                    assertFalse(rec.headers("Cookie").stream().anyMatch(c -> c.contains("SRV")), rec.headers("Cookie").toString());
                }
            }
        }, "A", "B");
    }

    @Test
    void aRetrySetsTheCookieOfTheUpstreamThatAnswered() throws Exception {
        sticky((bs, pool, lb, values) -> {
            bs[0].script(Script.builder().mode(Script.Mode.CLOSE).build());
            HttpResponse<String> r = send(lb, "/", "Cookie", "SRV=" + values.get("A"));
            assertEquals("B", r.body());
            assertEquals(values.get("B"), cookieValue(r));
            assertTrue(bs[0].requestCount() > 0);
        }, "A", "B");
    }

    @Test
    void aBackupsCookieHoldsOnlyWhileTheBackupTierIsInUse() throws Exception {
        TestBackend[] bs = backends("A", "B");
        try (UpstreamPool pool = UpstreamPool.builder().add(upstream(bs[0].port()))
                .add(Upstream.builder("127.0.0.1", bs[1].port()).backup(true).build()).build();
                HttpBalancer lb = start(UpstreamGroup.builder(pool).stickyCookie(StickyCookie.of("SRV")).build())) {
            String a = cookieValue(send(lb, "/"));
            pool.markDown(key(bs[0]), true);
            HttpResponse<String> onBackup = send(lb, "/", "Cookie", "SRV=" + a);
            assertEquals("B", onBackup.body());
            String b = cookieValue(onBackup);
            HttpResponse<String> again = send(lb, "/", "Cookie", "SRV=" + b);
            assertEquals("B", again.body());
            assertEquals(List.of(), again.headers().allValues("set-cookie"));
            pool.markDown(key(bs[0]), false);
            HttpResponse<String> back = send(lb, "/", "Cookie", "SRV=" + b);
            assertEquals("A", back.body());
            assertEquals(a, cookieValue(back));
        } finally {
            closeAll(bs);
        }
    }

    @Test
    void everyBalancerGivesAnUpstreamTheSameValue() throws Exception {
        TestBackend[] bs = backends("A");
        try (UpstreamPool one = pool("rr", bs); UpstreamPool two = pool("wrr", bs);
                HttpBalancer lb1 = start(UpstreamGroup.builder(one).stickyCookie(StickyCookie.of("SRV")).build());
                HttpBalancer lb2 = start(UpstreamGroup.builder(two).stickyCookie(StickyCookie.of("SRV")).build())) {
            String v = cookieValue(send(lb1, "/"));
            assertEquals(v, cookieValue(send(lb2, "/")));
            assertFalse(v.contains(String.valueOf(bs[0].port())));
            assertEquals(List.of(), send(lb2, "/", "Cookie", "SRV=" + v).headers().allValues("set-cookie"));
        } finally {
            closeAll(bs);
        }
    }

    @Test
    void theReadmeExample() throws Exception {
        TestBackend[] bs = backends("A", "B");
        try (UpstreamPool shop = UpstreamPool.builder().scheduler("ring")
                        .add("127.0.0.1", bs[0].port()).add("127.0.0.1", bs[1].port()).build();
                UpstreamPool app = UpstreamPool.builder()
                        .add("127.0.0.1", bs[0].port()).add("127.0.0.1", bs[1].port()).build()) {
            UpstreamGroup byUser = UpstreamGroup.builder(shop)
                    .hashKey(HashKey.cookie("uid"))
                    .build();
            UpstreamGroup sticky = UpstreamGroup.builder(app)
                    .stickyCookie(StickyCookie.builder("SRV")
                            .httpOnly(true).secure(true).sameSite(StickyCookie.SameSite.LAX)
                            .maxAge(Duration.ofHours(8)).build())
                    .build();
            try (HttpBalancer lb1 = start(byUser); HttpBalancer lb2 = start(sticky)) {
                String home = send(lb1, "/", "Cookie", "uid=7").body();
                for (int i = 0; i < 4; i++) {
                    assertEquals(home, send(lb1, "/", "Cookie", "uid=7").body());
                }
                HttpResponse<String> r = send(lb2, "/");
                assertEquals("SRV=" + cookieValue(r) + "; Path=/; Max-Age=28800; Secure; HttpOnly; SameSite=Lax",
                        r.headers().firstValue("set-cookie").orElseThrow());
            }
        } finally {
            closeAll(bs);
        }
    }

    @Test
    void badConfigurationFailsNamingTheValue() {
        assertMessage("header name '' is not a token", () -> HashKey.header(""));
        assertMessage("header name 'X User'", () -> HashKey.header("X User"));
        assertMessage("cookie name 'a;b'", () -> HashKey.cookie("a;b"));
        assertMessage("cookie name ''", () -> HashKey.cookie(""));
        assertMessage("query parameter name must not be empty", () -> HashKey.queryParameter(""));
        assertMessage("query parameter name 'a&b'", () -> HashKey.queryParameter("a&b"));
        assertMessage("cookie name 'S=1'", () -> StickyCookie.builder("S=1"));
        assertMessage("cookie name 'sé'", () -> StickyCookie.of("sé"));
        assertMessage("cookie maxAge must be at least 1 s, got PT-1S",
                () -> StickyCookie.builder("S").maxAge(Duration.ofSeconds(-1)));
        assertMessage("got PT0.5S", () -> StickyCookie.builder("S").maxAge(Duration.ofMillis(500)));
        assertMessage("cookie path 'x'", () -> StickyCookie.builder("S").path("x"));
        assertMessage("cookie path '/a;b'", () -> StickyCookie.builder("S").path("/a;b"));
        assertMessage("cookie domain 'a b'", () -> StickyCookie.builder("S").domain("a b"));
        assertMessage("SameSite=None needs secure(true)",
                () -> StickyCookie.builder("S").sameSite(StickyCookie.SameSite.NONE).build());
        assertThrows(NullPointerException.class, () -> UpstreamGroup.builder(UpstreamPool.of()).hashKey(null));
        assertEquals("header(X-User)", HashKey.header("X-User").toString());
        assertEquals(HashKey.cookie("a"), HashKey.cookie("a"));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(part), x.getMessage());
    }
}
