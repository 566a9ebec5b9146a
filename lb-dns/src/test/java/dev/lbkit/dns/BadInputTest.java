package dev.lbkit.dns;

import static dev.lbkit.dns.DnsBalancerTest.SEED;
import static dev.lbkit.dns.DnsBalancerTest.loopback0;
import static dev.lbkit.dns.DnsBalancerTest.seedPool;
import static dev.lbkit.dns.Packets.count;
import static dev.lbkit.dns.Packets.rcode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.transport.TransportType;
import java.io.ByteArrayOutputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

class BadInputTest {
    static final int FORMERR = 1;
    static final int SERVFAIL = 2;
    static final int NOTIMP = 4;
    private DnsBalancer dns;
    private InetSocketAddress server;

    static UpstreamPool bigPool(int n) {
        UpstreamPool.Builder b = UpstreamPool.builder();
        for (int i = 1; i <= n; i++) {
            b.add("127.0.1." + i, 80);
        }
        return b.build();
    }

    @BeforeEach
    void start() {
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, seedPool()).name("big.local", bigPool(60))
                .tcpIdleTimeout(Duration.ofMillis(400)).maxTcpConnections(4).start();
        server = dns.localAddress();
    }

    @AfterEach
    void stop() {
        dns.close();
    }

    private void assertStillServing() throws Exception {
        byte[] a = Packets.udp(server, Packets.query(SEED, 1, 0), 2000);
        assertNotNull(a);
        assertEquals(2, count(a, 1));
    }

    @Test
    void packetsShorterThanAHeaderAreDropped() throws Exception {
        assertNull(Packets.udp(server, new byte[] {0x12, 0x34, 1, 0, 0}, 300));
        assertNull(Packets.udp(server, new byte[0], 300));
        assertEquals(2, dns.stats().dropped());
        assertStillServing();
    }

    @Test
    void responsesAreNeverAnswered() throws Exception {
        byte[] q = Packets.query(SEED, 1, 0);
        q[2] |= (byte) 0x80;
        assertNull(Packets.udp(server, q, 300));
        assertStillServing();
    }

    @Test
    void qdcountOtherThanOneIsFormerr() throws Exception {
        byte[] zero = Packets.header(0x0100, 0, 0, 0, 0).toByteArray();
        byte[] a = Packets.udp(server, zero, 2000);
        assertEquals(FORMERR, rcode(a));
        assertEquals(0x1234, ((a[0] & 0xFF) << 8) | (a[1] & 0xFF));
        ByteArrayOutputStream two = Packets.header(0x0100, 2, 0, 0, 0);
        for (int i = 0; i < 2; i++) {
            Packets.name(two, SEED);
            Packets.short16(two, 1);
            Packets.short16(two, 1);
        }
        assertEquals(FORMERR, rcode(Packets.udp(server, two.toByteArray(), 2000)));
    }

    @Test
    void labelAndNameLengthLimitsAreEnforced() throws Exception {
        ByteArrayOutputStream longLabel = Packets.header(0x0100, 1, 0, 0, 0);
        longLabel.write(64);
        longLabel.write(new byte[64], 0, 64);
        longLabel.write(0);
        Packets.short16(longLabel, 1);
        Packets.short16(longLabel, 1);
        assertEquals(FORMERR, rcode(Packets.udp(server, longLabel.toByteArray(), 2000)));

        ByteArrayOutputStream longName = Packets.header(0x0100, 1, 0, 0, 0);
        for (int i = 0; i < 5; i++) {
            longName.write(63);
            byte[] label = new byte[63];
            Arrays.fill(label, (byte) 'a');
            longName.write(label, 0, 63);
        }
        longName.write(0);
        Packets.short16(longName, 1);
        Packets.short16(longName, 1);
        assertEquals(FORMERR, rcode(Packets.udp(server, longName.toByteArray(), 2000)));
        assertStillServing();
    }

    /** RFC 1035 section 3.1: 255 bytes at most, the final zero included, for the names of records too. */
    @Test
    void aRecordOwnerNameOver255BytesIsFormerrAnd255BytesIsNot() throws Exception {
        assertEquals(FORMERR, rcode(Packets.udp(server, queryWithAdditionalOwnerOf(62), 2000)), "256 bytes");
        assertEquals(0, rcode(Packets.udp(server, queryWithAdditionalOwnerOf(61), 2000)), "255 bytes");
        assertStillServing();
    }

    /**
     * A UDP datagram is read into 4096 bytes ({@code MAX_QUERY}): a longer query arrives cut off, its last
     * record truncated, so it is FORMERR; one of exactly 4096 bytes is answered. On every transport, as
     * each reads datagrams its own way (epoll with recvmmsg).
     */
    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void aUdpQueryOverMaxUdpQueryIsFormerrAndOneOfThatSizeIsAnswered(TransportType transport) throws Exception {
        DnsBalancer other = DnsBalancer.builder().listen(loopback0()).ioThreads(1).transport(transport)
                .name(SEED, seedPool()).start();
        try {
            InetSocketAddress at = other.localAddress();
            byte[] fits = Packets.udp(at, paddedQuery(4096), 2000);
            assertNotNull(fits, "4096 bytes");
            assertEquals(0, rcode(fits), "4096 bytes");
            assertEquals(2, count(fits, 1), "4096 bytes");
            assertEquals(FORMERR, rcode(Packets.udp(at, paddedQuery(4097), 2000)), "4097 bytes");
            assertEquals(FORMERR, rcode(Packets.udp(at, paddedQuery(9000), 2000)), "9000 bytes");
        } finally {
            other.close();
        }
        DnsBalancer larger = DnsBalancer.builder().listen(loopback0()).ioThreads(1).transport(transport)
                .name(SEED, seedPool()).maxUdpQuery(9000).start();
        try {
            InetSocketAddress at = larger.localAddress();
            assertEquals(0, rcode(Packets.udp(at, paddedQuery(9000), 2000)), "9000 bytes within maxUdpQuery");
            assertEquals(FORMERR, rcode(Packets.udp(at, paddedQuery(9001), 2000)), "9001 bytes");
        } finally {
            larger.close();
        }
    }

    @Test
    void aTcpQueryOfTheLargestSizeTcpCarriesIsAnswered() throws Exception {
        // 65535 bytes: the most a two-byte length prefix can say (RFC 1035 §4.2.2).
        try (Socket s = new Socket(server.getAddress(), server.getPort())) {
            s.setSoTimeout(5000);
            Packets.writeFramed(s, paddedQuery(65535));
            byte[] answer = Packets.readFramed(s);
            assertEquals(0, rcode(answer));
            assertEquals(2, count(answer, 1));
        }
    }

    /** A query for the seed name whose OPT record's Padding option (RFC 7830) makes it {@code size} bytes long. */
    private static byte[] paddedQuery(int size) {
        ByteArrayOutputStream out = Packets.header(0x0100, 1, 0, 0, 1);
        Packets.name(out, SEED);
        Packets.short16(out, 1);
        Packets.short16(out, 1);
        // OPT: root owner, type 41, UDP size, extended rcode, version, flags, RDLENGTH; then one option.
        int padding = size - out.size() - 11 - 4;
        out.write(0);
        Packets.short16(out, 41);
        Packets.short16(out, 1232);
        out.write(0);
        out.write(0);
        Packets.short16(out, 0);
        Packets.short16(out, 4 + padding);
        Packets.short16(out, 12);
        Packets.short16(out, padding);
        out.write(new byte[padding], 0, padding);
        byte[] q = out.toByteArray();
        assertEquals(size, q.length);
        return q;
    }

    /** A query for the seed name with one A record in the additional section, owned by 3 × 63 + last bytes. */
    private static byte[] queryWithAdditionalOwnerOf(int last) {
        ByteArrayOutputStream out = Packets.header(0x0100, 1, 0, 0, 1);
        Packets.name(out, SEED);
        Packets.short16(out, 1);
        Packets.short16(out, 1);
        for (int length : new int[] {63, 63, 63, last}) {
            byte[] label = new byte[length];
            Arrays.fill(label, (byte) 'a');
            out.write(length);
            out.write(label, 0, length);
        }
        out.write(0);
        Packets.short16(out, 1);
        Packets.short16(out, 1);
        Packets.short16(out, 0);
        Packets.short16(out, 0);
        Packets.short16(out, 4);
        out.write(new byte[] {127, 0, 0, 1}, 0, 4);
        return out.toByteArray();
    }

    @Test
    void compressionPointerLoopsAreFormerr() throws Exception {
        ByteArrayOutputStream self = Packets.header(0x0100, 1, 0, 0, 0);
        self.write(0xC0);
        self.write(12);
        Packets.short16(self, 1);
        Packets.short16(self, 1);
        assertEquals(FORMERR, rcode(Packets.udp(server, self.toByteArray(), 2000)));

        // A valid question, then an additional record whose name points at itself.
        ByteArrayOutputStream inAdditional = Packets.header(0x0100, 1, 0, 0, 1);
        Packets.name(inAdditional, SEED);
        Packets.short16(inAdditional, 1);
        Packets.short16(inAdditional, 1);
        int at = inAdditional.size();
        inAdditional.write(0xC0 | (at >>> 8));
        inAdditional.write(at);
        Packets.short16(inAdditional, 1);
        Packets.short16(inAdditional, 1);
        inAdditional.write(new byte[6], 0, 6);
        assertEquals(FORMERR, rcode(Packets.udp(server, inAdditional.toByteArray(), 2000)));
        assertStillServing();
    }

    @Test
    void truncatedQuestionsAndRecordsAreFormerr() throws Exception {
        byte[] q = Packets.query(SEED, 1, 0);
        assertEquals(FORMERR, rcode(Packets.udp(server, Arrays.copyOf(q, q.length - 2), 2000)));
        assertEquals(FORMERR, rcode(Packets.udp(server, Arrays.copyOf(q, 20), 2000)));
        byte[] withOpt = Packets.query(SEED, 1, 1232);
        assertEquals(FORMERR, rcode(Packets.udp(server, Arrays.copyOf(withOpt, withOpt.length - 3), 2000)));
    }

    @Test
    void unknownOpcodeIsNotimpWithTheQuestion() throws Exception {
        byte[] q = Packets.query(SEED, 1, 0);
        q[2] = (byte) (2 << 3); // STATUS
        byte[] a = Packets.udp(server, q, 2000);
        assertEquals(NOTIMP, rcode(a));
        assertEquals(2, (Packets.flags(a) >>> 11) & 0xF, "opcode echoed");
        assertEquals(1, count(a, 0));
        assertArrayEquals(Arrays.copyOfRange(q, 12, q.length), Arrays.copyOfRange(a, 12, a.length));
    }

    /** RFC 6891 section 6.1.1: an answer to a query with OPT carries OPT, error answers included. */
    @Test
    void notimpAndFormerrAnswersToAnEdnsQueryCarryOpt() throws Exception {
        ByteArrayOutputStream status = Packets.header(2 << 11 | 0x0100, 1, 0, 0, 1);
        Packets.name(status, SEED);
        Packets.short16(status, 1);
        Packets.short16(status, 1);
        Packets.opt(status, 1232, 0);
        Message notimp = new Message(Packets.udp(server, status.toByteArray(), 2000));
        assertEquals(NOTIMP, notimp.getRcode());
        assertNotNull(notimp.getOPT());

        ByteArrayOutputStream noQuestion = Packets.header(0x0100, 0, 0, 0, 1);
        Packets.opt(noQuestion, 1232, 0);
        Message formerr = new Message(Packets.udp(server, noQuestion.toByteArray(), 2000));
        assertEquals(FORMERR, formerr.getRcode());
        assertNotNull(formerr.getOPT());

        ByteArrayOutputStream twoQuestions = Packets.header(0x0100, 2, 0, 0, 1);
        for (int i = 0; i < 2; i++) {
            Packets.name(twoQuestions, SEED);
            Packets.short16(twoQuestions, 1);
            Packets.short16(twoQuestions, 1);
        }
        Packets.opt(twoQuestions, 1232, 0);
        formerr = new Message(Packets.udp(server, twoQuestions.toByteArray(), 2000));
        assertEquals(FORMERR, formerr.getRcode());
        assertNotNull(formerr.getOPT());
    }

    @Test
    void twoOptRecordsOrAnOptNotAtTheRootOrOutsideTheAdditionalSectionAreFormerr() throws Exception {
        ByteArrayOutputStream two = Packets.header(0x0100, 1, 0, 0, 2);
        Packets.name(two, SEED);
        Packets.short16(two, 1);
        Packets.short16(two, 1);
        Packets.opt(two, 1232, 0);
        Packets.opt(two, 1232, 0);
        assertEquals(FORMERR, rcode(Packets.udp(server, two.toByteArray(), 2000)));

        // RFC 6891 section 6.1.1: OPT is additional data only.
        ByteArrayOutputStream inAuthority = Packets.header(0x0100, 1, 0, 1, 1);
        Packets.name(inAuthority, SEED);
        Packets.short16(inAuthority, 1);
        Packets.short16(inAuthority, 1);
        Packets.opt(inAuthority, 1232, 0);
        Packets.opt(inAuthority, 1232, 0);
        assertEquals(FORMERR, rcode(Packets.udp(server, inAuthority.toByteArray(), 2000)));

        ByteArrayOutputStream inAnswer = Packets.header(0x0100, 1, 1, 0, 0);
        Packets.name(inAnswer, SEED);
        Packets.short16(inAnswer, 1);
        Packets.short16(inAnswer, 1);
        Packets.opt(inAnswer, 1232, 0);
        assertEquals(FORMERR, rcode(Packets.udp(server, inAnswer.toByteArray(), 2000)));

        ByteArrayOutputStream named = Packets.header(0x0100, 1, 0, 0, 1);
        Packets.name(named, SEED);
        Packets.short16(named, 1);
        Packets.short16(named, 1);
        Packets.name(named, "x");
        Packets.short16(named, 41);
        Packets.short16(named, 1232);
        named.write(new byte[6], 0, 6);
        assertEquals(FORMERR, rcode(Packets.udp(server, named.toByteArray(), 2000)));
    }

    @Test
    void unknownEdnsVersionIsBadvers() throws Exception {
        ByteArrayOutputStream q = Packets.header(0x0100, 1, 0, 0, 1);
        Packets.name(q, SEED);
        Packets.short16(q, 1);
        Packets.short16(q, 1);
        Packets.opt(q, 1232, 1);
        Message m = new Message(Packets.udp(server, q.toByteArray(), 2000));
        assertEquals(org.xbill.DNS.Rcode.BADVERS, m.getRcode());
    }

    /** RFC 3225 section 3: the DO bit of the query is copied into the response's OPT. */
    @Test
    void theDoBitIsCopiedIntoEveryOpt() throws Exception {
        Dig dig = Dig.udp(dns).edns(1232, ExtendedFlags.DO);
        Message served = dig.a(SEED);
        Message nodata = dig.query(SEED, Type.MX);
        Message nxdomain = dig.a("www." + SEED);
        for (Message m : List.of(served, nodata, nxdomain)) {
            assertEquals(ExtendedFlags.DO, m.getOPT().getFlags() & ExtendedFlags.DO, m.toString());
        }
        assertEquals(0, Dig.udp(dns).edns(1232).a(SEED).getOPT().getFlags() & ExtendedFlags.DO);

        ByteArrayOutputStream q = Packets.header(0x0100, 1, 0, 0, 1);
        Packets.name(q, "big.local");
        Packets.short16(q, 1);
        Packets.short16(q, 1);
        q.write(0);
        Packets.short16(q, 41);
        Packets.short16(q, 512);
        Packets.short16(q, 0);
        Packets.short16(q, 0x8000); // DO
        Packets.short16(q, 0);
        Message truncated = new Message(Packets.udp(server, q.toByteArray(), 2000));
        assertTrue(truncated.getHeader().getFlag(Flags.TC));
        assertEquals(ExtendedFlags.DO, truncated.getOPT().getFlags() & ExtendedFlags.DO);
    }

    @Test
    void answersLargerThanTheClientsUdpSizeAreTruncated() throws Exception {
        byte[] plain = Packets.udp(server, Packets.query("big.local", 1, 0), 2000);
        assertTrue(plain.length <= 512, "no EDNS: at most 512 bytes, got " + plain.length);
        assertTrue((Packets.flags(plain) & 0x0200) != 0, "TC set");
        assertEquals(0, count(plain, 1));
        byte[] edns = Packets.udp(server, Packets.query("big.local", 1, 1232), 2000);
        assertEquals(0, Packets.flags(edns) & 0x0200);
        assertEquals(60, count(edns, 1));
        assertTrue(edns.length <= 1232);
        // The client may ask for more than the server is willing to send: the server's limit wins.
        byte[] huge = Packets.udp(server, Packets.query("big.local", 255, 65000), 2000);
        assertTrue(huge.length <= 1232);
        assertTrue(dns.stats().truncated() >= 1);
    }

    /** RFC 2181 section 9: TC is not set only because additional data did not fit. */
    @Test
    void srvTargetAddressesThatDoNotFitAreLeftOutWithoutTc() throws Exception {
        DnsBalancer ten = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("big10.local", bigPool(10)).start();
        try {
            // The 10 SRV records take 479 bytes, their 10 address records 410 more.
            byte[] a = Packets.udp(ten.localAddress(), Packets.query("big10.local", 33, 0), 2000);
            assertTrue(a.length <= 512, "len " + a.length);
            assertEquals(0, Packets.flags(a) & 0x0200, "TC");
            assertEquals(10, count(a, 1));
            assertEquals(0, count(a, 3));
            byte[] edns = Packets.udp(ten.localAddress(), Packets.query("big10.local", 33, 1232), 2000);
            assertEquals(0, Packets.flags(edns) & 0x0200, "TC");
            assertEquals(10, count(edns, 1));
            assertEquals(10 + 1, count(edns, 3), "addresses and OPT");
            assertEquals(0, ten.stats().truncated());
        } finally {
            ten.close();
        }
    }

    @Test
    void dnsjavaFallsBackToTcpAfterTcAndGetsEveryRecord() throws Exception {
        Message m = Dig.udp(dns).noEdns().a("big.local");
        assertEquals(60, m.getSection(Section.ANSWER).size());
        assertTrue(dns.stats().tcpQueries() >= 1);
    }

    @Test
    void serverNeverSendsMoreThanItsOwnLimitEvenWhenAClientAsksForMore() throws Exception {
        DnsBalancer small = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("big.local", bigPool(60))
                .maxUdpPayload(512).start();
        try {
            byte[] a = Packets.udp(small.localAddress(), Packets.query("big.local", 1, 4096), 2000);
            assertTrue(a.length <= 512);
            assertTrue((Packets.flags(a) & 0x0200) != 0);
        } finally {
            small.close();
        }
    }

    @Test
    void tcpCarriesSeveralQueriesPerConnection() throws Exception {
        try (Socket s = new Socket(server.getAddress(), server.getPort())) {
            s.setSoTimeout(3000);
            byte[] q1 = Packets.query(SEED, 1, 0);
            byte[] q2 = Packets.query("big.local", 1, 0);
            // Both in one write: the server must split frames itself.
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            for (byte[] q : new byte[][] {q1, q2}) {
                Packets.short16(both, q.length);
                both.write(q, 0, q.length);
            }
            s.getOutputStream().write(both.toByteArray());
            assertEquals(2, count(Packets.readFramed(s), 1));
            byte[] big = Packets.readFramed(s);
            assertEquals(60, count(big, 1), "no UDP size limit over TCP");
            Packets.writeFramed(s, q1);
            assertEquals(2, count(Packets.readFramed(s), 1));
        }
    }

    @Test
    void aLengthPrefixLargerThanTheDataDoesNotHoldTheServer() throws Exception {
        try (Socket s = new Socket(server.getAddress(), server.getPort())) {
            s.setSoTimeout(3000);
            s.getOutputStream().write(new byte[] {(byte) 0xFF, (byte) 0xFF, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
            s.getOutputStream().flush();
            assertStillServing();
            long ms = Packets.millisUntilClosed(s);
            assertTrue(ms >= 0 && ms < 2000, "closed by the idle timeout, took " + ms);
        }
    }

    @Test
    void idleAndTricklingTcpClientsAreClosedAfterTheIdleTimeout() throws Exception {
        try (Socket idle = new Socket(server.getAddress(), server.getPort())) {
            idle.setSoTimeout(3000);
            long ms = Packets.millisUntilClosed(idle);
            assertTrue(ms >= 300 && ms < 2000, "idle closed after ~400 ms, took " + ms);
        }
        try (Socket slow = new Socket(server.getAddress(), server.getPort())) {
            slow.setSoTimeout(150);
            byte[] q = Packets.query(SEED, 1, 0);
            long t0 = System.nanoTime();
            boolean closed = false;
            slow.getOutputStream().write(0);
            slow.getOutputStream().write(q.length);
            for (int i = 0; i < q.length && !closed; i++) {
                try {
                    slow.getOutputStream().write(q[i]);
                    slow.getOutputStream().flush();
                    closed = slow.getInputStream().read() < 0;
                } catch (java.net.SocketTimeoutException e) {
                    // Nothing yet: keep trickling.
                } catch (java.io.IOException e) {
                    closed = true;
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(closed, "a client sending one byte per 150 ms is closed");
            assertTrue(ms < 2000, "closed after " + ms + " ms");
        }
        assertTrue(dns.stats().tcpIdleClosed() >= 2);
    }

    /** RFC 1035 section 4.2.2, RFC 7766 section 6.2.3: the idle timeout waits for the answers still to come. */
    @Test
    void theTcpIdleTimeoutWaitsForTheAnswerToAForwardedQuery() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            DnsBalancer forwarding = DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                    .forwarder((InetSocketAddress) silent.getLocalSocketAddress()).forwardTimeout(Duration.ofMillis(1000))
                    .tcpIdleTimeout(Duration.ofMillis(300)).start();
            try (Socket s = new Socket(forwarding.localAddress().getAddress(), forwarding.localAddress().getPort())) {
                s.setSoTimeout(5000);
                Packets.writeFramed(s, Packets.query("slow.test", 1, 0));
                // The idle timeout (300 ms) passes before the forward's (1000 ms), which answers SERVFAIL.
                assertEquals(SERVFAIL, rcode(Packets.readFramed(s)));
                long ms = Packets.millisUntilClosed(s);
                assertTrue(ms >= 0 && ms < 2000, "closed by the idle timeout after the answer, took " + ms);
                assertEquals(1, forwarding.stats().tcpIdleClosed());
            } finally {
                forwarding.close();
            }
        }
    }

    @Test
    void connectionsBeyondMaxTcpConnectionsAreClosedAtOnce() throws Exception {
        Socket[] open = new Socket[4];
        try {
            for (int i = 0; i < open.length; i++) {
                open[i] = new Socket(server.getAddress(), server.getPort());
                open[i].setSoTimeout(3000);
                Packets.writeFramed(open[i], Packets.query(SEED, 1, 0));
                Packets.readFramed(open[i]);
            }
            try (Socket extra = new Socket(server.getAddress(), server.getPort())) {
                extra.setSoTimeout(3000);
                long ms = Packets.millisUntilClosed(extra);
                assertTrue(ms >= 0 && ms < 300, "closed at once, took " + ms);
            }
            assertEquals(1, dns.stats().tcpRejected());
        } finally {
            for (Socket s : open) {
                if (s != null) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aBurstOfQueriesIsAnsweredInFull() throws Exception {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(new InetSocketAddress(server.getAddress(), 0))) {
            s.setReceiveBufferSize(1 << 20);
            s.setSoTimeout(2000);
            byte[] q = Packets.query(SEED, 1, 0);
            int burst = 500;
            for (int i = 0; i < burst; i++) {
                q[0] = (byte) (i >>> 8);
                q[1] = (byte) i;
                s.send(new java.net.DatagramPacket(q, q.length, server));
            }
            java.util.BitSet seen = new java.util.BitSet();
            byte[] buf = new byte[512];
            for (int i = 0; i < burst; i++) {
                java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
                s.receive(p);
                seen.set(((buf[0] & 0xFF) << 8) | (buf[1] & 0xFF));
            }
            assertEquals(burst, seen.cardinality(), "every query answered once");
        }
    }

    @Test
    void answersCopyTheQuestionBytesExactly() throws Exception {
        byte[] q = Packets.query("My-Awesome-HIGHLOAD-app.local", 1, 0);
        byte[] a = Packets.udp(server, q, 2000);
        assertArrayEquals(Arrays.copyOfRange(q, 12, q.length), Arrays.copyOfRange(a, 12, q.length));
    }
}
