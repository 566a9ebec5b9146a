package dev.lbkit.micrometer;

import static dev.lbkit.micrometer.PoolMetricsTest.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.PassiveHealthPolicy;
import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.Listener;
import dev.lbkit.l7.RequestRateLimit;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class HttpMetricsTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @Test
    void routeLimitRefusalsAreCounted() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (TestBackend ok = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = UpstreamPool.builder().name("backend").add(Upstream.of("127.0.0.1", ok.port()))
                        .build();
                HttpBalancer lb = HttpBalancer.builder().listen(LOOPBACK).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool))
                                .limit(RequestRateLimit.perMinute(1).status(429).build()).build()).build().start();
                LbkitMetrics metrics = LbkitMetrics.builder(registry).http("edge", lb)
                        .refreshInterval(Duration.ofHours(1)).build()) {
            for (int i = 0; i < 3; i++) {
                client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.address().getPort() + "/"))
                        .build(), HttpResponse.BodyHandlers.ofString());
            }
            metrics.refresh();
            String s = registry.scrape();
            assertEquals(2, value(s, "lbkit_l7_limit_requests_total{outcome=\"rejected\",route=\"/\",service=\"edge\"}"));
            assertEquals(0, value(s, "lbkit_l7_limit_requests_total{outcome=\"delayed\",route=\"/\",service=\"edge\"}"));
            assertEquals(0, value(s, "lbkit_l7_limit_requests_total{outcome=\"dry_run\",route=\"/\",service=\"edge\"}"));
        }
    }

    @Test
    void httpRequestsResponsesBytesAndLatencyPerRouteAndUpstream() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (TestBackend ok = TestBackend.start(Script.ok("12345"));
                TestBackend missing = TestBackend.start(Script.builder().status(404).body("no").build());
                UpstreamPool pool = UpstreamPool.builder().name("backend").add(Upstream.of("127.0.0.1", ok.port()))
                        .add(Upstream.of("127.0.0.1", missing.port())).build();
                HttpBalancer lb = HttpBalancer.builder().listen(LOOPBACK).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                LbkitMetrics metrics = LbkitMetrics.builder(registry).pool(pool).http("edge", lb)
                        .latencyBuckets(Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(10))
                        .refreshInterval(Duration.ofHours(1)).build()) {
            for (int i = 0; i < 6; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + lb.address().getPort() + "/x?user=secret")).build(), HttpResponse.BodyHandlers.ofString());
                assertTrue(r.statusCode() == 200 || r.statusCode() == 404);
            }
            metrics.refresh();
            String s = registry.scrape();
            String route = "route=\"/\",service=\"edge\"";
            assertEquals(6, value(s, "lbkit_l7_requests_total{" + route + "}"));
            assertEquals(3, value(s, "lbkit_l7_responses_total{" + route + ",status=\"2xx\"}"));
            assertEquals(3, value(s, "lbkit_l7_responses_total{" + route + ",status=\"4xx\"}"));
            assertEquals(3 * 5 + 3 * 2, value(s, "lbkit_l7_bytes_total{direction=\"sent\"," + route + "}"));
            assertEquals(0, value(s, "lbkit_l7_requests_active{" + route + "}"));
            String up = "group=\"backend\",service=\"edge\",upstream=\"127.0.0.1:" + ok.port() + "\"";
            assertEquals(3, value(s, "lbkit_l7_upstream_requests_total{" + up + "}"));
            assertEquals(3, value(s, "lbkit_l7_upstream_responses_total{" + up + ",status=\"2xx\"}"));
            assertEquals(15, value(s, "lbkit_l7_upstream_bytes_total{direction=\"received\"," + up + "}"));
            // The timers hold exactly the samples lb-l7 counted: per route one per request, per upstream one
            // per response head (the header time).
            assertEquals(3, lb.stats().upstream("backend", "127.0.0.1:" + ok.port()).latency().count());
            assertEquals(3, value(s, "lbkit_l7_upstream_latency_seconds_count{" + up + "}"));
            assertTrue(value(s, "lbkit_l7_upstream_latency_seconds_count{" + up + "}") > 0, "an upstream that served");
            assertEquals(3, value(s, "lbkit_l7_upstream_latency_seconds_bucket{" + up + ",le=\"10.0\"}"));
            String missingUp = "group=\"backend\",service=\"edge\",upstream=\"127.0.0.1:" + missing.port() + "\"";
            assertEquals(3, value(s, "lbkit_l7_upstream_latency_seconds_count{" + missingUp + "}"));
            assertEquals(6, value(s, "lbkit_l7_latency_seconds_count{" + route + "}"));
            assertEquals(6, value(s, "lbkit_l7_latency_seconds_bucket{" + route + ",le=\"10.0\"}"));
            assertTrue(s.contains("lbkit_l7_latency_seconds_bucket{route=\"/\",service=\"edge\",le=\"0.1\"}"),
                    "the configured buckets");
            assertFalse(s.contains("le=\"0.002\""), "only the configured buckets");
            assertFalse(s.contains("secret") || s.contains("/x"), "no URL in any tag");

            // A second refresh adds only the new samples.
            client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.address().getPort() + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            metrics.refresh();
            metrics.refresh();
            assertEquals(7, value(registry.scrape(), "lbkit_l7_latency_seconds_count{" + route + "}"));
        }
    }

    @Test
    void failuresByCauseThroughTheOutcomeCountingPolicy() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        int dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        try (TestBackend ok = TestBackend.start(Script.ok("fine"));
                UpstreamPool pool = UpstreamPool.builder().name("backend")
                        .healthPolicy(OutcomeMetrics.wrap(registry, PassiveHealthPolicy.nginxDefaults()))
                        .add(Upstream.of("127.0.0.1", ok.port())).add(Upstream.of("127.0.0.1", dead)).build();
                HttpBalancer lb = HttpBalancer.builder().listen(LOOPBACK).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + lb.address().getPort() + "/")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), "the dead upstream's failures are retried on the live one");
            }
            String s = registry.scrape();
            assertEquals(1, value(s, "lbkit_upstream_outcomes_total{outcome=\"connect_failure\",pool=\"backend\",upstream=\"127.0.0.1:" + dead + "\"}"),
                    "nginx's max_fails=1 ejects it after one failure");
            assertEquals(4, value(s, "lbkit_upstream_outcomes_total{outcome=\"success\",pool=\"backend\",upstream=\"127.0.0.1:" + ok.port() + "\"}"));
            assertEquals(0, value(s, "lbkit_upstream_outcomes_total{outcome=\"timeout\",pool=\"backend\",upstream=\"127.0.0.1:" + ok.port() + "\"}"));
            pool.remove("127.0.0.1:" + dead);
            assertFalse(registry.scrape().contains(":" + dead + "\""), "a removed upstream's counters go");
        }
    }

    /** A connection that does not start with a PROXY header on an accepting listener is counted. */
    @Test
    void malformedProxyHeadersAreCounted() throws Exception {
        try (TestBackend ok = TestBackend.start(Script.ok("12345"));
                UpstreamPool pool = UpstreamPool.builder().name("backend").add(Upstream.of("127.0.0.1", ok.port())).build();
                HttpBalancer lb = HttpBalancer.builder().listen(Listener.builder(LOOPBACK).acceptProxyProtocol(true).build())
                        .eventLoops(1).route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                LbkitMetrics metrics = LbkitMetrics.builder(registry).http("edge", lb)
                        .refreshInterval(Duration.ofHours(1)).build()) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), lb.address().getPort())) {
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout(10_000);
                assertEquals(-1, s.getInputStream().read(), "closed without a response");
            }
            Await.until(() -> lb.stats().malformedProxyHeaders() == 1);
            metrics.refresh();
            assertEquals(1, value(registry.scrape(), "lbkit_l7_proxy_headers_malformed_total{service=\"edge\"}"));
        }
    }
}
