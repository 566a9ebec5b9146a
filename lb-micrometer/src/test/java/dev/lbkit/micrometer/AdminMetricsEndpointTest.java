package dev.lbkit.micrometer;

import static dev.lbkit.micrometer.PoolMetricsTest.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.admin.AdminServer;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** lb-admin's /metrics serving lb-micrometer's Prometheus registry, as the README wires them. */
class AdminMetricsEndpointTest {

    @Test
    void adminServesThePrometheusScrape() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        UpstreamPool pool = UpstreamPool.builder().name("web").add(Upstream.of("127.0.0.1", 8081))
                .add(Upstream.of("127.0.0.1", 8082)).build();
        try (LbkitMetrics metrics = LbkitMetrics.builder(registry).pool(pool).build();
                AdminServer admin = AdminServer.builder().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                        .pool(pool).metrics(registry::scrape).build().start()) {
            pool.drain("127.0.0.1:8082");
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(admin.url() + "metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
            assertEquals(2, value(r.body(), "lbkit_pool_upstreams{pool=\"web\"}"));
            assertEquals(1, value(r.body(), "lbkit_pool_upstreams_available{pool=\"web\"}"));
            assertEquals(0, value(r.body(), "lbkit_upstream_weight{pool=\"web\",upstream=\"127.0.0.1:8082\"}"));
        }
    }
}
