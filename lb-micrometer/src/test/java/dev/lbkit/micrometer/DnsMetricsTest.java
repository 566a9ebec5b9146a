package dev.lbkit.micrometer;

import static dev.lbkit.micrometer.PoolMetricsTest.value;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.dns.ServedName;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

class DnsMetricsTest {

    @Test
    void answersByNameAndRcodeAndQueriesByTransport() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        UpstreamPool app = UpstreamPool.builder().name("app").add("127.0.0.1", 8081).add("127.0.0.2", 8081).build();
        try (DnsBalancer dns = DnsBalancer.builder().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .name(ServedName.of("app.test", app)).zone("test").start();
                LbkitMetrics metrics = LbkitMetrics.builder(registry).pool(app).dns("edge-dns", dns)
                        .refreshInterval(Duration.ofHours(1)).build()) {
            SimpleResolver r = new SimpleResolver(dns.localAddress());
            r.setTimeout(Duration.ofSeconds(3));
            for (int i = 0; i < 3; i++) {
                assertEquals(Rcode.NOERROR, r.send(query("app.test.")).getRcode());
            }
            assertEquals(Rcode.NXDOMAIN, r.send(query("nope.test.")).getRcode());
            r.setTCP(true);
            assertEquals(Rcode.NOERROR, r.send(query("app.test.")).getRcode());
            metrics.refresh();
            String s = registry.scrape();
            assertEquals(4, value(s, "lbkit_dns_answers_total{name=\"app.test\",rcode=\"NOERROR\",service=\"edge-dns\"}"));
            assertEquals(4, value(s, "lbkit_dns_queries_received_total{service=\"edge-dns\",transport=\"udp\"}"));
            assertEquals(1, value(s, "lbkit_dns_queries_received_total{service=\"edge-dns\",transport=\"tcp\"}"));
            double nx = 0;
            for (String line : s.split("\n")) {
                if (line.startsWith("lbkit_dns_answers_total{") && line.contains("rcode=\"NXDOMAIN\"")) {
                    nx += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            assertEquals(1, nx, s);
            assertEquals(2, value(s, "lbkit_pool_upstreams{pool=\"app\"}"));
        }
    }

    private static Message query(String name) throws Exception {
        return Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN));
    }
}
