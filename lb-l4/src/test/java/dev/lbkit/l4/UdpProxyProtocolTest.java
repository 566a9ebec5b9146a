package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.Await;
import dev.lbkit.testing.ProxyHeaderBytes;
import dev.lbkit.transport.TransportType;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** PROXY protocol v2 DGRAM headers on UDP services, sent to real servers and accepted from a front balancer. */
@ExtendWith(LeakCheck.class)
class UdpProxyProtocolTest {
    private static final byte[] SIGNATURE = ProxyHeaderBytes.V2_SIGNATURE;

    private static DatagramSocket client(String host) throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(host, 0));
        s.setSoTimeout(5000);
        return s;
    }

    /** Sends {@code bytes} to {@code service} and returns the reply's text, checking it comes from the service. */
    private static String send(DatagramSocket client, InetSocketAddress service, byte[] bytes) throws IOException {
        client.send(new DatagramPacket(bytes, bytes.length, service));
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        client.receive(p);
        assertEquals(service, p.getSocketAddress(), "replies come from the service address");
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
    }

    /** The v2 header HAProxy's spec defines for a UDP flow, built from the spec's layout. */
    private static byte[] header(InetSocketAddress src, InetSocketAddress dst) {
        return ProxyHeaderBytes.v2(false, src, dst);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return ProxyHeaderBytes.concat(a, b);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void everyDatagramToARealServerStartsWithAV2DgramHeader(TransportType transport) throws Exception {
        try (UdpEcho real = new UdpEcho(b -> "ok".getBytes(StandardCharsets.US_ASCII));
                L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(transport).build();
                DatagramSocket c = client("127.0.0.7")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .proxyProtocol(ProxyProtocol.V2).realServer(real.address()).build());
            InetSocketAddress me = (InetSocketAddress) c.getLocalSocketAddress();
            for (String q : new String[] {"first", "second"}) {
                assertEquals("ok", send(c, vs.localAddress(), ascii(q)));
                ByteBuffer got = ByteBuffer.wrap(real.next());
                byte[] sig = new byte[12];
                got.get(sig);
                assertArrayEquals(SIGNATURE, sig);
                assertEquals(0x21, got.get(), "version 2, PROXY");
                assertEquals(0x12, got.get(), "UDP over IPv4 (DGRAM)");
                assertEquals(12, got.getShort());
                byte[] src = new byte[4];
                byte[] dst = new byte[4];
                got.get(src).get(dst);
                assertArrayEquals(new byte[] {127, 0, 0, 7}, src);
                assertArrayEquals(new byte[] {127, 0, 0, 1}, dst);
                assertEquals(me.getPort(), Short.toUnsignedInt(got.getShort()));
                assertEquals(vs.localAddress().getPort(), Short.toUnsignedInt(got.getShort()));
                byte[] payload = new byte[got.remaining()];
                got.get(payload);
                assertEquals(q, new String(payload, StandardCharsets.US_ASCII));
            }
            IpvsStats.Service st = vs.stats();
            assertEquals(2, st.counters().inPkts());
            assertEquals(11, st.counters().inBytes(), "the client's bytes, without the headers");
            assertEquals(2, st.counters().outPkts());
        }
    }

    /**
     * A service bound to the wildcard address, as a UDP service in front of DNS servers often is. It runs in
     * a child JVM in a network namespace of its own whose only interface is loopback, so that the wildcard
     * bind reaches loopback only.
     */
    @Test
    void aWildcardServiceOnEpollNamesAndRepliesFromTheAddressEachClientSentTo() throws Exception {
        WildcardChild.run(WildcardService.class);
    }

    /** {@link #aWildcardServiceOnEpollNamesAndRepliesFromTheAddressEachClientSentTo}'s child: prints OK or fails. */
    static final class WildcardService {
        public static void main(String[] args) throws Exception {
            WildcardChild.runAndExit(UdpProxyProtocolTest::wildcardServiceNamesAndRepliesFromTheAddressEachClientSentTo);
        }
    }

    private static void wildcardServiceNamesAndRepliesFromTheAddressEachClientSentTo() throws Exception {
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(120), Duration.ofMillis(500));
        try (UdpEcho real = new UdpEcho(b -> "ok".getBytes(StandardCharsets.US_ASCII));
                L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(TransportType.EPOLL).timeouts(t).build();
                DatagramSocket c3 = client("127.0.0.1"); DatagramSocket c4 = client("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(new InetSocketAddress("0.0.0.0", 0)).scheduler("rr")
                    .proxyProtocol(ProxyProtocol.V2).realServer(real.address()).build());
            int fds = Resources.openFds();
            InetSocketAddress to3 = new InetSocketAddress("127.0.0.3", vs.localAddress().getPort());
            InetSocketAddress to4 = new InetSocketAddress("127.0.0.4", vs.localAddress().getPort());
            // A connected UDP socket drops datagrams from any other source than the one it is connected to.
            c3.connect(to3);
            c4.connect(to4);
            for (int round = 0; round < 2; round++) {
                for (String q : new String[] {"first", "second"}) {
                    assertEquals("ok", send(c3, to3, ascii(q)), "the reply came from 127.0.0.3");
                    assertArrayEquals(concat(header((InetSocketAddress) c3.getLocalSocketAddress(), to3), ascii(q)),
                            real.next(), "the header names the address the client sent to");
                    assertEquals("ok", send(c4, to4, ascii(q)));
                    assertArrayEquals(concat(header((InetSocketAddress) c4.getLocalSocketAddress(), to4), ascii(q)),
                            real.next());
                }
                String listing = IpvsTable.renderConnections(lb.connections());
                assertTrue(listing.contains(" " + IpvsTable.addrPort(to3) + " ")
                        && listing.contains(" " + IpvsTable.addrPort(to4) + " "), listing);
                // The flows end after 500 ms idle, and with them the sockets bound to 127.0.0.3 and .4; the
                // next round binds them again.
                Await.until(() -> lb.connections().total() == 0 && Resources.openFds() <= fds);
            }
        }
    }

    @Test
    void version1IsRefusedForUdpServices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VirtualService.udp(Net.ANY_LOOPBACK).proxyProtocol(ProxyProtocol.V1).build());
        assertTrue(e.getMessage().contains("V1") && e.getMessage().contains("UDP"), e.getMessage());
    }

    @Test
    void headersFromAFrontBalancerNameTheClientAndDatagramsWithoutOneAreDropped() throws Exception {
        try (UdpEcho real = new UdpEcho(b -> "ok".getBytes(StandardCharsets.US_ASCII)); L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
                DatagramSocket front4 = client("127.0.0.8"); DatagramSocket front6 = client("127.0.0.9");
                DatagramSocket stranger = client("127.0.0.10")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .acceptProxyProtocol(true).proxyProtocol(ProxyProtocol.V2).realServer(real.address()).build());
            InetSocketAddress client4 = new InetSocketAddress("10.1.2.3", 5555);
            InetSocketAddress virtual4 = new InetSocketAddress("192.0.2.1", 53);
            assertEquals("ok", send(front4, vs.localAddress(), concat(header(client4, virtual4), ascii("a?"))));
            assertArrayEquals(concat(header(client4, virtual4), ascii("a?")), real.next(),
                    "the front's client and virtual address are passed on");
            InetSocketAddress client6 = new InetSocketAddress("2001:db8::1", 6666);
            InetSocketAddress virtual6 = new InetSocketAddress("2001:db8::53", 53);
            assertEquals("ok", send(front6, vs.localAddress(), concat(header(client6, virtual6), ascii("b?"))));
            assertArrayEquals(concat(header(client6, virtual6), ascii("b?")), real.next(), "UDP over IPv6 (0x22)");

            stranger.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, () -> send(stranger, vs.localAddress(), ascii("no header")));
            byte[] truncated = Arrays.copyOf(header(client4, virtual4), 20);
            assertThrows(SocketTimeoutException.class, () -> send(stranger, vs.localAddress(), truncated));
            assertNull(real.received.poll(200, TimeUnit.MILLISECONDS), "nothing without a valid header goes on");
            assertEquals(2, vs.stats().malformedProxyHeaders());
            assertEquals(2, vs.stats().counters().conns());

            String listing = IpvsTable.renderConnections(lb.connections());
            assertTrue(listing.contains(" 10.1.2.3:5555 "), listing);
            assertTrue(listing.contains(" [2001:db8::1]:6666 "), listing);
        }
    }

    @Test
    void acceptingAloneRemovesTheHeaderBeforeTheRealServer() throws Exception {
        try (UdpEcho real = new UdpEcho(b -> "ok".getBytes(StandardCharsets.US_ASCII)); L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
                DatagramSocket front = client("127.0.0.8")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .acceptProxyProtocol(true).realServer(real.address()).build());
            byte[] h = header(new InetSocketAddress("10.1.2.3", 5555), new InetSocketAddress("192.0.2.1", 53));
            assertEquals("ok", send(front, vs.localAddress(), concat(h, ascii("q1"))));
            assertEquals("ok", send(front, vs.localAddress(), concat(h, ascii("q2"))));
            assertEquals("q1", new String(real.next(), StandardCharsets.US_ASCII));
            assertEquals("q2", new String(real.next(), StandardCharsets.US_ASCII));
            assertEquals(4, vs.stats().counters().inBytes());
        }
    }
}
