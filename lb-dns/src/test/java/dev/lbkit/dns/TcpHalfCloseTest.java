package dev.lbkit.dns;

import static dev.lbkit.dns.DnsBalancerTest.SEED;
import static dev.lbkit.dns.DnsBalancerTest.loopback0;
import static dev.lbkit.dns.DnsBalancerTest.seedPool;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.transport.TransportType;
import java.io.ByteArrayOutputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;

/**
 * A client that half-closes its TCP connection after its last query (a FIN, {@code nc -q}) still gets
 * every answer, forwarded ones included; then the server closes.
 */
class TcpHalfCloseTest {
    /** Far longer than any test here waits: a close within it is the half-close's, not the idle timer's. */
    private static final Duration IDLE = Duration.ofSeconds(10);

    /** Serves the seed name; forwarding, when a test wants it, is up to the test. */
    private static DnsBalancer.Builder server(TransportType transport) {
        return DnsBalancer.builder().listen(loopback0()).ioThreads(1).transport(transport).name(SEED, seedPool())
                .tcpIdleTimeout(IDLE);
    }

    private static Socket connect(DnsBalancer dns) throws Exception {
        Socket s = new Socket(dns.localAddress().getAddress(), dns.localAddress().getPort());
        s.setSoTimeout(5000);
        return s;
    }

    /** Sends the queries in one write, each with its 2-byte length, then the FIN. */
    private static void queryThenHalfClose(Socket s, byte[]... queries) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] q : queries) {
            Packets.short16(out, q.length);
            out.write(q, 0, q.length);
        }
        s.getOutputStream().write(out.toByteArray());
        s.getOutputStream().flush();
        s.shutdownOutput();
    }

    /** Reads {@code n} answers, keyed by their question's name (they may come in any order). */
    private static Map<String, Message> answers(Socket s, int n) throws Exception {
        Map<String, Message> byName = new HashMap<>();
        for (int i = 0; i < n; i++) {
            Message m = new Message(Packets.readFramed(s));
            byName.put(m.getQuestion().getName().toString(), m);
        }
        return byName;
    }

    private static void assertClosedSoon(Socket s) throws Exception {
        long ms = Packets.millisUntilClosed(s);
        assertTrue(ms >= 0 && ms < 2000, "closed after the answers, not by the idle timeout; took " + ms + " ms");
    }

    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void answersEveryQueryReceivedBeforeTheFinIncludingAForwardedOneThenCloses(TransportType transport) throws Exception {
        // The upstream answers after 300 ms, long after the FIN has reached the server.
        try (FakeDnsServer upstream = FakeDnsServer.messages((q, r) -> {
                    try {
                        Thread.sleep(300);
                        r.addRecord(new ARecord(q.getQuestion().getName(), DClass.IN, 60,
                                InetAddress.getByName("127.0.0.7")), Section.ANSWER);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                DnsBalancer dns = server(transport).forwarder(upstream.address()).forwardTimeout(Duration.ofSeconds(5))
                        .start();
                Socket s = connect(dns)) {
            queryThenHalfClose(s, Packets.query("slow.test", 1, 0), Packets.query(SEED, 1, 0));
            Map<String, Message> answers = answers(s, 2);
            assertEquals(List.of("127.0.0.7"), Dig.addresses(answers.get("slow.test.")));
            assertEquals(2, Dig.addresses(answers.get(SEED + ".")).size());
            assertClosedSoon(s);
            assertEquals(1, upstream.queries());
            assertEquals(0, dns.stats().tcpIdleClosed());
        }
    }

    @Test
    void aForwardThatTimesOutAfterTheFinIsAnsweredServfailThenCloses() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                DnsBalancer dns = server(TransportType.AUTO).forwarder((InetSocketAddress) silent.getLocalSocketAddress())
                        .forwardTimeout(Duration.ofMillis(300)).start();
                Socket s = connect(dns)) {
            queryThenHalfClose(s, Packets.query("lost.test", 1, 0));
            assertEquals(Rcode.SERVFAIL, answers(s, 1).get("lost.test.").getRcode());
            assertClosedSoon(s);
            assertEquals(1, dns.stats().forwardTimeouts());
            assertEquals(0, dns.stats().tcpIdleClosed());
        }
    }

    @Test
    void aHalfClosedConnectionWithNothingPendingClosesAtOnce() throws Exception {
        try (DnsBalancer dns = server(TransportType.AUTO).start()) {
            try (Socket s = connect(dns)) {
                queryThenHalfClose(s, Packets.query(SEED, 1, 0));
                assertEquals(2, Dig.addresses(answers(s, 1).get(SEED + ".")).size());
                assertClosedSoon(s);
            }
            try (Socket s = connect(dns)) {
                queryThenHalfClose(s);
                assertClosedSoon(s);
            }
            assertEquals(0, dns.stats().tcpIdleClosed());
        }
    }
}
