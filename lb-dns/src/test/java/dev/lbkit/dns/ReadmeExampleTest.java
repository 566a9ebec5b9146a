package dev.lbkit.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.TcpConnectProbe;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;

/** The README's example, on ephemeral ports, with the second lbkit server standing in for server=8.8.8.8. */
class ReadmeExampleTest {

    @Test
    void theReadmeExampleAnswersAsShown() throws Exception {
        UpstreamPool other = UpstreamPool.builder().add("127.0.0.9", 80).build();
        try (DnsBalancer upstream = DnsBalancer.builder().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .ioThreads(1).name(ServedName.builder("example.test", other).ttl(Duration.ofSeconds(300)).build()).start();
                UpstreamPool app = UpstreamPool.builder()
                        .name("app")
                        .healthPolicy(ActiveHealthPolicy.builder(TcpConnectProbe.create()).build())
                        .add("127.0.0.1", 8081)
                        .add("127.0.0.2", 8081)
                        .build();
                DnsBalancer dns = DnsBalancer.builder()
                        .listen(new InetSocketAddress("127.0.0.1", 0))
                        .name(ServedName.builder("my-awesome-highload-app.local", app)
                                .subdomains(true)
                                .ttl(Duration.ZERO)
                                .failOpen(true)
                                .build())
                        .forwarder(upstream.localAddress())
                        .ioThreads(1)
                        .start()) {
            Dig dig = Dig.udp(dns);
            Message m = dig.a("my-awesome-highload-app.local");
            assertEquals("qr aa rd ra", Dig.flags(m));
            assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(m)));
            assertEquals(0, m.getSection(org.xbill.DNS.Section.ANSWER).get(0).getTTL());
            Message f = dig.a("example.test");
            assertEquals(List.of("127.0.0.9"), Dig.addresses(f));
            assertEquals(300, f.getSection(org.xbill.DNS.Section.ANSWER).get(0).getTTL());
        }
    }
}
