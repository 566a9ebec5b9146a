package dev.lbkit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Json;
import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.RequestRateLimit;
import dev.lbkit.l7.RequestQueue;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class HttpTierTest {
    private static final String TOKEN = "token-for-the-l7-test";
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    static HttpResponse<String> get(HttpClient c, HttpBalancer lb, String path) throws Exception {
        return c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.address().getPort() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void showsPerUpstreamAndPerRouteTrafficAndChangesUnderLoadFailNoRequest() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (TestBackend a = TestBackend.start(Script.ok("backend a"));
                TestBackend b = TestBackend.start(Script.ok("backend b"));
                TestBackend c = TestBackend.start(Script.ok("backend c"));
                UpstreamPool pool = UpstreamPool.builder().name("backend").add(Upstream.of("127.0.0.1", a.port()))
                        .add(Upstream.of("127.0.0.1", b.port())).build();
                HttpBalancer lb = HttpBalancer.builder().listen(LOOPBACK).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                AdminServer admin = AdminServer.builder().listen(LOOPBACK).token(TOKEN).http("edge", lb).build().start()) {
            for (int i = 0; i < 10; i++) {
                assertEquals(200, get(client, lb, "/").statusCode());
            }
            AdminClient api = new AdminClient(admin);
            Map<String, Object> s = Json.parseSimpleObject(api.get("/api/v1/state").body());
            Map<?, ?> p = (Map<?, ?>) ((List<?>) s.get("pools")).get(0);
            assertEquals("backend", p.get("name"), "the route's pool is shown under its group's name");
            long requests = 0;
            long ok = 0;
            for (Object o : (List<?>) p.get("upstreams")) {
                Map<?, ?> t = (Map<?, ?>) ((Map<?, ?>) o).get("traffic");
                requests += (Long) t.get("requests");
                ok += (Long) ((List<?>) t.get("responses")).get(1);
                assertEquals(5L, t.get("requests"), "round robin over two");
                assertTrue((Long) t.get("bytesIn") > 0);
                // The per-upstream p50/p99 column: the upstream's header-time histogram, in ms.
                Object p50 = t.get("p50Millis");
                Object p99 = t.get("p99Millis");
                assertTrue(p50 instanceof Number && p99 instanceof Number, "upstream latency fields: " + t);
                assertTrue(((Number) p50).doubleValue() > 0, "p50 of an upstream that served: " + t);
                assertTrue(((Number) p99).doubleValue() >= ((Number) p50).doubleValue(), "p99 >= p50: " + t);
            }
            assertEquals(10, requests);
            assertEquals(10, ok);
            Map<?, ?> tier = (Map<?, ?>) ((List<?>) s.get("tiers")).get(0);
            assertEquals("l7", tier.get("kind"));
            List<?> row = (List<?>) ((List<?>) tier.get("rows")).get(0);
            assertEquals("/", row.get(0));
            assertEquals(10L, row.get(1));
            assertEquals(10L, row.get(3), "2xx");

            // Traffic keeps flowing while the API drains, adds, re-weights and removes upstreams.
            AtomicBoolean stop = new AtomicBoolean();
            List<Integer> statuses = new ArrayList<>();
            CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < 5000 && !stop.get(); i++) {
                        statuses.add(get(client, lb, "/").statusCode());
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            String ua = "/api/v1/pools/backend/upstreams/127.0.0.1:" + a.port();
            assertEquals(200, api.post(ua + "/drain", TOKEN, null).statusCode());
            assertEquals(201, api.post("/api/v1/pools/backend/upstreams", TOKEN,
                    "{\"host\":\"127.0.0.1\",\"port\":" + c.port() + ",\"weight\":2}").statusCode());
            Thread.sleep(100);
            assertEquals(200, api.post(ua + "/weight", TOKEN, "{\"weight\":3}").statusCode());
            Thread.sleep(100);
            assertEquals(200, api.method("DELETE", "/api/v1/pools/backend/upstreams/127.0.0.1:" + b.port(), TOKEN).statusCode());
            Thread.sleep(100);
            assertEquals(200, api.post(ua + "/drain", TOKEN, null).statusCode());
            int before = a.requestCount();
            Thread.sleep(100);
            stop.set(true);
            load.get();
            assertTrue(statuses.size() > 10, "requests during the changes: " + statuses.size());
            assertTrue(statuses.stream().allMatch(x -> x == 200), "a request failed during the changes: " + statuses);
            assertTrue(c.requestCount() > 0, "the added upstream took traffic");
            assertTrue(a.requestCount() - before <= 1, "the drained upstream took new requests");
        }
    }

    /** The route row counts requests its limits refused (limit_req, limit_conn). */
    @Test
    void showsWhatARoutesLimitsRefused() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (TestBackend a = TestBackend.start(Script.ok("backend a"));
                UpstreamPool pool = UpstreamPool.builder().name("backend").add(Upstream.of("127.0.0.1", a.port())).build();
                HttpBalancer lb = HttpBalancer.builder().listen(LOOPBACK).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool))
                                .limit(RequestRateLimit.perMinute(1).build()).build()).build().start();
                AdminServer admin = AdminServer.builder().listen(LOOPBACK).token(TOKEN).http("edge", lb).build().start()) {
            assertEquals(200, get(client, lb, "/").statusCode());
            assertEquals(503, get(client, lb, "/").statusCode(), "one request a minute, no burst");
            Map<String, Object> s = Json.parseSimpleObject(new AdminClient(admin).get("/api/v1/state").body());
            Map<?, ?> tier = (Map<?, ?>) ((List<?>) s.get("tiers")).get(0);
            List<?> columns = (List<?>) tier.get("columns");
            List<?> row = (List<?>) ((List<?>) tier.get("rows")).get(0);
            assertEquals(1L, row.get(columns.indexOf("limited")));
            assertEquals(0L, row.get(columns.indexOf("delayed")));
        }
    }

    @Test
    void groupsOfDifferentPoolsWithTheSameNameAreAllShownAndChangeable() throws Exception {
        try (UpstreamPool first = UpstreamPool.builder().add(Upstream.of("127.0.0.1", 8081)).build();
                UpstreamPool second = UpstreamPool.builder().add(Upstream.of("127.0.0.1", 8082)).build();
                HttpBalancer lb = HttpBalancer.builder().listen(LOOPBACK).eventLoops(1)
                        .route(Route.builder("/a").group(UpstreamGroup.of(first)).build())
                        .route(Route.builder("/b").group(UpstreamGroup.of(second)).build()).build().start();
                AdminServer admin = AdminServer.builder().listen(LOOPBACK).token(TOKEN).http("edge", lb).build().start()) {
            assertEquals(first.name(), second.name(), "both pools have the default name");
            AdminClient api = new AdminClient(admin);
            List<?> pools = (List<?>) Json.parseSimpleObject(api.get("/api/v1/pools").body()).get("pools");
            assertEquals(2, pools.size(), "a pool is hidden: " + pools);
            String name = first.name() + "-2";
            assertEquals(name, ((Map<?, ?>) pools.get(1)).get("name"));
            assertEquals(200, api.post("/api/v1/pools/" + name + "/upstreams/127.0.0.1:8082/drain", TOKEN, null).statusCode());
            assertEquals(0, second.member("127.0.0.1:8082").orElseThrow().weight());
            assertEquals(1, first.member("127.0.0.1:8081").orElseThrow().weight());
        }
    }

    @Test
    void showsTheRequestQueueOfAGroup() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (TestBackend slow = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(500)).build());
                UpstreamPool pool = UpstreamPool.builder().name("backend")
                        .add(Upstream.builder("127.0.0.1", slow.port()).maxConnections(1).build()).build();
                HttpBalancer lb = HttpBalancer.builder().listen(LOOPBACK).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.builder(pool)
                                .queue(new RequestQueue(1, Duration.ofSeconds(10))).build()).build()).build().start();
                AdminServer admin = AdminServer.builder().listen(LOOPBACK).token(TOKEN).http("edge", lb).build().start()) {
            List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                sent.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.address().getPort()
                        + "/")).build(), HttpResponse.BodyHandlers.ofString()));
                int n = i + 1;
                Await.until(() -> slow.requestCount() + lb.stats().queue("backend").queued() == n);
            }
            assertEquals(503, get(client, lb, "/").statusCode(), "the queue of one is full");
            AdminClient api = new AdminClient(admin);
            Map<?, ?> tier = (Map<?, ?>) ((List<?>) Json.parseSimpleObject(api.get("/api/v1/state").body()).get("tiers"))
                    .get(0);
            Map<?, ?> q = (Map<?, ?>) ((List<?>) tier.get("queues")).get(0);
            assertEquals("backend", q.get("group"));
            assertEquals(1L, q.get("queued"));
            assertEquals(1L, q.get("totalQueued"));
            assertEquals(1L, q.get("rejected"));
            assertEquals(0L, q.get("timedOut"));
            assertTrue(((String) tier.get("summary")).contains("queue backend: 1 waiting, 1 queued, 1 full, 0 timed out"),
                    (String) tier.get("summary"));
            for (CompletableFuture<HttpResponse<String>> f : sent) {
                assertEquals(200, f.get().statusCode());
            }
        }
    }
}
