package dev.lbkit.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.OutlierDetectionPolicy;
import dev.lbkit.api.health.Outcome;
import dev.lbkit.api.health.ProbeResult;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.FakeTicker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class PoolMetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    /** The value of {@code series} ({@code name{label="v",...}}, labels in any order) in a Prometheus scrape. */
    static double value(String scrape, String series) {
        String want = normalize(series);
        for (String line : scrape.split("\n")) {
            int sp = line.lastIndexOf(' ');
            if (!line.startsWith("#") && sp > 0 && normalize(line.substring(0, sp)).equals(want)) {
                return Double.parseDouble(line.substring(sp + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in:\n" + scrape);
    }

    private static String normalize(String series) {
        int open = series.indexOf('{');
        if (open < 0) {
            return series;
        }
        String[] labels = series.substring(open + 1, series.lastIndexOf('}')).split("\",");
        for (int i = 0; i < labels.length; i++) {
            labels[i] = labels[i].endsWith("\"") ? labels[i] : labels[i] + "\"";
        }
        java.util.Arrays.sort(labels);
        return series.substring(0, open) + "{" + String.join(",", labels) + "}";
    }

    @Test
    void poolAndUpstreamGaugesFollowThePool() {
        UpstreamPool pool = UpstreamPool.builder().name("web")
                .add(Upstream.builder("127.0.0.1", 8081).weight(3).build())
                .add(Upstream.builder("127.0.0.1", 8082).backup(true).build()).build();
        try (LbkitMetrics m = LbkitMetrics.builder(registry).pool(pool).build()) {
            String s = registry.scrape();
            assertEquals(2, value(s, "lbkit_pool_upstreams{pool=\"web\"}"));
            assertEquals(2, value(s, "lbkit_pool_upstreams_available{pool=\"web\"}"));
            assertEquals(3, value(s, "lbkit_upstream_weight{pool=\"web\",upstream=\"127.0.0.1:8081\"}"));
            assertEquals(3, value(s, "lbkit_upstream_effective_weight{pool=\"web\",upstream=\"127.0.0.1:8081\"}"));
            assertEquals(1, value(s, "lbkit_upstream_available{pool=\"web\",upstream=\"127.0.0.1:8082\"}"));
            assertEquals(0, value(s, "lbkit_upstream_connections_active{pool=\"web\",upstream=\"127.0.0.1:8081\"}"));

            Member m1 = pool.member("127.0.0.1:8081").orElseThrow();
            m1.incrementActive();
            m1.incrementInactive();
            pool.drain("127.0.0.1:8081");
            pool.add(Upstream.of("127.0.0.1", 8083));
            pool.remove("127.0.0.1:8082");
            s = registry.scrape();
            assertEquals(0, value(s, "lbkit_upstream_weight{pool=\"web\",upstream=\"127.0.0.1:8081\"}"));
            assertEquals(0, value(s, "lbkit_upstream_available{pool=\"web\",upstream=\"127.0.0.1:8081\"}"));
            assertEquals(1, value(s, "lbkit_upstream_connections_active{pool=\"web\",upstream=\"127.0.0.1:8081\"}"));
            assertEquals(1, value(s, "lbkit_upstream_connections_inactive{pool=\"web\",upstream=\"127.0.0.1:8081\"}"));
            assertEquals(1, value(s, "lbkit_upstream_weight{pool=\"web\",upstream=\"127.0.0.1:8083\"}"));
            assertFalse(s.contains("127.0.0.1:8082"), "a removed upstream's meters are gone");
            assertEquals(2, value(s, "lbkit_pool_upstreams{pool=\"web\"}"));
            assertEquals(1, value(s, "lbkit_pool_upstreams_available{pool=\"web\"}"));
        }
        assertFalse(registry.scrape().contains("lbkit_"), "close removes every meter");
    }

    @Test
    void ejectionsAndActiveChecksAreCounted() throws Exception {
        FakeTicker ticker = new FakeTicker();
        UpstreamPool pool = UpstreamPool.builder().name("api").ticker(ticker)
                .healthPolicy(OutlierDetectionPolicy.builder().consecutiveFailures(2).maxEjectionPercent(100).build())
                .add(Upstream.of("127.0.0.1", 9001)).add(Upstream.of("127.0.0.1", 9002)).build();
        ActiveHealthPolicy checks = ActiveHealthPolicy.builder((u, t) -> CompletableFuture.completedFuture(
                ProbeResult.healthy(Duration.ofMillis(250), "connected"))).interval(Duration.ofHours(1)).build();
        UpstreamPool checked = UpstreamPool.builder().name("checked").healthPolicy(checks)
                .add(Upstream.of("127.0.0.1", 9003)).build();
        try (LbkitMetrics m = LbkitMetrics.builder(registry).pool(pool).pool(checked).build()) {
            Member a = pool.member("127.0.0.1:9001").orElseThrow();
            pool.report(a, Outcome.CONNECT_FAILURE);
            pool.report(a, Outcome.CONNECT_FAILURE);
            checks.checkNow().toCompletableFuture().get();
            String s = registry.scrape();
            assertEquals(1, value(s, "lbkit_upstream_ejections_total{pool=\"api\",upstream=\"127.0.0.1:9001\"}"));
            assertEquals(0, value(s, "lbkit_upstream_ejections_total{pool=\"api\",upstream=\"127.0.0.1:9002\"}"));
            assertEquals(0, value(s, "lbkit_upstream_available{pool=\"api\",upstream=\"127.0.0.1:9001\"}"));
            assertEquals(0.25, value(s, "lbkit_upstream_check_latency_seconds{pool=\"checked\",upstream=\"127.0.0.1:9003\"}"));
            assertEquals(1, value(s, "lbkit_upstream_check_up{pool=\"checked\",upstream=\"127.0.0.1:9003\"}"));
            assertTrue(s.contains("# TYPE lbkit_upstream_ejections_total counter"), s);
        } finally {
            checked.close();
        }
    }

    /**
     * Micrometer holds a gauge's object weakly so that it can be collected; lbkit's gauges must not hold
     * it strongly in their functions. A pool dropped (and closed, so that its probes stop) together with
     * metrics that were never closed is collected, and its gauges read NaN.
     */
    @Test
    void theRegistryDoesNotKeepADroppedPoolAlive() throws Exception {
        WeakReference<UpstreamPool> dropped = bindAndDrop();
        Await.until(() -> {
            System.gc();
            return dropped.get() == null;
        }, Duration.ofSeconds(30));
        String s = registry.scrape();
        assertTrue(Double.isNaN(value(s, "lbkit_pool_upstreams{pool=\"dropped\"}")), s);
        assertTrue(Double.isNaN(value(s, "lbkit_upstream_available{pool=\"dropped\",upstream=\"127.0.0.1:9004\"}")), s);
        assertTrue(Double.isNaN(value(s, "lbkit_upstream_check_up{pool=\"dropped\",upstream=\"127.0.0.1:9004\"}")), s);
    }

    /** Binds a pool with active checks to {@link #registry}, closes the pool and forgets it and the metrics. */
    private WeakReference<UpstreamPool> bindAndDrop() throws Exception {
        ActiveHealthPolicy checks = ActiveHealthPolicy.builder((u, t) -> CompletableFuture.completedFuture(
                ProbeResult.healthy(Duration.ofMillis(5), "connected"))).interval(Duration.ofHours(1)).build();
        UpstreamPool pool = UpstreamPool.builder().name("dropped").healthPolicy(checks)
                .add(Upstream.of("127.0.0.1", 9004)).build();
        LbkitMetrics.builder(registry).pool(pool).build();
        checks.checkNow().toCompletableFuture().get();
        String s = registry.scrape();
        assertEquals(1, value(s, "lbkit_pool_upstreams{pool=\"dropped\"}"));
        assertEquals(1, value(s, "lbkit_upstream_available{pool=\"dropped\",upstream=\"127.0.0.1:9004\"}"));
        assertEquals(1, value(s, "lbkit_upstream_check_up{pool=\"dropped\",upstream=\"127.0.0.1:9004\"}"));
        pool.close();
        return new WeakReference<>(pool);
    }
}
