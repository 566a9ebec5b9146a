package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.dns.ServedName;
import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Dig;
import dev.lbkit.examples.support.Running;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Record;

class DnsCommandTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    /** A resolver on loopback standing in for the seed's 8.8.8.8: answers upstream.test with TTL 140. */
    static DnsBalancer upstreamResolver(UpstreamPool pool) {
        return DnsBalancer.builder().listen(new InetSocketAddress("127.0.0.1", 0))
                .name(ServedName.builder("upstream.test", pool).ttl(Duration.ofSeconds(140)).build())
                .ioThreads(1).start();
    }

    @Test
    void answersTheSeedsNameLikeDnsmasqAndForwardsOtherNames() throws Exception {
        try (UpstreamPool far = UpstreamPool.of(Upstream.of("127.0.0.9", 80));
                DnsBalancer resolver = upstreamResolver(far);
                Running dns = new DnsCommand().start("--listen", "127.0.0.1:0", "--forward",
                        Addresses.format(resolver.localAddress()), "--threads", "1")) {
            InetSocketAddress server = dns.address("dns");
            Dig.Answer a = Dig.a(server, Seed.NAME, TIMEOUT);
            assertEquals("NOERROR", a.status());
            assertEquals("qr aa rd ra", a.flags());
            assertEquals(2, a.answers().size());
            for (Record r : a.answers()) {
                assertEquals(0, r.getTTL());
            }
            assertEquals(Set.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("127.0.0.2")),
                    new HashSet<>(a.addresses()));
            // Round robin: the order rotates between queries.
            Set<List<InetAddress>> orders = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                orders.add(Dig.a(server, Seed.NAME, TIMEOUT).addresses());
            }
            assertEquals(2, orders.size(), orders.toString());

            Dig.Answer other = Dig.a(server, "upstream.test", TIMEOUT);
            assertEquals("NOERROR", other.status());
            // The resolver's answer is passed on (its AA flag included: the stand-in is authoritative).
            assertTrue(other.flag(Flags.RA));
            assertEquals(List.of(InetAddress.getByName("127.0.0.9")), other.addresses());
            long ttl = other.answers().get(0).getTTL();
            assertTrue(ttl > 130 && ttl <= 140, "upstream TTL kept: " + ttl);
        }
    }

    @Test
    void forwardNoneRefusesOtherNames() throws Exception {
        try (Running dns = new DnsCommand().start("--listen", "127.0.0.1:0", "--forward", "none",
                "--name", "svc.example", "--address", "127.0.0.7", "--ttl", "30", "--threads", "1")) {
            InetSocketAddress server = dns.address("dns");
            assertEquals("REFUSED", Dig.a(server, "elsewhere.test", TIMEOUT).status());
            Dig.Answer a = Dig.a(server, "svc.example", TIMEOUT);
            assertEquals(List.of(InetAddress.getByName("127.0.0.7")), a.addresses());
            assertEquals(30, a.answers().get(0).getTTL());
        }
    }

    @Test
    void healthPortLeavesADeadAddressOut() throws Exception {
        try (TestBackend one = TestBackend.start(new InetSocketAddress("127.0.0.1", 0), Script.ok("1"))) {
            int port = one.port();
            TestBackend two = TestBackend.start(new InetSocketAddress("127.0.0.2", port), Script.ok("2"));
            try (Running dns = new DnsCommand().start("--listen", "127.0.0.1:0", "--forward", "none",
                    "--health-port", String.valueOf(port), "--health-interval", "100ms", "--threads", "1",
                    "--admin", "127.0.0.1:0")) {
                InetSocketAddress server = dns.address("dns");
                assertEquals(2, Dig.a(server, Seed.NAME, TIMEOUT).addresses().size());
                two.close();
                List<InetAddress> now = awaitAnswer(server, 1);
                assertEquals(List.of(InetAddress.getByName("127.0.0.1")), now);
                String json = AdminClient.get(dns, "/stats");
                assertTrue(json.contains("{\"address\":\"127.0.0.2\",\"available\":false}"), json);
                assertTrue(json.contains("{\"address\":\"127.0.0.1\",\"available\":true}"), json);
            } finally {
                two.close();
            }
        }
    }

    static List<InetAddress> awaitAnswer(InetSocketAddress server, int size) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        List<InetAddress> now = Dig.a(server, Seed.NAME, TIMEOUT).addresses();
        while (now.size() != size && System.nanoTime() < deadline) {
            Thread.sleep(50);
            now = Dig.a(server, Seed.NAME, TIMEOUT).addresses();
        }
        return now;
    }

    @Test
    void defaultForwarderIsTheFirstNameserverOfResolvConf(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("resolv.conf");
        Files.writeString(conf, "# generated\nsearch example\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n");
        assertEquals(Optional.of(new InetSocketAddress("127.0.0.53", 53)), DnsCommand.firstNameserver(conf));
        Files.writeString(conf, "search example\n");
        assertEquals(Optional.empty(), DnsCommand.firstNameserver(conf));
        assertEquals(Optional.empty(), DnsCommand.firstNameserver(dir.resolve("missing")));
    }
}
