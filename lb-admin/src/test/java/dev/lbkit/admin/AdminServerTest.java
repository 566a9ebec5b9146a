package dev.lbkit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.ProbeResult;
import dev.lbkit.api.internal.Json;
import dev.lbkit.api.scheduler.PickContext;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdminServerTest {
    private static final String TOKEN = "s3cret-token-for-tests";
    private static final String U1 = "/api/v1/pools/web/upstreams/127.0.0.1:8081";

    private final UpstreamPool pool = UpstreamPool.builder().name("web")
            .add(Upstream.builder("127.0.0.1", 8081).weight(3).build())
            .add(Upstream.of("127.0.0.1", 8082))
            .add(Upstream.builder("127.0.0.1", 8083).backup(true).build())
            .build();
    private AdminServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private AdminClient start(AdminServer.Builder b) {
        server = b.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).build().start();
        return new AdminClient(server);
    }

    private AdminClient startWithToken() {
        return start(AdminServer.builder().pool(pool).token(TOKEN));
    }

    @Test
    void aListenAddressInUseFailsStartNamingTheReasonAndLeavesNoEventLoop() throws Exception {
        try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            long before = dev.lbkit.testing.Threads.named("lb-admin");
            AdminServer s = AdminServer.builder().pool(pool)
                    .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), busy.getLocalPort())).build();
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, s::start);
            assertTrue(e.getMessage().startsWith("admin server cannot listen on ")
                    && e.getMessage().contains("Address already in use"), e.getMessage());
            dev.lbkit.testing.Await.until(() -> dev.lbkit.testing.Threads.named("lb-admin") <= before);
        }
    }

    @Test
    void listensOnLoopbackByDefault() {
        AdminServer s = AdminServer.builder().build();
        assertTrue(s.listenAddress().getAddress().isLoopbackAddress(), s.listenAddress().toString());
        assertEquals(AdminServer.DEFAULT_PORT, s.listenAddress().getPort());
        assertFalse(s.changesEnabled());
    }

    @Test
    void aTokenNoRequestCouldCarryIsRefusedAtBuild() {
        // The Authorization value is trimmed and read as ISO-8859-1: these could never match.
        for (String bad : List.of(" " + TOKEN, TOKEN + "\n", "two words", "caf\u00e9", "tab\t")) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> AdminServer.builder().token(bad), bad);
            assertTrue(e.getMessage().startsWith("token must be visible ASCII"), e.getMessage());
        }
        assertTrue(AdminServer.builder().token("A-z0.9_~+/=!").build().changesEnabled());
    }

    @Test
    void servesOneSelfContainedPage() {
        AdminClient c = start(AdminServer.builder().pool(pool));
        HttpResponse<String> r = c.get("/");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/html"));
        String csp = r.headers().firstValue("content-security-policy").orElse("");
        assertTrue(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), csp);
        String page = r.body();
        assertTrue(page.contains("api/v1/state"), "the page polls the state");
        // No CDN, no external fetch: no absolute URL, no external script, style, image or font.
        assertFalse(Pattern.compile("(?i)(https?:)?//[a-z0-9]").matcher(page.replace("http://www.w3.org", "")).find(),
                "page refers to another host");
        assertFalse(page.contains("src=\""), "page loads an external resource");
        assertFalse(page.contains("<link"), "page links an external resource");
    }

    @Test
    void stateListsEveryUpstreamWithItsState() {
        AdminClient c = start(AdminServer.builder().pool(pool));
        HttpResponse<String> r = c.get("/api/v1/state");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        Map<String, Object> s = Json.parseSimpleObject(r.body());
        List<?> pools = (List<?>) s.get("pools");
        assertEquals(1, pools.size());
        Map<?, ?> p = (Map<?, ?>) pools.get(0);
        assertEquals("web", p.get("name"));
        List<?> ups = (List<?>) p.get("upstreams");
        assertEquals(3, ups.size());
        Map<?, ?> u1 = (Map<?, ?>) ups.get(0);
        assertEquals("127.0.0.1:8081", u1.get("key"));
        assertEquals("up", u1.get("state"));
        assertEquals(3L, u1.get("weight"));
        assertEquals(3L, u1.get("effectiveWeight"));
        assertEquals("backup", ((Map<?, ?>) ups.get(2)).get("state"));
        assertEquals(200, c.get("/api/v1/pools").statusCode());
        assertEquals(200, c.get("/api/v1/pools/web").statusCode());
        assertEquals(200, c.get(U1).statusCode());
        assertEquals(404, c.get("/api/v1/pools/nope").statusCode());
        assertEquals(404, c.get("/api/v1/pools/web/upstreams/127.0.0.1:9").statusCode());
        assertEquals(404, c.get("/api/v1/nothing").statusCode());
        assertEquals(404, c.get("/nothing").statusCode());
        assertEquals(404, c.get("/metrics").statusCode(), "no /metrics without a scrape");
    }

    @Test
    void withoutTokenNothingChanges() {
        AdminClient c = start(AdminServer.builder().pool(pool));
        HttpResponse<String> r = c.post(U1 + "/drain", TOKEN, null);
        assertEquals(403, r.statusCode());
        assertTrue(r.body().contains("read-only"), r.body());
        assertEquals(3, pool.member("127.0.0.1:8081").orElseThrow().weight());
        assertEquals(403, c.method("DELETE", U1, null).statusCode());
        assertEquals(3, pool.snapshot().size());
    }

    @Test
    void tokenIsCheckedFirstThenMethodThenTokenValueThenTargetThenBody() {
        AdminClient c = startWithToken();
        // No token: 401 whatever the path and method.
        for (String path : List.of(U1 + "/drain", "/api/v1/state", "/api/v1/nowhere", "/api/v1/pools/zz/upstreams/1.2.3.4:5/drain", "/api/")) {
            HttpResponse<String> r = c.post(path, null, "{}");
            assertEquals(401, r.statusCode(), path);
            assertTrue(r.headers().firstValue("www-authenticate").orElse("").startsWith("Bearer"), path);
        }
        assertEquals(401, c.method("DELETE", U1, null).statusCode());
        assertEquals(401, c.method("PUT", U1 + "/weight", null).statusCode());
        HttpResponse<String> basic = c.method("POST", U1 + "/drain", null);
        assertEquals(401, basic.statusCode());
        // Wrong method (token present, even a wrong one): 405 with Allow.
        HttpResponse<String> m = c.method("PUT", U1 + "/drain", "wrong");
        assertEquals(405, m.statusCode());
        assertEquals("POST", m.headers().firstValue("allow").orElse(""));
        assertEquals(405, c.post("/api/v1/state", "wrong", "{}").statusCode());
        // GET never changes state: a GET on a changing endpoint is 405.
        assertEquals(405, c.get(U1 + "/drain").statusCode());
        assertEquals(3, pool.member("127.0.0.1:8081").orElseThrow().weight());
        // Wrong token: 403, compared only after the method.
        HttpResponse<String> w = c.post(U1 + "/drain", "wrong-token", null);
        assertEquals(403, w.statusCode());
        assertEquals(403, c.post("/api/v1/pools/zz/upstreams/1.2.3.4:5/drain", TOKEN + "x", null).statusCode());
        assertEquals(3, pool.member("127.0.0.1:8081").orElseThrow().weight());
        // Unknown pool, upstream or endpoint: 404.
        assertEquals(404, c.post("/api/v1/pools/zz/upstreams/127.0.0.1:8081/drain", TOKEN, null).statusCode());
        assertEquals(404, c.post("/api/v1/pools/web/upstreams/127.0.0.1:9999/drain", TOKEN, null).statusCode());
        assertEquals(404, c.post("/api/v1/pools/web/upstreams/127.0.0.1:8081/explode", TOKEN, null).statusCode());
        // Bad body: 400 with a message.
        HttpResponse<String> b1 = c.post(U1 + "/weight", TOKEN, "{\"weight\":");
        assertEquals(400, b1.statusCode());
        assertTrue(b1.body().contains("not JSON"), b1.body());
        HttpResponse<String> b2 = c.post(U1 + "/weight", TOKEN, "{\"weight\":70000}");
        assertEquals(400, b2.statusCode());
        assertTrue(b2.body().contains("weight must be an integer 0..65535, got 70000"), b2.body());
        HttpResponse<String> b3 = c.post(U1 + "/weight", TOKEN, "");
        assertEquals(400, b3.statusCode());
        assertTrue(b3.body().contains("empty body"), b3.body());
        HttpResponse<String> b4 = c.post("/api/v1/pools/web/upstreams", TOKEN, "{\"host\":\"127.0.0.1\"}");
        assertEquals(400, b4.statusCode());
        assertTrue(b4.body().contains("\\\"port\\\""), b4.body());
        HttpResponse<String> b5 = c.post("/api/v1/pools/web/upstreams", TOKEN, "{\"host\":\"127.0.0.1\",\"port\":1,\"colour\":1}");
        assertEquals(400, b5.statusCode());
        assertTrue(b5.body().contains("unknown field"), b5.body());
        assertEquals(3, pool.member("127.0.0.1:8081").orElseThrow().weight());
    }

    @Test
    void drainReadyMaintAndWeightGoThroughThePool() {
        AdminClient c = startWithToken();
        HttpResponse<String> d = c.post(U1 + "/drain", TOKEN, null);
        assertEquals(200, d.statusCode(), d.body());
        Member m = pool.member("127.0.0.1:8081").orElseThrow();
        assertEquals(0, m.weight());
        Map<String, Object> dj = Json.parseSimpleObject(d.body());
        assertEquals("draining", dj.get("state"));
        assertEquals(3L, dj.get("savedWeight"));
        assertTrue(m.upstream().metadata().isEmpty(), "the saved weight is no edit of the upstream");
        assertEquals("draining", Json.parseSimpleObject(c.get(U1).body()).get("state"));

        HttpResponse<String> r = c.post(U1 + "/ready", TOKEN, null);
        assertEquals(200, r.statusCode());
        assertEquals(3, m.weight(), "ready restores the weight the drain saved");
        assertFalse(m.upstream().metadata().containsKey("lbkit.admin.weight"));
        assertEquals("up", Json.parseSimpleObject(r.body()).get("state"));

        assertEquals(200, c.post(U1 + "/maint", TOKEN, null).statusCode());
        assertTrue(m.isAdminDown());
        assertEquals("maint", Json.parseSimpleObject(c.get(U1).body()).get("state"));
        assertEquals(200, c.post(U1 + "/ready", TOKEN, null).statusCode());
        assertFalse(m.isAdminDown());

        HttpResponse<String> w = c.post(U1 + "/weight", TOKEN, "{\"weight\": 7}");
        assertEquals(200, w.statusCode());
        assertEquals(7, m.weight());
        assertEquals(7L, Json.parseSimpleObject(w.body()).get("weight"));
        assertEquals(200, c.post(U1 + "/weight", TOKEN, "{\"weight\": 0}").statusCode());
        assertEquals("draining", AdminStateProbe.state(c, U1));
        assertEquals(200, c.post(U1 + "/ready", TOKEN, null).statusCode());
        assertEquals(7, m.weight());
        assertEquals(m, pool.member("127.0.0.1:8081").orElseThrow(), "the member keeps its identity");
    }

    @Test
    void theWeightADrainSavedOutlivesTheAdminServerThatDrained() {
        AdminClient a = startWithToken();
        HttpResponse<String> d = a.post(U1 + "/drain", TOKEN, null);
        assertEquals(200, d.statusCode(), d.body());
        assertEquals(3L, Json.parseSimpleObject(d.body()).get("savedWeight"));
        server.close();

        // A second admin server on the same pool sees the saved weight and gives it back.
        AdminClient b = startWithToken();
        assertEquals(3L, Json.parseSimpleObject(b.get(U1).body()).get("savedWeight"));
        HttpResponse<String> r = b.post(U1 + "/ready", TOKEN, null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(3, pool.member("127.0.0.1:8081").orElseThrow().weight(), "the weight before the drain");
        assertFalse(Json.parseSimpleObject(r.body()).containsKey("savedWeight"));
    }

    @Test
    void readyWithoutASavedWeightGivesWeightOne() {
        // Only a drain saves a weight. Metadata, which stores fill too, plays no part.
        UpstreamPool odd = UpstreamPool.builder().name("odd")
                .add(Upstream.builder("127.0.0.1", 8081).weight(0).metadata("lbkit.admin.weight", "lots").build())
                .add(Upstream.builder("127.0.0.1", 8082).weight(0).metadata("lbkit.admin.weight", "5").build())
                .build();
        AdminClient c = start(AdminServer.builder().pool(odd).token(TOKEN));
        HttpResponse<String> s = c.get("/api/v1/state");
        assertEquals(200, s.statusCode(), s.body());
        Map<?, ?> u = (Map<?, ?>) ((List<?>) ((Map<?, ?>) ((List<?>) Json.parseSimpleObject(s.body()).get("pools")).get(0))
                .get("upstreams")).get(0);
        assertEquals("draining", u.get("state"));
        assertFalse(u.containsKey("savedWeight"));
        for (String key : List.of("127.0.0.1:8081", "127.0.0.1:8082")) {
            HttpResponse<String> r = c.post("/api/v1/pools/odd/upstreams/" + key + "/ready", TOKEN, null);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(1, odd.member(key).orElseThrow().weight(), "no saved weight: ready gives 1");
        }
        // A drain outside the API saves the weight in the pool all the same.
        odd.drain("127.0.0.1:8081");
        assertEquals(200, c.post("/api/v1/pools/odd/upstreams/127.0.0.1:8081/ready", TOKEN, null).statusCode());
        assertEquals(1, odd.member("127.0.0.1:8081").orElseThrow().weight());
        odd.weight("127.0.0.1:8082", 4);
        odd.drain("127.0.0.1:8082");
        assertEquals(200, c.post("/api/v1/pools/odd/upstreams/127.0.0.1:8082/ready", TOKEN, null).statusCode());
        assertEquals(4, odd.member("127.0.0.1:8082").orElseThrow().weight());
    }

    @Test
    void addAndRemoveUpstreams() {
        AdminClient c = startWithToken();
        HttpResponse<String> a = c.post("/api/v1/pools/web/upstreams", TOKEN,
                "{\"host\":\"127.0.0.1\",\"port\":8090,\"weight\":2,\"backup\":false,\"name\":\"new one\"}");
        assertEquals(201, a.statusCode(), a.body());
        Upstream u = pool.member("127.0.0.1:8090").orElseThrow().upstream();
        assertEquals(2, u.weight());
        assertEquals("new one", u.name().orElseThrow());
        assertEquals(409, c.post("/api/v1/pools/web/upstreams", TOKEN, "{\"host\":\"127.0.0.1\",\"port\":8090}").statusCode());
        assertEquals(4, pool.snapshot().size());

        HttpResponse<String> del = c.method("DELETE", "/api/v1/pools/web/upstreams/127.0.0.1:8090", TOKEN);
        assertEquals(200, del.statusCode(), del.body());
        assertTrue(pool.member("127.0.0.1:8090").isEmpty());
        assertEquals(200, c.post("/api/v1/pools/web/upstreams/127.0.0.1:8082/remove", TOKEN, null).statusCode());
        assertTrue(pool.member("127.0.0.1:8082").isEmpty());
        assertEquals(404, c.method("DELETE", "/api/v1/pools/web/upstreams/127.0.0.1:8082", TOKEN).statusCode());

        // IPv6 keys travel percent-encoded.
        assertEquals(201, c.post("/api/v1/pools/web/upstreams", TOKEN, "{\"host\":\"::1\",\"port\":8091}").statusCode());
        assertEquals(200, c.post("/api/v1/pools/web/upstreams/%5B%3A%3A1%5D%3A8091/drain", TOKEN, null).statusCode());
        assertEquals(0, pool.member("[::1]:8091").orElseThrow().weight());
    }

    @Test
    void changesUnderLoadNeverLeaveAPickWithoutAnUpstream() throws Exception {
        AdminClient c = startWithToken();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger picks = new AtomicInteger();
        AtomicInteger misses = new AtomicInteger();
        CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
            PickContext ctx = new PickContext();
            while (!stop.get() && picks.get() < 50_000_000) {
                if (pool.pick(ctx) == null) {
                    misses.incrementAndGet();
                }
                picks.incrementAndGet();
            }
        });
        try {
            for (int i = 0; i < 20; i++) {
                assertEquals(200, c.post(U1 + "/drain", TOKEN, null).statusCode());
                assertEquals(201, c.post("/api/v1/pools/web/upstreams", TOKEN,
                        "{\"host\":\"127.0.0.1\",\"port\":" + (9000 + i) + "}").statusCode());
                assertEquals(200, c.post(U1 + "/ready", TOKEN, null).statusCode());
                assertEquals(200, c.post(U1 + "/weight", TOKEN, "{\"weight\":" + (1 + i) + "}").statusCode());
                assertEquals(200, c.method("DELETE", "/api/v1/pools/web/upstreams/127.0.0.1:" + (9000 + i), TOKEN).statusCode());
            }
        } finally {
            stop.set(true);
            load.get();
        }
        assertTrue(picks.get() > 0);
        assertEquals(0, misses.get(), "some pick found no upstream during the changes");
    }

    @Test
    void showsTheLastActiveCheckAndItsLatency() throws Exception {
        ActiveHealthPolicy checks = ActiveHealthPolicy.builder((u, t) -> CompletableFuture.completedFuture(
                u.port() == 8082 ? ProbeResult.unhealthy(Duration.ofMillis(3), "connection refused")
                        : ProbeResult.healthy(Duration.ofMillis(2), "connected")))
                .interval(Duration.ofHours(1)).fall(1).build();
        UpstreamPool checked = UpstreamPool.builder().name("checked").healthPolicy(checks)
                .add(Upstream.of("127.0.0.1", 8081)).add(Upstream.of("127.0.0.1", 8082)).build();
        try {
            checks.checkNow().toCompletableFuture().get();
            AdminClient c = start(AdminServer.builder().pool(checked));
            Map<String, Object> p = Json.parseSimpleObject(c.get("/api/v1/pools/checked").body());
            assertEquals(true, p.get("activeChecks"));
            List<?> ups = (List<?>) p.get("upstreams");
            Map<?, ?> ok = (Map<?, ?>) ((Map<?, ?>) ups.get(0)).get("check");
            Map<?, ?> bad = (Map<?, ?>) ((Map<?, ?>) ups.get(1)).get("check");
            assertEquals(true, ok.get("healthy"));
            assertEquals(2.0, ok.get("latencyMillis"));
            assertEquals("connected", ok.get("detail"));
            assertEquals(false, bad.get("healthy"));
            assertEquals("connection refused", bad.get("detail"));
            assertEquals("down", ((Map<?, ?>) ups.get(1)).get("state"));
        } finally {
            checked.close();
        }
    }

    @Test
    void sinceMovesWhenTheStateChanges() {
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(1_000_000);
        java.time.Clock clock = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.ofEpochMilli(now.get());
            }
        };
        AdminClient c = start(AdminServer.builder().pool(pool).token(TOKEN).clock(clock));
        assertEquals(1_000_000L, Json.parseSimpleObject(c.get(U1).body()).get("since"));
        now.set(2_000_000);
        assertEquals(1_000_000L, Json.parseSimpleObject(c.get(U1).body()).get("since"), "unchanged state keeps its time");
        pool.drain("127.0.0.1:8081");
        now.set(3_000_000);
        Map<String, Object> u = Json.parseSimpleObject(c.get(U1).body());
        assertEquals("draining", u.get("state"));
        assertEquals(2_000_000L, u.get("since"), "the listener noted the change when it happened");
    }

    @Test
    void thousandUpstreamsAnswerQuickly() {
        UpstreamPool big = UpstreamPool.builder().name("big").build();
        for (int i = 0; i < 1000; i++) {
            big.add(Upstream.of("127.0." + (i / 250) + "." + (1 + i % 250), 8000 + i));
        }
        AdminClient c = start(AdminServer.builder().pool(big));
        c.get("/api/v1/state");
        long t0 = System.nanoTime();
        HttpResponse<String> r = c.get("/api/v1/state");
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(200, r.statusCode());
        Matcher m = Pattern.compile("\"key\":").matcher(r.body());
        int n = 0;
        while (m.find()) {
            n++;
        }
        assertEquals(1000, n);
        assertTrue(millis < 2000, "state of 1,000 upstreams took " + millis + " ms");
    }

    @Test
    void bodiesAboveTheLimitAre413AndMalformedRequests400() throws Exception {
        AdminClient c = start(AdminServer.builder().pool(pool).token(TOKEN).maxRequestBody(100));
        HttpResponse<String> r = c.post(U1 + "/weight", TOKEN, "{\"weight\":1" + " ".repeat(200) + "}");
        assertEquals(413, r.statusCode());
        assertEquals(3, pool.member("127.0.0.1:8081").orElseThrow().weight());
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("GARBAGE\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 400", head);
        }
    }

    /** Sends {@code request} as is and returns what the server answers until it closes. */
    private String raw(String request) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void malformedPercentEncodingInThePathIs400NotA500() throws Exception {
        startWithToken();
        String get = raw("GET /api/v1/pools/%zz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assertTrue(get.startsWith("HTTP/1.1 400 "), get);
        assertTrue(get.contains("%zz") && !get.contains("Exception"), get);
        String trailing = raw("GET " + U1 + "% HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assertTrue(trailing.startsWith("HTTP/1.1 400 "), trailing);
        // A change keeps the order of the checks: a wrong token is still 403, then the path is 400.
        String post = "POST /api/v1/pools/%zz/upstreams/x/drain HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer TOKEN\r\n"
                + "Content-Length: 0\r\nConnection: close\r\n\r\n";
        String wrong = raw(post.replace("TOKEN", "wrong"));
        assertTrue(wrong.startsWith("HTTP/1.1 403 "), wrong);
        String right = raw(post.replace("TOKEN", TOKEN));
        assertTrue(right.startsWith("HTTP/1.1 400 "), right);
    }

    @Test
    void poolNamesWithSpecialCharactersAreAddressedAsTheyAreSpelled() {
        UpstreamPool plus = UpstreamPool.builder().name("a+b c/d").add(Upstream.of("127.0.0.1", 8081)).build();
        AdminClient c = start(AdminServer.builder().pool(plus).token(TOKEN));
        // '+' in a path is a plus sign, not a space as in a query.
        HttpResponse<String> r = c.get("/api/v1/pools/a+b%20c%2Fd");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("a+b c/d", Json.parseSimpleObject(r.body()).get("name"));
        assertEquals(200, c.get("/api/v1/pools/a%2Bb%20c%2Fd").statusCode());
        assertEquals(200, c.post("/api/v1/pools/a+b%20c%2Fd/upstreams/127.0.0.1:8081/drain", TOKEN, null).statusCode());
        assertEquals(0, plus.member("127.0.0.1:8081").orElseThrow().weight());
        assertEquals(404, c.get("/api/v1/pools/a+b+c%2Fd").statusCode());
    }

    @Test
    void tooLongARequestLineIs414AndTooLargeHeaders431() throws Exception {
        start(AdminServer.builder().pool(pool));
        String uri = raw("GET /api/v1/pools/" + "a".repeat(5000) + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertTrue(uri.startsWith("HTTP/1.1 414 "), uri);
        String headers = raw("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n");
        assertTrue(headers.startsWith("HTTP/1.1 431 "), headers);
    }

    @Test
    void acceptsAnAbsoluteFormRequestTarget() throws Exception {
        startWithToken();
        String get = raw("GET http://127.0.0.1/api/v1/pools/web HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertTrue(get.startsWith("HTTP/1.1 200 ") && get.contains("\"name\":\"web\""), get);
        String page = raw("GET HTTP://127.0.0.1:9091 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertTrue(page.startsWith("HTTP/1.1 200 ") && page.contains("text/html"), page);
        String drain = raw("POST http://127.0.0.1" + U1 + "/drain HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN
                + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assertTrue(drain.startsWith("HTTP/1.1 200 "), drain);
        assertEquals(0, pool.member("127.0.0.1:8081").orElseThrow().weight());
    }

    @Test
    void aWeightThatIsNotAnIntegerInRangeIsA400NamingIt() {
        AdminClient c = startWithToken();
        Map<String, String> named = Map.of("-1", "got -1", "3.5", "got 3.5", "1e400", "got Infinity",
                "99999999999999999999", "got 1.0E20", "\"3\"", "got \\\"3\\\"", "null", "got null", "true", "got true");
        named.forEach((value, message) -> {
            HttpResponse<String> r = c.post(U1 + "/weight", TOKEN, "{\"weight\":" + value + "}");
            assertEquals(400, r.statusCode(), value);
            assertTrue(r.body().contains("weight must be an integer 0..65535, " + message), value + ": " + r.body());
        });
        HttpResponse<String> other = c.post(U1 + "/weight", TOKEN, "{\"wieght\":3}");
        assertEquals(400, other.statusCode());
        assertTrue(other.body().contains("[wieght]"), other.body());
        assertEquals(3, pool.member("127.0.0.1:8081").orElseThrow().weight());
    }

    @Test
    void servesMetricsAndHeadWithoutBody() {
        AdminClient c = start(AdminServer.builder().pool(pool).metrics(() -> "lbkit_pool_size{pool=\"web\"} 3.0\n"));
        HttpResponse<String> r = c.get("/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
        assertEquals("lbkit_pool_size{pool=\"web\"} 3.0\n", r.body());
        HttpResponse<String> h = c.method("HEAD", "/api/v1/state", null);
        assertEquals(200, h.statusCode());
        assertEquals("", h.body());
        assertNotNull(h.headers().firstValue("content-length").orElse(null));
        assertEquals(405, c.post("/", null, "x").statusCode());
        assertEquals(405, c.method("DELETE", "/metrics", null).statusCode());
    }

    @Test
    void aChangingMethodOnAPathThatIsNoPageIs404Not405() {
        AdminClient c = start(AdminServer.builder().pool(pool).token(TOKEN));
        for (String method : List.of("POST", "PUT", "DELETE")) {
            HttpResponse<String> r = c.method(method, "/nothing", TOKEN);
            assertEquals(404, r.statusCode(), method);
            assertTrue(r.headers().firstValue("allow").isEmpty(), method);
        }
        assertEquals(404, c.post("/metrics", null, "x").statusCode(), "no /metrics without a scrape");
        HttpResponse<String> page = c.post("/index.html", null, "x");
        assertEquals(405, page.statusCode());
        assertEquals("GET, HEAD", page.headers().firstValue("allow").orElse(""));
    }

    @Test
    void servesTheApplicationsOwnReadOnlyEndpoints() {
        AdminClient c = start(AdminServer.builder().pool(pool).token(TOKEN)
                .endpoint("/stats", "application/json", q -> "{\"query\":\"" + q + "\"}"));
        HttpResponse<String> r = c.get("/stats?verbose");
        assertEquals(200, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        assertEquals("{\"query\":\"verbose\"}", r.body());
        assertEquals("{\"query\":\"\"}", c.get("/stats").body());
        assertEquals(405, c.post("/stats", TOKEN, "{}").statusCode());
        for (String reserved : List.of("/", "/metrics", "/ipvs", "/api/v1/state", "/api", "stats")) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> AdminServer.builder().endpoint(reserved, "text/plain", q -> ""), reserved);
        }
    }

    @Test
    void aFailureIs500WithoutTheServersInternals() {
        AdminClient c = start(AdminServer.builder().endpoint("/boom", "text/plain", q -> {
            throw new IllegalStateException("secret detail of the application");
        }));
        HttpResponse<String> boom = c.get("/boom");
        assertEquals(500, boom.statusCode());
        assertTrue(boom.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        assertFalse(boom.body().contains("secret") || boom.body().contains("Exception"), boom.body());
        assertEquals(200, c.get("/api/v1/state").statusCode(), "the server goes on");
    }

    /** Reads one field of an upstream through the API. */
    private static final class AdminStateProbe {
        static Object state(AdminClient c, String path) {
            return Json.parseSimpleObject(c.get(path).body()).get("state");
        }
    }
}
