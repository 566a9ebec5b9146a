package dev.lbkit.dns;

import static dev.lbkit.dns.DnsBalancerTest.SEED;
import static dev.lbkit.dns.DnsBalancerTest.loopback0;
import static dev.lbkit.dns.DnsBalancerTest.seedPool;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.dns.internal.Wire;
import dev.lbkit.testing.FakeTicker;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.GenericEDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;

class ForwardingTest {
    private final List<AutoCloseable> closeables = new java.util.ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T keep(T c) {
        closeables.add(c);
        return c;
    }

    /** A second lbkit DNS server acting as the upstream resolver: other.local → 127.0.0.9 with TTL 60. */
    private DnsBalancer upstreamServer() {
        UpstreamPool other = UpstreamPool.builder().add("127.0.0.9", 80).build();
        return keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .name(ServedName.builder("other.local", other).ttl(Duration.ofSeconds(60)).build())
                .zone("zone.local").negativeTtl(Duration.ofSeconds(30)).start());
    }

    private DatagramSocket silentResolver() throws Exception {
        return keep(new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
    }

    private static InetSocketAddress addressOf(DatagramSocket s) {
        return (InetSocketAddress) s.getLocalSocketAddress();
    }

    /** A {@link FakeDnsServer} that answers each query with the query itself made a response, then {@code patch}ed. */
    private InetSocketAddress echoingResolver(Consumer<byte[]> patch) throws Exception {
        return keep(FakeDnsServer.raw(r -> {
            r[2] |= (byte) 0x80;
            r[3] |= (byte) 0x80;
            patch.accept(r);
            return r;
        })).address();
    }

    /** RA is set; AA is clear though the upstream is authoritative: a forwarder is not (RFC 1035 section 4.1.1). */
    @Test
    void forwardsOtherNamesToTheUpstreamResolverWithRaSetAndAaClear() throws Exception {
        DnsBalancer upstream = upstreamServer();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, seedPool())
                .forwarder(upstream.localAddress()).start());
        for (Dig dig : List.of(Dig.udp(dns), Dig.tcp(dns))) {
            Message served = dig.a(SEED);
            assertEquals("qr aa rd ra", Dig.flags(served));
            Message m = dig.a("Other.Local");
            assertEquals(Rcode.NOERROR, m.getRcode());
            assertEquals(List.of("127.0.0.9"), Dig.addresses(m));
            assertEquals("qr rd ra", Dig.flags(m));
            assertEquals("Other.Local.", m.getQuestion().getName().toString());
        }
        assertEquals(2, dns.stats().count("(forwarded)", "NOERROR"));
    }

    @Test
    void remapsTheQueryId() throws Exception {
        DatagramSocket fake = keep(new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
        CompletableFuture<Integer> seenId = CompletableFuture.supplyAsync(() -> {
            try {
                byte[] buf = new byte[512];
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                fake.receive(p);
                Message q = new Message(java.util.Arrays.copyOf(buf, p.getLength()));
                Message r = new Message(q.getHeader().getID());
                r.getHeader().setFlag(Flags.QR);
                r.addRecord(q.getQuestion(), Section.QUESTION);
                r.addRecord(new ARecord(q.getQuestion().getName(), DClass.IN, 5, InetAddress.getByName("127.0.0.7")),
                        Section.ANSWER);
                byte[] out = r.toWire();
                fake.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                return q.getHeader().getID();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).forwarder(addressOf(fake)).start());
        Message query = Message.newQuery(org.xbill.DNS.Record.newRecord(org.xbill.DNS.Name.fromString("x.test."),
                org.xbill.DNS.Type.A, DClass.IN));
        int clientId = query.getHeader().getID();
        org.xbill.DNS.SimpleResolver r = new org.xbill.DNS.SimpleResolver(dns.localAddress());
        r.setTimeout(Duration.ofSeconds(3));
        Message m = r.send(query);
        assertEquals(List.of("127.0.0.7"), Dig.addresses(m));
        assertEquals(clientId, m.getHeader().getID());
        int upstreamId = seenId.get(3, TimeUnit.SECONDS);
        // One in 65536 runs would see the same ID by chance; the check is that it is not simply copied.
        if (upstreamId == clientId) {
            Message again = r.send(Message.newQuery(query.getQuestion()));
            assertEquals(List.of("127.0.0.7"), Dig.addresses(again));
        } else {
            assertNotEquals(clientId, upstreamId);
        }
    }

    /** A {@link FakeDnsServer} that answers every A query with 127.0.0.7. */
    private FakeDnsServer answering127007() throws Exception {
        InetAddress a = InetAddress.getByName("127.0.0.7");
        return keep(FakeDnsServer.messages((q, r) ->
                r.addRecord(new ARecord(q.getQuestion().getName(), DClass.IN, 5, a), Section.ANSWER)));
    }

    /** The rcode a client gets for {@code query} forwarded to an {@link #echoingResolver} that applies {@code patch}. */
    private int rcodeThroughEchoingResolver(Consumer<byte[]> patch, byte[] query) throws Exception {
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).cacheSize(0)
                .forwarder(echoingResolver(patch)).forwardTimeout(Duration.ofMillis(300)).start());
        return Packets.rcode(Packets.udp(dns.localAddress(), query, 3000));
    }

    /** RFC 5452 section 9.1: the answer's question must be the query's, the name's ASCII letter case aside. */
    @Test
    void anAnswerToAnotherQuestionIsIgnored() throws Exception {
        byte[] x = Packets.query("x.test", 1, 0);
        assertEquals(Rcode.NOERROR, rcodeThroughEchoingResolver(r -> r[13] ^= 0x20, x), "x answered as X");
        assertEquals(Rcode.SERVFAIL, rcodeThroughEchoingResolver(r -> r[13] ^= 0x01, x), "x answered as y");
        byte[] latin1 = x.clone();
        latin1[13] = (byte) 0xC0;
        assertEquals(Rcode.SERVFAIL, rcodeThroughEchoingResolver(r -> r[13] ^= 0x20, latin1), "\u00C0 answered as \u00E0");
        assertEquals(Rcode.SERVFAIL, rcodeThroughEchoingResolver(r -> r[r.length - 3] = 0x61,
                Packets.query("x.test", 65, 0)), "QTYPE 65 answered as 97");
        assertEquals(Rcode.SERVFAIL, rcodeThroughEchoingResolver(r -> r[r.length - 1] = 3, x), "QCLASS IN answered as CH");
    }

    @Test
    void sendsFromARandomOneOfSeveralSourcePorts() throws Exception {
        FakeDnsServer resolver = answering127007();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).cacheSize(0)
                .forwarder(resolver.address()).start());
        for (int i = 0; i < 16; i++) {
            assertEquals(List.of("127.0.0.7"), Dig.addresses(Dig.udp(dns).a("n" + i + ".test")));
        }
        // 8 sockets by default: 16 queries all leaving from one would happen once in 8^15 runs.
        java.util.Set<Integer> ports = resolver.sourcePorts();
        assertTrue(ports.size() > 1 && ports.size() <= 8, "source ports " + ports);

        FakeDnsServer one = answering127007();
        DnsBalancer single = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).cacheSize(0).forwarderSockets(1)
                .forwarder(one.address()).start());
        for (int i = 0; i < 4; i++) {
            assertEquals(List.of("127.0.0.7"), Dig.addresses(Dig.udp(single).a("n" + i + ".test")));
        }
        assertEquals(1, one.sourcePorts().size());
    }

    @Test
    void triesTheNextResolverAfterTheTimeout() throws Exception {
        DnsBalancer upstream = upstreamServer();
        DatagramSocket silent = silentResolver();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .forwarder(addressOf(silent)).forwarder(upstream.localAddress())
                .forwardTimeout(Duration.ofMillis(300)).start());
        long t0 = System.nanoTime();
        Message m = Dig.udp(dns).a("other.local");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(List.of("127.0.0.9"), Dig.addresses(m));
        assertTrue(ms >= 280 && ms < 2500, "took " + ms + " ms");
        assertEquals(1, dns.stats().forwardTimeouts());
    }

    @Test
    void servfailWhenEveryResolverFails() throws Exception {
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .forwarder(addressOf(silentResolver())).forwarder(addressOf(silentResolver()))
                .forwardTimeout(Duration.ofMillis(200)).start());
        long t0 = System.nanoTime();
        Message m = Dig.udp(dns).a("example.test");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(Rcode.SERVFAIL, m.getRcode());
        assertEquals("qr rd ra", Dig.flags(m));
        assertTrue(ms >= 380 && ms < 2500, "took " + ms + " ms");
        assertEquals(2, dns.stats().forwardTimeouts());
        // RFC 3225 section 3: the DO bit is copied into the OPT of the SERVFAIL too.
        Message withDo = Dig.udp(dns).edns(1232, ExtendedFlags.DO).a("example.test");
        assertEquals(Rcode.SERVFAIL, withDo.getRcode());
        assertEquals(ExtendedFlags.DO, withDo.getOPT().getFlags() & ExtendedFlags.DO);
    }

    @Test
    void cachesAnswersForTheirTtlAndAgesThem() throws Exception {
        DnsBalancer upstream = upstreamServer();
        FakeTicker ticker = new FakeTicker();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).ticker(ticker)
                .forwarder(upstream.localAddress()).start());
        Dig dig = Dig.udp(dns);
        assertEquals(60, dig.a("other.local").getSection(Section.ANSWER).get(0).getTTL());
        ticker.advance(Duration.ofSeconds(20));
        Message cached = dig.a("other.local");
        assertEquals(40, cached.getSection(Section.ANSWER).get(0).getTTL());
        assertEquals(1, upstream.stats().count("other.local", "NOERROR"));
        assertEquals(1, dns.stats().cacheHits());
        ticker.advance(Duration.ofSeconds(41));
        assertEquals(60, dig.a("other.local").getSection(Section.ANSWER).get(0).getTTL());
        assertEquals(2, upstream.stats().count("other.local", "NOERROR"));
    }

    /** RFC 1035 section 4.1.1: an answer from the cache has the header of an answer to this query. */
    @Test
    void aCachedAnswerTakesRdAndCdFromTheQueryAndHasNoAa() throws Exception {
        DnsBalancer upstream = upstreamServer();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).forwarder(upstream.localAddress())
                .start());
        byte[] first = Packets.udp(dns.localAddress(), Packets.query("other.local", 1, 0), 2000);
        assertEquals(Wire.FLAG_RD, Packets.flags(first) & (Wire.FLAG_RD | Wire.FLAG_CD | Wire.FLAG_AA));
        byte[] q = Packets.query("other.local", 1, 0);
        q[2] &= (byte) ~0x01; // RD clear
        q[3] |= (byte) 0x10; // CD set
        byte[] cached = Packets.udp(dns.localAddress(), q, 2000);
        assertEquals(1, dns.stats().cacheHits());
        assertEquals(Wire.FLAG_CD, Packets.flags(cached) & (Wire.FLAG_RD | Wire.FLAG_CD | Wire.FLAG_AA));
        assertEquals(Wire.FLAG_QR | Wire.FLAG_RA, Packets.flags(cached) & (Wire.FLAG_QR | Wire.FLAG_RA));
        assertEquals(1, Packets.count(cached, 1));
    }

    @Test
    void cachesNegativeAnswersForTheSoaMinimum() throws Exception {
        DnsBalancer upstream = upstreamServer();
        FakeTicker ticker = new FakeTicker();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).ticker(ticker)
                .forwarder(upstream.localAddress()).start());
        Dig dig = Dig.udp(dns);
        assertEquals(Rcode.NXDOMAIN, dig.a("nope.zone.local").getRcode());
        assertEquals(Rcode.NXDOMAIN, dig.a("nope.zone.local").getRcode());
        assertEquals(1, upstream.stats().count("zone.local", "NXDOMAIN"));
        ticker.advance(Duration.ofSeconds(31));
        assertEquals(Rcode.NXDOMAIN, dig.a("nope.zone.local").getRcode());
        assertEquals(2, upstream.stats().count("zone.local", "NXDOMAIN"));
    }

    /** RFC 2308 section 5: NODATA after a CNAME is negative too, kept for min(SOA TTL, SOA minimum). */
    @Test
    void nodataAfterACnameIsCachedForTheSoaMinimum() throws Exception {
        FakeDnsServer resolver = keep(FakeDnsServer.messages((q, r) -> {
            try {
                r.addRecord(new CNAMERecord(q.getQuestion().getName(), DClass.IN, 300, Name.fromString("target.test.")),
                        Section.ANSWER);
                r.addRecord(new SOARecord(Name.fromString("test."), DClass.IN, 3600, Name.fromString("ns.test."),
                        Name.fromString("h.test."), 1, 3600, 600, 86400, 30), Section.AUTHORITY);
            } catch (TextParseException e) {
                throw new IllegalStateException(e);
            }
        }));
        FakeTicker ticker = new FakeTicker();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).ticker(ticker)
                .forwarder(resolver.address()).start());
        Dig dig = Dig.udp(dns);
        Message m = dig.query("alias.test", org.xbill.DNS.Type.AAAA);
        assertEquals(Rcode.NOERROR, m.getRcode());
        assertEquals(org.xbill.DNS.Type.CNAME, m.getSection(Section.ANSWER).get(0).getType());
        ticker.advance(Duration.ofSeconds(29));
        dig.query("alias.test", org.xbill.DNS.Type.AAAA);
        assertEquals(1, resolver.queries());
        ticker.advance(Duration.ofSeconds(2));
        dig.query("alias.test", org.xbill.DNS.Type.AAAA);
        assertEquals(2, resolver.queries(), "expired after the SOA minimum (30 s), not the SOA TTL (3600 s)");
    }

    /** RFC 2181 section 8: a TTL with the top bit set is treated as zero, so such an answer is not cached. */
    @Test
    void aTtlWithTheTopBitSetIsNotCached() throws Exception {
        FakeDnsServer resolver = keep(FakeDnsServer.raw(wire -> {
            byte[] r;
            try {
                Message q = new Message(wire);
                Message m = new Message(q.getHeader().getID());
                m.getHeader().setFlag(Flags.QR);
                m.addRecord(q.getQuestion(), Section.QUESTION);
                m.addRecord(new ARecord(q.getQuestion().getName(), DClass.IN, 60, InetAddress.getByName("127.0.0.7")),
                        Section.ANSWER);
                r = m.toWire();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            r[r.length - 10] = (byte) 0x80; // the A record's TTL is 0x8000003C
            return r;
        }));
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).forwarder(resolver.address()).start());
        for (int i = 0; i < 2; i++) {
            byte[] a = Packets.udp(dns.localAddress(), Packets.query("big-ttl.test", 1, 0), 2000);
            assertEquals(1, Packets.count(a, 1));
        }
        assertEquals(2, resolver.queries());
        assertEquals(0, dns.stats().cacheHits());
    }

    @Test
    void cacheSizeBoundsTheEntries() throws Exception {
        DnsBalancer upstream = upstreamServer();
        UpstreamPool p = UpstreamPool.builder().add("127.0.0.8", 80).build();
        DnsBalancer up2 = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .name(ServedName.builder("a.local", p).ttl(Duration.ofSeconds(60)).build())
                .name(ServedName.builder("b.local", p).ttl(Duration.ofSeconds(60)).build()).start());
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).cacheSize(1)
                .forwarder(up2.localAddress()).start());
        Dig dig = Dig.udp(dns);
        dig.a("a.local");
        dig.a("a.local");
        dig.a("b.local");
        dig.a("a.local");
        assertEquals(2, up2.stats().count("a.local", "NOERROR"), "a was evicted by b");
        assertEquals(1, dns.stats().cacheHits());
        upstream.close();
    }

    @Test
    void maxCacheTtlCapsHowLongAnAnswerIsKept() throws Exception {
        DnsBalancer upstream = upstreamServer();
        FakeTicker ticker = new FakeTicker();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).ticker(ticker)
                .maxCacheTtl(Duration.ofSeconds(10)).forwarder(upstream.localAddress()).start());
        Dig dig = Dig.udp(dns);
        dig.a("other.local");
        ticker.advance(Duration.ofSeconds(9));
        dig.a("other.local");
        assertEquals(1, upstream.stats().count("other.local", "NOERROR"));
        ticker.advance(Duration.ofSeconds(2));
        dig.a("other.local");
        assertEquals(2, upstream.stats().count("other.local", "NOERROR"), "the 60 s TTL was capped at 10 s");
    }

    @Test
    void cacheSizeZeroTurnsTheCacheOff() throws Exception {
        DnsBalancer upstream = upstreamServer();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).cacheSize(0)
                .forwarder(upstream.localAddress()).start());
        Dig dig = Dig.udp(dns);
        dig.a("other.local");
        dig.a("other.local");
        assertEquals(2, upstream.stats().count("other.local", "NOERROR"));
        assertEquals(0, dns.stats().cacheHits());
    }

    @Test
    void maxPendingForwardsAnswersServfailAtOnceBeyondTheLimit() throws Exception {
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .forwarder(addressOf(silentResolver())).forwardTimeout(Duration.ofSeconds(2)).maxPendingForwards(1)
                .start());
        CompletableFuture<Message> first = CompletableFuture.supplyAsync(() -> {
            try {
                return Dig.udp(dns).a("one.test");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (dns.stats().cacheMisses() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        long t0 = System.nanoTime();
        Message second = Dig.udp(dns).a("two.test");
        assertEquals(Rcode.SERVFAIL, second.getRcode());
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(1500), "answered before the timeout");
        assertEquals(1, dns.stats().forwardOverflows());
        assertEquals(Rcode.SERVFAIL, first.get(5, TimeUnit.SECONDS).getRcode());
    }

    @Test
    void aTruncatedAnswerIsFetchedOverTcpForTcpClientsAndPassedOnToUdpClients() throws Exception {
        DnsBalancer upstream = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .name(ServedName.builder("big.local", BadInputTest.bigPool(120)).ttl(Duration.ofSeconds(60)).build())
                .start());
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).cacheSize(0)
                .forwarder(upstream.localAddress()).start());
        try (java.net.Socket s = new java.net.Socket(dns.localAddress().getAddress(), dns.localAddress().getPort())) {
            s.setSoTimeout(3000);
            Packets.writeFramed(s, Packets.query("big.local", 1, 0));
            byte[] a = Packets.readFramed(s);
            assertEquals(0, Packets.flags(a) & 0x0200, "not truncated");
            assertEquals(120, Packets.count(a, 1));
        }
        assertEquals(1, upstream.stats().tcpQueries());
        byte[] udp = Packets.udp(dns.localAddress(), Packets.query("big.local", 1, 0), 2000);
        assertTrue((Packets.flags(udp) & 0x0200) != 0, "TC passed on to the UDP client");
        assertTrue(udp.length <= 512);
        // dnsjava then asks again over TCP, as a stub resolver should.
        assertEquals(120, Dig.udp(dns).noEdns().a("big.local").getSection(Section.ANSWER).size());
    }

    /**
     * The query goes on advertising {@code maxUdpPayload} (4096 here), so the resolver may answer over UDP with
     * anything up to it: the forwarder must take such a datagram whole, not cut at a default receive buffer.
     */
    @Test
    void aForwardedUdpAnswerLargerThan2048BytesArrivesWhole() throws Exception {
        DnsBalancer upstream = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).maxUdpPayload(4096)
                .name(ServedName.builder("big.local", BadInputTest.bigPool(200)).ttl(Duration.ofSeconds(60)).build())
                .start());
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).maxUdpPayload(4096)
                .forwarder(upstream.localAddress()).start());
        Message m = Dig.tcp(dns).edns(4096).a("big.local");
        assertEquals(Rcode.NOERROR, m.getRcode());
        assertEquals(200, m.getSection(Section.ANSWER).size());
        assertEquals(0, upstream.stats().tcpQueries(), "one UDP answer of about 3.2 kB, no TC");
        assertEquals(200, Dig.tcp(dns).edns(4096).a("big.local").getSection(Section.ANSWER).size(), "from the cache");
    }

    /**
     * A resolver that ignores the size it was told and sends more than {@code maxUdpPayload}: the read cuts
     * its answer, which must not reach a client cut (malformed) or the cache: a TCP client's is fetched again
     * over TCP, a UDP client gets TC, no records.
     */
    @Test
    void anAnswerLargerThanTheSizeAdvertisedIsNeverPassedOnCut() throws Exception {
        java.util.function.BiConsumer<Message, Message> hundred = (q, r) -> {
            for (int i = 0; i < 100; i++) {
                try {
                    r.addRecord(new ARecord(q.getQuestion().getName(), DClass.IN, 60,
                            InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) i})), Section.ANSWER);
                } catch (java.net.UnknownHostException e) {
                    throw new AssertionError(e);
                }
            }
        };
        FakeDnsServer resolver = keep(FakeDnsServer.messages(hundred, true));
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).maxUdpPayload(1232)
                .forwarder(resolver.address()).start());
        for (int round = 0; round < 2; round++) {
            // Raw: dnsjava's resolver would ask again over TCP on TC, which this resolver does not serve.
            byte[] answer = Packets.udp(dns.localAddress(), Packets.query("big.test", 1, 4096), 3000);
            Message m = new Message(answer);
            assertEquals(Rcode.NOERROR, m.getRcode(), "round " + round);
            assertTrue(m.getHeader().getFlag(Flags.TC), "TC, round " + round);
            assertEquals(0, m.getSection(Section.ANSWER).size());
        }
        assertEquals(0, dns.stats().cacheHits(), "a cut answer is not cached");
        // The same resolver over TCP, for the retry a TCP client's query makes: it answers one query whole.
        java.net.ServerSocket tcp = resolver.tcp();
        Thread server = new Thread(() -> {
            try (java.net.Socket c = tcp.accept()) {
                Message q = new Message(Packets.readFramed(c));
                Message r = new Message(q.getHeader().getID());
                r.getHeader().setFlag(Flags.QR);
                r.addRecord(q.getQuestion(), Section.QUESTION);
                hundred.accept(q, r);
                Packets.writeFramed(c, r.toWire());
            } catch (java.io.IOException e) {
                // The test's assertions tell.
            }
        });
        server.start();
        Message whole = Dig.tcp(dns).edns(4096).a("big.test");
        assertEquals(100, whole.getSection(Section.ANSWER).size(), "a TCP client's answer, fetched again over TCP");
        server.join(5000);
    }

    /** An answer's OPT tells the size its sender takes: the client gets ours, not the resolver's. */
    @Test
    void aForwardedAnswersOptAdvertisesMaxUdpPayloadNotTheResolversSize() throws Exception {
        InetAddress a = InetAddress.getByName("127.0.0.7");
        FakeDnsServer resolver = keep(FakeDnsServer.messages((q, r) -> {
            r.addRecord(new ARecord(q.getQuestion().getName(), DClass.IN, 60, a), Section.ANSWER);
            r.addRecord(new OPTRecord(4096, 0, 0, 0), Section.ADDITIONAL);
        }));
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).maxUdpPayload(1400)
                .forwarder(resolver.address()).start());
        for (int round = 0; round < 2; round++) {
            Message m = Dig.udp(dns).edns(1232).a("opt.test");
            assertEquals(List.of("127.0.0.7"), Dig.addresses(m));
            assertEquals(1400, m.getOPT().getPayloadSize(), round == 0 ? "forwarded" : "from the cache");
        }
        assertEquals(1, dns.stats().cacheHits());
    }

    /**
     * As dnsmasq with its edns-packet-max: a query with OPT goes on advertising {@code maxUdpPayload}, larger
     * or smaller than the client's size, with the client's DO bit and options; one without OPT goes on
     * without (RFC 6891 section 7: its answer must not carry one).
     */
    @Test
    void theResolverIsAskedWithMaxUdpPayloadWhateverSizeTheClientAdvertised() throws Exception {
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        InetAddress a = InetAddress.getByName("127.0.0.7");
        FakeDnsServer resolver = keep(FakeDnsServer.messages((q, r) -> {
            OPTRecord opt = q.getOPT();
            seen.add(opt == null ? "no OPT" : opt.getPayloadSize() + " DO=" + (opt.getFlags() & ExtendedFlags.DO)
                    + " options=" + opt.getOptions().stream().map(EDNSOption::getCode).toList());
            r.addRecord(new ARecord(q.getQuestion().getName(), DClass.IN, 5, a), Section.ANSWER);
        }));
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).maxUdpPayload(1400).cacheSize(0)
                .forwarder(resolver.address()).start());
        assertEquals(List.of("127.0.0.7"), Dig.addresses(Dig.udp(dns).edns(4096).a("a.test")));
        assertEquals(List.of("127.0.0.7"), Dig.addresses(Dig.udp(dns).edns(512).a("b.test")));
        assertEquals(List.of("127.0.0.7"), Dig.addresses(Dig.tcp(dns).edns(600, ExtendedFlags.DO).a("c.test")));
        assertEquals(List.of("127.0.0.7"), Dig.addresses(Dig.udp(dns).noEdns().a("d.test")));
        Message withOption = Message.newQuery(org.xbill.DNS.Record.newRecord(Name.fromString("e.test."),
                org.xbill.DNS.Type.A, DClass.IN));
        withOption.addRecord(new OPTRecord(700, 0, 0, 0, List.of(new GenericEDNSOption(65001, new byte[] {1, 2, 3}))),
                Section.ADDITIONAL);
        byte[] answer = Packets.udp(dns.localAddress(), withOption.toWire(), 3000);
        assertEquals(List.of("127.0.0.7"), Dig.addresses(new Message(answer)));
        assertEquals(List.of("1400 DO=0 options=[]", "1400 DO=0 options=[]", "1400 DO=32768 options=[]", "no OPT",
                "1400 DO=0 options=[65001]"), seen);
    }

    /**
     * An answer over the client's size but within {@code maxUdpPayload} comes whole over UDP (not truncated
     * for the client's size and fetched again over TCP), is cached whole, and from the cache is fitted to each
     * client's size: TC for a smaller one.
     */
    @Test
    void anAnswerWithinMaxUdpPayloadArrivesWholeAndIsFittedToEachClientFromTheCache() throws Exception {
        // 70 A records: 1158 bytes with OPT, within the default maxUdpPayload of 1232.
        DnsBalancer upstream = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).maxUdpPayload(4096)
                .name(ServedName.builder("big.local", BadInputTest.bigPool(70)).ttl(Duration.ofSeconds(60)).build())
                .start());
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .forwarder(upstream.localAddress()).start());
        Message tcp = Dig.tcp(dns).edns(512).a("big.local");
        assertEquals(70, tcp.getSection(Section.ANSWER).size());
        assertEquals(0, upstream.stats().tcpQueries(), "one whole UDP answer, no TC and no TCP retry");
        byte[] small = Packets.udp(dns.localAddress(), Packets.query("big.local", 1, 512), 2000);
        assertTrue((Packets.flags(small) & Wire.FLAG_TC) != 0, "TC for a client of 512 bytes");
        assertTrue(small.length <= 512, small.length + " bytes");
        byte[] fits = Packets.udp(dns.localAddress(), Packets.query("big.local", 1, 1232), 2000);
        assertEquals(0, Packets.flags(fits) & Wire.FLAG_TC);
        assertEquals(70, Packets.count(fits, 1));
        assertEquals(2, dns.stats().cacheHits());
        assertEquals(1, upstream.stats().count("big.local", "NOERROR"));
    }

    @Test
    void anyForAForwardedNameGetsTheRfc8482Answer() throws Exception {
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .forwarder(addressOf(silentResolver())).start());
        Message m = Dig.udp(dns).query("example.test", org.xbill.DNS.Type.ANY);
        assertEquals(org.xbill.DNS.Type.HINFO, m.getSection(Section.ANSWER).get(0).getType());
        assertTrue(m.getSection(Section.ANSWER).get(0).rdataToString().contains("RFC8482"));
    }
}
