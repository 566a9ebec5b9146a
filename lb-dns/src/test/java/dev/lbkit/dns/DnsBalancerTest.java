package dev.lbkit.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.transport.TransportType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

class DnsBalancerTest {
    static final String SEED = "my-awesome-highload-app.local";
    private DnsBalancer dns;

    static InetSocketAddress loopback0() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    static UpstreamPool seedPool() {
        return UpstreamPool.builder().name("app").add("127.0.0.1", 8081).add("127.0.0.2", 8081).build();
    }

    @AfterEach
    void stop() {
        if (dns != null) {
            dns.close();
        }
    }

    @Test
    void aListenAddressInUseFailsStartNamingTheReasonAndLeavesNoEventLoop() throws Exception {
        for (boolean nativeTransport : new boolean[] {true, false}) {
            try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                long before = dev.lbkit.testing.Threads.named("lb-dns");
                DnsBalancer.Builder b = DnsBalancer.builder().nativeTransport(nativeTransport).ioThreads(1)
                        .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), busy.getLocalPort()))
                        .name(SEED, seedPool());
                IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                        b::start);
                assertTrue(e.getMessage().startsWith("cannot start DNS server on ")
                        && e.getMessage().contains("Address already in use"), e.getMessage());
                dev.lbkit.testing.Await.until(() -> dev.lbkit.testing.Threads.named("lb-dns") <= before);
            }
        }
    }

    @Test
    void answersTheSeedNameWithBothAddressesTtlZeroAndDnsmasqFlags() throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).name(SEED, seedPool()).ioThreads(1).start();
        for (Dig dig : List.of(Dig.udp(dns), Dig.tcp(dns))) {
            Message m = dig.a(SEED);
            assertEquals(Rcode.NOERROR, m.getRcode());
            assertEquals("qr aa rd", Dig.flags(m));
            assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(m)));
            for (Record r : m.getSection(Section.ANSWER)) {
                assertEquals(0, r.getTTL());
                assertEquals(Type.A, r.getType());
            }
        }
    }

    @Test
    void worksOnNioAndOnIpv6Loopback() throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).name(SEED, seedPool()).ioThreads(2).nativeTransport(false).start();
        assertEquals(false, dns.isNativeTransport());
        for (Dig dig : List.of(Dig.udp(dns), Dig.tcp(dns))) {
            assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(dig.a(SEED))));
        }
        dns.close();
        try {
            dns = DnsBalancer.builder().listen(new InetSocketAddress(InetAddress.getByName("::1"), 0)).name(SEED, seedPool())
                    .ioThreads(2).start();
        } catch (IllegalStateException e) {
            org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback: " + e);
        }
        for (Dig dig : List.of(Dig.udp(dns), Dig.tcp(dns))) {
            assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(dig.a(SEED))));
        }
    }

    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void answersOverUdpAndTcpOnEveryTransport(TransportType transport) throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).name(SEED, seedPool()).ioThreads(1).transport(transport).start();
        assertEquals(transport.name().toLowerCase(java.util.Locale.ROOT), dns.transport());
        for (Dig dig : List.of(Dig.udp(dns), Dig.tcp(dns))) {
            for (int i = 0; i < 3; i++) {
                Message m = dig.a(SEED);
                assertEquals("qr aa rd", Dig.flags(m));
                assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(m)));
            }
        }
    }

    @Test
    void rdIsCopiedNotSet() throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).name(SEED, seedPool()).ioThreads(1).start();
        byte[] q = Packets.query(SEED, Type.A, 0);
        q[2] = 0;
        byte[] a = Packets.udp(dns.localAddress(), q, 2000);
        assertEquals(0x8400, Packets.flags(a), "qr aa, no rd");
    }

    @Test
    void rotatesTheOrderWithEveryQuery() throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).name(SEED, seedPool()).ioThreads(1).start();
        Dig dig = Dig.udp(dns);
        List<String> first = Dig.addresses(dig.a(SEED));
        List<String> second = Dig.addresses(dig.a(SEED));
        List<String> third = Dig.addresses(dig.a(SEED));
        assertNotEquals(first, second);
        assertEquals(first, third);
        assertEquals(first.get(0), second.get(1));
    }

    /** A dual-stack client asks A and AAAA for every lookup; each family must still rotate by one per query. */
    @Test
    void eachFamilyRotatesOnItsOwnWhenAAndAaaaQueriesAlternate() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", 80).add("127.0.0.2", 80).add("::1", 80)
                .add("::2", 80).build();
        dns = DnsBalancer.builder().listen(loopback0()).name("dual.local", pool).ioThreads(1).start();
        Dig dig = Dig.udp(dns);
        List<String> firstA = Dig.addresses(dig.a("dual.local"));
        List<String> firstAaaa = Dig.addresses(dig.query("dual.local", Type.AAAA));
        List<String> secondA = Dig.addresses(dig.a("dual.local"));
        List<String> secondAaaa = Dig.addresses(dig.query("dual.local", Type.AAAA));
        assertEquals(firstA.get(0), secondA.get(1));
        assertEquals(firstAaaa.get(0), secondAaaa.get(1));
    }

    @Test
    void honoursTtlAndKOfN() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", 80).add("127.0.0.2", 80).add("127.0.0.3", 80).build();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .name(ServedName.builder("k.local", pool).ttl(Duration.ofSeconds(30)).maxAnswers(1).build()).start();
        Dig dig = Dig.udp(dns);
        Set<String> seen = new TreeSet<>();
        for (int i = 0; i < 3; i++) {
            Message m = dig.a("k.local");
            assertEquals(1, m.getSection(Section.ANSWER).size());
            assertEquals(30, m.getSection(Section.ANSWER).get(0).getTTL());
            seen.addAll(Dig.addresses(m));
        }
        assertEquals(Set.of("127.0.0.1", "127.0.0.2", "127.0.0.3"), seen);
    }

    @Test
    void answersAaaaFromIpv6UpstreamsOnly() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", 80).add("::1", 80).build();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("v6.local", pool).start();
        Dig dig = Dig.udp(dns);
        assertEquals(List.of("127.0.0.1"), Dig.addresses(dig.a("v6.local")));
        assertEquals(List.of("0:0:0:0:0:0:0:1"), Dig.addresses(dig.query("v6.local", Type.AAAA)));
    }

    @Test
    void nxdomainBelowAServedNameAndNodataWithSoaForOtherTypes() throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, seedPool()).start();
        Dig dig = Dig.udp(dns);
        Message nx = dig.a("www." + SEED);
        assertEquals(Rcode.NXDOMAIN, nx.getRcode());
        assertTrue(nx.getHeader().getFlag(org.xbill.DNS.Flags.AA));
        assertEquals(Type.SOA, nx.getSection(Section.AUTHORITY).get(0).getType());
        Message nodata = dig.query(SEED, Type.MX);
        assertEquals(Rcode.NOERROR, nodata.getRcode());
        assertEquals(0, nodata.getSection(Section.ANSWER).size());
        SOARecord soa = (SOARecord) nodata.getSection(Section.AUTHORITY).get(0);
        assertEquals(SEED + ".", soa.getName().toString());
        assertEquals(0, soa.getMinimum());
    }

    @Test
    void subdomainsMatchWhenConfigured() throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .name(ServedName.builder(SEED, seedPool()).subdomains(true).build()).start();
        Message m = Dig.udp(dns).a("a.b." + SEED.toUpperCase());
        assertEquals(Rcode.NOERROR, m.getRcode());
        assertEquals(2, m.getSection(Section.ANSWER).size());
        assertEquals("a.b." + SEED.toUpperCase() + ".", m.getQuestion().getName().toString(), "case kept");
    }

    /** The SOA of a zone is the apex's; a name below it, answered by {@code subdomains}, has none (NODATA). */
    @Test
    void soaBelowAServedNameWithSubdomainsIsNodataWithTheSoaInAuthority() throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .name(ServedName.builder(SEED, seedPool()).subdomains(true).build()).start();
        Message m = Dig.udp(dns).query("www." + SEED, Type.SOA);
        assertEquals(Rcode.NOERROR, m.getRcode());
        assertEquals(0, m.getSection(Section.ANSWER).size(), m.toString());
        assertEquals(SEED + ".", m.getSection(Section.AUTHORITY).get(0).getName().toString());
        assertEquals(Type.SOA, Dig.udp(dns).query(SEED, Type.SOA).getSection(Section.ANSWER).get(0).getType());
    }

    /**
     * A dot inside a label is part of the label: {@code x\.my-awesome-highload-app.local} is a child of
     * {@code local} with the label "x.my-awesome-highload-app", neither the served name's subdomain nor in
     * its zone; a name below the served name whose first label holds a dot is one.
     */
    @Test
    void aDotInsideALabelDoesNotSplitIt() throws Exception {
        UpstreamPool other = UpstreamPool.builder().add("127.0.0.3", 80).build();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .name(ServedName.builder(SEED, seedPool()).subdomains(true).build())
                .name("exact.local", other).start();
        Dig dig = Dig.udp(dns);
        assertEquals(Rcode.REFUSED, dig.a("x\\." + SEED).getRcode(), "not below the served name");
        assertEquals(Rcode.REFUSED, dig.a("x\\.exact.local").getRcode(), "not in exact.local's zone");
        assertEquals(Rcode.REFUSED, dig.query("_x._y\\.exact.local", Type.SRV).getRcode(), "not an SRV name");
        Message below = dig.a("a\\.b." + SEED);
        assertEquals(2, below.getSection(Section.ANSWER).size(), "a label with a dot below the served name");
    }

    @Test
    void explicitZoneGivesNxdomainForUnknownNamesAndNodataForEmptyNonTerminals() throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).zone("svc.local")
                .name("web.eu.svc.local", seedPool()).start();
        Dig dig = Dig.udp(dns);
        assertEquals(2, dig.a("web.eu.svc.local").getSection(Section.ANSWER).size());
        assertEquals(Rcode.NXDOMAIN, dig.a("db.svc.local").getRcode());
        Message ent = dig.a("eu.svc.local");
        assertEquals(Rcode.NOERROR, ent.getRcode());
        assertEquals(0, ent.getSection(Section.ANSWER).size());
        Message soa = dig.query("svc.local", Type.SOA);
        assertEquals(Type.SOA, soa.getSection(Section.ANSWER).get(0).getType());
    }

    @Test
    void refusesOtherNamesWhenForwardingIsOff() throws Exception {
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, seedPool()).start();
        Message m = Dig.udp(dns).a("example.org");
        assertEquals(Rcode.REFUSED, m.getRcode());
        assertEquals("qr rd", Dig.flags(m));
    }

    @Test
    void anyGetsOneRrset() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", 80).add("::1", 80).build();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("any.local", pool).start();
        Message m = Dig.udp(dns).query("any.local", Type.ANY);
        assertEquals(1, m.getSection(Section.ANSWER).size());
        assertEquals(Type.A, m.getSection(Section.ANSWER).get(0).getType());
    }

    @Test
    void srvListsEveryUpstreamWithItsPortAndTargetsResolve() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", 8081)
                .add(Upstream.builder("127.0.0.2", 8082).weight(5).backup(true).build()).build();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("api.local", pool).start();
        Dig dig = Dig.udp(dns);
        for (String q : List.of("api.local", "_http._tcp.api.local")) {
            Message m = dig.query(q, Type.SRV);
            assertEquals(Rcode.NOERROR, m.getRcode(), q);
            // The backup is left out while the primary is available, as in A answers.
            List<Record> srv = m.getSection(Section.ANSWER);
            assertEquals(1, srv.size());
            SRVRecord r = (SRVRecord) srv.get(0);
            assertEquals(8081, r.getPort());
            assertEquals(0, r.getPriority());
            assertEquals("7f000001.addr.api.local.", r.getTarget().toString());
            assertEquals("127.0.0.1", m.getSection(Section.ADDITIONAL).stream().filter(x -> x.getType() == Type.A)
                    .findFirst().orElseThrow().rdataToString());
            assertEquals(List.of("127.0.0.1"), Dig.addresses(dig.a(r.getTarget().toString())));
        }
        pool.markDown("127.0.0.1:8081", true);
        SRVRecord backup = (SRVRecord) dig.query("api.local", Type.SRV).getSection(Section.ANSWER).get(0);
        assertEquals(8082, backup.getPort());
        assertEquals(1, backup.getPriority());
        assertEquals(5, backup.getWeight());
    }

    /** RFC 1034 section 4.3.2, RFC 8020: a name that exists with another type, or has names below it, is NODATA. */
    @Test
    void theSrvNamesTheServerMakesUpAreNodataForOtherTypes() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", 8081).build();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("api.local", pool).start();
        Dig dig = Dig.udp(dns);
        assertEquals(List.of("127.0.0.1"), Dig.addresses(dig.a("7f000001.addr.api.local")));
        assertEquals(1, dig.query("_http._tcp.api.local", Type.SRV).getSection(Section.ANSWER).size());
        for (String name : List.of("7f000001.addr.api.local", "addr.api.local", "_http._tcp.api.local", "_tcp.api.local")) {
            for (int type : new int[] {Type.A, Type.AAAA, Type.TXT}) {
                if (name.startsWith("7f") && type == Type.A) {
                    continue;
                }
                Message m = dig.query(name, type);
                assertEquals(Rcode.NOERROR, m.getRcode(), name + " " + Type.string(type));
                assertEquals(0, m.getSection(Section.ANSWER).size(), name + " " + Type.string(type));
                assertEquals(Type.SOA, m.getSection(Section.AUTHORITY).get(0).getType());
            }
        }
        // Only members' addresses are targets, and nothing is below a target or an SRV owner.
        for (String name : List.of("7f000009.addr.api.local", "x.7f000001.addr.api.local", "x._http._tcp.api.local")) {
            assertEquals(Rcode.NXDOMAIN, dig.query(name, Type.AAAA).getRcode(), name);
        }
    }
}
