package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.transport.TransportType;
import java.net.DatagramSocket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One-packet scheduling ({@code ipvsadm --ops}): every datagram of a UDP service is scheduled on its own,
 * and the replies of each real server still reach the client.
 */
@ExtendWith(LeakCheck.class)
class OnePacketTest {

    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void eachDatagramIsScheduledOnItsOwnAndEveryReplyReachesTheClient(TransportType transport) throws Exception {
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(120), Duration.ofMillis(400));
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(transport).timeouts(t).build();
                DatagramSocket c = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr").onePacket(true)
                    .realServer(dns1.address()).realServer(dns2.address()).build());
            int fds = Resources.openFds();
            String first = Net.ask(c, vs.localAddress(), "q0").substring(0, 4);
            String second = first.equals("dns1") ? "dns2" : "dns1";
            for (int i = 1; i < 6; i++) {
                assertEquals((i % 2 == 0 ? first : second) + ":q" + i, Net.ask(c, vs.localAddress(), "q" + i),
                        "rr alternates per datagram, and each reply comes back from the service address");
            }
            IpvsStats.Service st = vs.stats();
            assertEquals(6, st.counters().conns(), "every datagram is a connection");
            assertEquals(6, st.counters().inPkts());
            assertEquals(6, st.counters().outPkts());
            for (IpvsStats.RealServerStats d : st.realServers()) {
                assertEquals(3, d.counters().conns());
                assertEquals(0, d.activeConns() + d.inactiveConns(), "the entry ends with its datagram");
            }
            assertTrue(lb.connections().entries().isEmpty(), "-lnc lists no entry for the reply sockets");
            assertTrue(IpvsTable.render(lb.stats()).contains(" rr ops\n"), IpvsTable.render(lb.stats()));
            assertTrue(Resources.openFds() >= fds + 2, "a reply socket per real server");
            Resources.await(3000, () -> Resources.openFds() <= fds, "reply sockets close at the udp idle timeout");
            assertEquals(first + ":again", Net.ask(c, vs.localAddress(), "again"), "and open again when needed");
        }
    }

    /** With persistence the template places each datagram, and its lease ends with the datagram. */
    @Test
    void withPersistenceAClientSticksToItsRealServer() throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
                DatagramSocket c1 = Net.udpClient("127.0.0.1"); DatagramSocket c2 = Net.udpClient("127.0.0.2")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr").onePacket(true)
                    .persistence(Duration.ofSeconds(60)).realServer(dns1.address()).realServer(dns2.address()).build());
            String s1 = Net.ask(c1, vs.localAddress(), "a").substring(0, 4);
            String s2 = Net.ask(c2, vs.localAddress(), "b").substring(0, 4);
            for (int i = 0; i < 4; i++) {
                assertEquals(s1 + ":x" + i, Net.ask(c1, vs.localAddress(), "x" + i));
                assertEquals(s2 + ":y" + i, Net.ask(c2, vs.localAddress(), "y" + i));
            }
            assertEquals(10, vs.stats().counters().conns());
            assertEquals(2, vs.stats().realServers().stream().mapToLong(IpvsStats.RealServerStats::persistConns).sum(),
                    "one template per client");
        }
    }

    /** Thresholds and the service's connection limit hold per datagram: an entry ends with its datagram. */
    @Test
    void theConnectionLimitCountsOnlyTheDatagramInFlight() throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
                DatagramSocket c1 = Net.udpClient("127.0.0.1"); DatagramSocket c2 = Net.udpClient("127.0.0.2")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr").onePacket(true)
                    .maxConnections(1).realServer(RealServer.builder(dns1.address()).upperThreshold(1).build())
                    .build());
            for (int i = 0; i < 3; i++) {
                assertEquals("dns1:a" + i, Net.ask(c1, vs.localAddress(), "a" + i));
                assertEquals("dns1:b" + i, Net.ask(c2, vs.localAddress(), "b" + i));
            }
            assertEquals(0, vs.stats().refused());
        }
    }

    /** The reply sockets count in maxFlows: a new client and real server pair beyond it is dropped. */
    @Test
    void replySocketsAreBoundedByMaxFlows() throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
                DatagramSocket c1 = Net.udpClient("127.0.0.1"); DatagramSocket c2 = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr").onePacket(true)
                    .maxFlows(1).realServer(dns1.address()).build());
            assertEquals("dns1:x", Net.ask(c1, vs.localAddress(), "x"));
            c2.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, () -> Net.ask(c2, vs.localAddress(), "y"), "dropped");
            assertEquals(1, vs.stats().refused());
            assertEquals("dns1:z", Net.ask(c1, vs.localAddress(), "z"), "the existing reply socket serves on");
        }
    }

    /** Turning --ops on with -E: the next datagrams of a flow are each scheduled anew. */
    @Test
    void editTurnsItOnAndOff() throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build(); DatagramSocket c = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(dns1.address()).realServer(dns2.address()).build());
            String flow = Net.ask(c, vs.localAddress(), "f").substring(0, 4);
            assertEquals(flow + ":g", Net.ask(c, vs.localAddress(), "g"), "a flow sticks");
            vs.edit(vs.config().toBuilder().onePacket(true).build());
            String a = Net.ask(c, vs.localAddress(), "a").substring(0, 4);
            String b = Net.ask(c, vs.localAddress(), "b").substring(0, 4);
            assertTrue(!a.equals(b), "each datagram scheduled: " + a + ", " + b);
            vs.edit(vs.config().toBuilder().onePacket(false).build());
            assertEquals(flow + ":h", Net.ask(c, vs.localAddress(), "h"), "off again: the flow, still there, is used");
        }
    }

    @Test
    void aTcpServiceCannotHaveIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VirtualService.tcp(Net.ANY_LOOPBACK).onePacket(true).build());
        assertTrue(e.getMessage().contains("UDP services only"), e.getMessage());
        assertTrue(VirtualService.udp(Net.ANY_LOOPBACK).onePacket(true).build().toBuilder().build().onePacket(),
                "toBuilder keeps it");
    }
}
