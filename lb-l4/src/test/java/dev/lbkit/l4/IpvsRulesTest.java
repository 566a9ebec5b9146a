package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** {@code ipvsadm -Sn} and {@code ipvsadm-restore}: {@link IpvsRules}. */
class IpvsRulesTest {

    private static final InetSocketAddress REAL1 = new InetSocketAddress("127.0.0.1", 8081);
    private static final InetSocketAddress REAL2 = new InetSocketAddress("127.0.0.1", 8082);

    @Test
    void saveWritesIpvsadmsLinesAndRestoreBuildsTheSameServices() throws Exception {
        String saved;
        try (L4Balancer a = L4Balancer.builder().ioThreads(1).build()) {
            a.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr").realServer(REAL2)
                    .realServer(RealServer.builder(REAL1).weight(3).upperThreshold(100).lowerThreshold(50).build())
                    .build());
            a.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("sh").persistence(Duration.ofSeconds(600))
                    .persistenceNetmask(24).onePacket(true).realServer(REAL1).build());
            VirtualServer tcp = a.services().get(0);
            VirtualServer udp = a.services().get(1);
            String t = "-t " + IpvsTable.addrPort(tcp.localAddress());
            String u = "-u " + IpvsTable.addrPort(udp.localAddress());
            saved = IpvsRules.save(a);
            assertEquals("-A " + t + " -s rr\n"
                    + "-a " + t + " -r 127.0.0.1:8081 -m -w 3 -x 100 -y 50\n"
                    + "-a " + t + " -r 127.0.0.1:8082 -m -w 1\n"
                    + "-A " + u + " -s sh -p 600 -M 255.255.255.0 --ops\n"
                    + "-a " + u + " -r 127.0.0.1:8081 -m -w 1\n", saved);
        }
        // The ports were just freed; restoring binds them again.
        try (L4Balancer b = L4Balancer.builder().ioThreads(1).build()) {
            IpvsRules.restore(b, saved);
            assertEquals(saved, IpvsRules.save(b));
            VirtualServer udp = b.services().get(1);
            assertTrue(udp.config().onePacket());
            assertEquals(24, udp.config().persistenceNetmask());
        }
    }

    @Test
    void restoreAppliesEachCommandInOrder() throws Exception {
        try (L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr").build());
            String t = IpvsTable.addrPort(vs.localAddress());
            IpvsRules.restore(lb, "# rules kept for IPVS\n"
                    + "ipvsadm -a -t " + t + " -r 127.0.0.1:8081 -m -w 2\n"
                    + "--add-server --tcp-service " + t + " --real-server 127.0.0.1:8082 --weight 5   # a comment\n"
                    + "\n"
                    + "-E -t " + t + " -s wrr -p\n"
                    + "-e -t " + t + " -r 127.0.0.1:8081 -x 10\n"
                    + "-d -t " + t + " -r 127.0.0.1:8082\n");
            assertEquals("wrr", vs.config().scheduler());
            assertEquals(IpvsRules.DEFAULT_PERSISTENCE, vs.config().persistence(), "-p without a timeout: 300 s");
            assertEquals(List.of(RealServer.builder(REAL1).weight(1).upperThreshold(10).build()), vs.realServers(),
                    "-e sets the weight anew: 1 when not given, as ipvsadm");
            IpvsRules.restore(lb, "-E -t " + t);
            assertEquals("wlc", vs.config().scheduler(), "-E without -s: wlc, as ipvsadm");
            assertTrue(vs.config().persistence().isZero(), "-E without -p: not persistent");
            IpvsRules.restore(lb, "-D -t " + t);
            assertTrue(lb.services().isEmpty());
            lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).build());
            IpvsRules.restore(lb, "-C");
            assertTrue(lb.services().isEmpty());
        }
    }

    @Test
    void aMalformedLineAnywhereAppliesNothing() throws Exception {
        try (L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).build());
            String t = IpvsTable.addrPort(vs.localAddress());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpvsRules.restore(lb,
                    "-a -t " + t + " -r 127.0.0.1:8081\n-a -t " + t + " -r 127.0.0.1:8082 -g\n"));
            assertEquals("line 2: '-g': lb-l4 has no direct routing (lb-l4 forwards as NAT, -m)", e.getMessage());
            assertTrue(vs.realServers().isEmpty(), "line 1 was not applied");
        }
    }

    @Test
    void aLineThatCannotBeAppliedStopsTheRestoreThere() throws Exception {
        try (L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).build());
            String t = IpvsTable.addrPort(vs.localAddress());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpvsRules.restore(lb,
                    "-a -t " + t + " -r 127.0.0.1:8081\n-d -t " + t + " -r 127.0.0.1:8082\n-a -t " + t
                            + " -r 127.0.0.1:8083\n"));
            assertEquals("line 2: no real server 127.0.0.1:8082 in " + t, e.getMessage());
            assertEquals(List.of(RealServer.of(REAL1)), vs.realServers(), "line 1 applied, line 3 not");
            e = assertThrows(IllegalArgumentException.class, () -> IpvsRules.restore(lb, "-E -u " + t));
            assertEquals("line 1: no UDP service " + t, e.getMessage());
        }
    }

    @Test
    void badLinesAreNamed() {
        assertBad("-A -t 127.0.0.1:80 -s nosuch", "line 1: ");
        assertBad("-A -t localhost:80", "line 1: 'localhost:80' is not a numeric address:port");
        assertBad("-A -t 127.0.0.1:0", "line 1: port of '127.0.0.1:0' must be in 1..65535");
        assertBad("-A -t 127.0.0.1:80 --ops", "line 1: one-packet scheduling (--ops) is for UDP services only");
        assertBad("-A -t 127.0.0.1:80 -p 60 -M 255.0.255.0", "line 1: -M '255.0.255.0' is not a contiguous netmask");
        assertBad("-A -t 127.0.0.1:80 -M 255.255.255.0", "line 1: -M needs -p");
        assertBad("-a -t 127.0.0.1:80 -w 1", "line 1: -a needs a real server (-r)");
        assertBad("-a -t 127.0.0.1:80 -r [::1]:80", "line 1: real server [::1]:80 is not of the");
        assertBad("-A -t 127.0.0.1:80 -r 127.0.0.1:81", "line 1: -A takes no real server options");
        assertBad("-a -t 127.0.0.1:80 -r 127.0.0.1:81 -s rr", "line 1: -a takes no service options");
        assertBad("-a -t 127.0.0.1:80 -r 127.0.0.1:81 -w x", "line 1: '-w' needs a number, got 'x'");
        assertBad("-A -f 1", "line 1: '-f': lb-l4 has no firewall-mark services");
        assertBad("-A -t 127.0.0.1:80 -b sh-port", "line 1: '-b': lb-l4 has no scheduler flags");
        assertBad("-t 127.0.0.1:80", "line 1: no command");
        assertBad("-A -a -t 127.0.0.1:80", "line 1: '-a' after another command");
        assertBad("-A -t 127.0.0.1:80 --frobnicate", "line 1: unknown option '--frobnicate'");
        assertBad("\n\n-A -t 127.0.0.1:80 -s", "line 3: '-s' needs a value");
        assertBad("-C -t 127.0.0.1:80", "line 1: -C takes no service or real server");
    }

    private static void assertBad(String rules, String messageStart) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpvsRules.parse(rules));
        assertTrue(e.getMessage().startsWith(messageStart), e.getMessage());
    }

    @Property
    void everyIpv4PrefixRoundTripsThroughItsNetmask(@ForAll @IntRange(min = 0, max = 32) int prefix) {
        assertEquals(prefix, IpvsRules.prefix(IpvsTable.netmask(prefix), true));
    }

    /** Whatever a service's scheduling options and real servers, the saved lines parse back to them. */
    @Property
    void savedLinesParseBackToTheSameSettings(@ForAll("services") VirtualService service) {
        String name = IpvsRules.serviceName(service.protocol(), service.address());
        List<IpvsRules.Rule> rules = IpvsRules.parse(IpvsRules.serviceLine(name, service.address(), service) + "\n"
                + String.join("\n", service.realServers().stream().map(rs -> IpvsRules.realServerLine(name, rs)).toList()));
        VirtualService back = rules.get(0).config(VirtualService.builder(service.protocol(), service.address()));
        assertEquals(service.scheduler(), back.scheduler());
        assertEquals(service.persistence(), back.persistence());
        assertEquals(service.persistence().isZero() ? 32 : service.persistenceNetmask(), back.persistenceNetmask());
        assertEquals(service.onePacket(), back.onePacket());
        assertEquals(service.realServers(), rules.stream().skip(1).map(IpvsRules.Rule::realServer).toList());
        assertFalse(rules.stream().skip(1).anyMatch(r -> r.command != 'a'));
    }

    @Provide
    Arbitrary<VirtualService> services() {
        Arbitrary<Boolean> udp = Arbitraries.of(true, false);
        Arbitrary<Integer> port = Arbitraries.integers().between(1, 65535);
        Arbitrary<String> scheduler = Arbitraries.of("rr", "wrr", "wlc", "lc", "sh", "dh", "sed", "nq", "fo", "mh");
        Arbitrary<Integer> persistence = Arbitraries.of(0, 1, 300, 86400);
        Arbitrary<Integer> mask = Arbitraries.integers().between(0, 32);
        Arbitrary<List<RealServer>> reals = Combinators.combine(Arbitraries.integers().between(1, 65535),
                Arbitraries.integers().between(0, 256), Arbitraries.integers().between(0, 1000),
                Arbitraries.integers().between(0, 1000))
                .as((p, w, x, y) -> RealServer.builder(new InetSocketAddress("127.0.0.2", p)).weight(w)
                        .upperThreshold(x).lowerThreshold(x == 0 ? 0 : y % (x + 1)).build())
                .list().ofMaxSize(4).uniqueElements(RealServer::address);
        return Combinators.combine(udp, port, scheduler, persistence, mask, reals).as((u, p, s, pers, m, rs) -> {
            VirtualService.Builder b = VirtualService.builder(u ? Protocol.UDP : Protocol.TCP,
                    new InetSocketAddress("127.0.0.1", p)).scheduler(s).persistence(Duration.ofSeconds(pers))
                    .persistenceNetmask(m).onePacket(u && p % 2 == 0);
            rs.forEach(b::realServer);
            return b.build();
        });
    }
}
