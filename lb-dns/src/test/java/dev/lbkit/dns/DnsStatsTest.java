package dev.lbkit.dns;

import static dev.lbkit.dns.DnsBalancerTest.SEED;
import static dev.lbkit.dns.DnsBalancerTest.loopback0;
import static dev.lbkit.dns.DnsBalancerTest.seedPool;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

class DnsStatsTest {

    @Test
    void countsAnswersPerNameAndRcode() throws Exception {
        try (DnsBalancer dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, seedPool()).start()) {
            Dig udp = Dig.udp(dns);
            udp.a(SEED);
            udp.a(SEED);
            Dig.tcp(dns).query(SEED, Type.AAAA);
            udp.a("nope." + SEED);
            udp.a("example.org");
            Packets.udp(dns.localAddress(), new byte[3], 200);
            DnsStats s = dns.stats();
            assertEquals(3, s.count(SEED, "NOERROR"));
            assertEquals(1, s.count(SEED, "NXDOMAIN"));
            assertEquals(1, s.count("(other)", "REFUSED"));
            assertEquals(5, s.udpQueries());
            assertEquals(1, s.tcpQueries());
            assertEquals(1, s.dropped());
            assertEquals(0, s.count("unknown", "NOERROR"));
            assertEquals(Map.of("NOERROR", 3L, "NXDOMAIN", 1L), s.byName().get(SEED));
            assertThrows(UnsupportedOperationException.class, () -> s.byName().put("x", Map.of()));
            assertThrows(UnsupportedOperationException.class, () -> s.byName().get(SEED).put("x", 1L));
        }
    }

    @Test
    void builderRejectsBadValuesNamingThem() {
        DnsBalancer.Builder b = DnsBalancer.builder();
        assertEquals("maxUdpPayload must be in 512..65535, got 100",
                assertThrows(IllegalArgumentException.class, () -> b.maxUdpPayload(100)).getMessage());
        assertEquals("forwardTimeout must be > 0, got PT0S",
                assertThrows(IllegalArgumentException.class, () -> b.forwardTimeout(java.time.Duration.ZERO)).getMessage());
        assertEquals("udpReceiveBuffer must be in 4096..1073741824, got 100",
                assertThrows(IllegalArgumentException.class, () -> b.udpReceiveBuffer(100)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> ServedName.of("a..b", seedPool()));
        assertThrows(IllegalArgumentException.class, () -> ServedName.of("x".repeat(64) + ".local", seedPool()));
        assertThrows(IllegalArgumentException.class,
                () -> DnsBalancer.builder().name("a.local", seedPool()).name("A.local.", seedPool()).build());
    }
}
