package dev.lbkit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Json;
import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.dns.ServedName;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

class DnsTierTest {

    @Test
    void showsAnswersPerNameAndRcodeAndTheServedPool() throws Exception {
        UpstreamPool app = UpstreamPool.builder().name("app").add("127.0.0.1", 8081).add("127.0.0.2", 8081).build();
        try (DnsBalancer dns = DnsBalancer.builder().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .name(ServedName.of("app.test", app)).zone("test").start();
                AdminServer admin = AdminServer.builder().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                        .dns("edge-dns", dns, app).build().start()) {
            SimpleResolver r = new SimpleResolver(dns.localAddress());
            r.setTimeout(Duration.ofSeconds(3));
            for (int i = 0; i < 2; i++) {
                r.send(Message.newQuery(Record.newRecord(Name.fromString("app.test."), Type.A, DClass.IN)));
            }
            Map<String, Object> s = Json.parseSimpleObject(new AdminClient(admin).get("/api/v1/state").body());
            assertEquals("app", ((Map<?, ?>) ((List<?>) s.get("pools")).get(0)).get("name"));
            Map<?, ?> tier = (Map<?, ?>) ((List<?>) s.get("tiers")).get(0);
            assertEquals("dns", tier.get("kind"));
            assertEquals("edge-dns", tier.get("name"));
            assertEquals(2L, ((Map<?, ?>) tier.get("totals")).get("udpQueries"));
            List<?> columns = (List<?>) tier.get("columns");
            int noerror = columns.indexOf("NOERROR");
            assertTrue(noerror > 0, columns.toString());
            boolean found = false;
            for (Object row : (List<?>) tier.get("rows")) {
                List<?> cells = (List<?>) row;
                if (cells.get(0).equals("app.test")) {
                    assertEquals(2L, cells.get(noerror));
                    found = true;
                }
            }
            assertTrue(found, tier.toString());
        }
    }
}
