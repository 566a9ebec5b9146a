package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.transport.TransportType;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** One UDP virtual service in front of two DNS-like UDP servers. */
@ExtendWith(LeakCheck.class)
class UdpServiceTest {

    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void flowsAreScheduledPerClientAndRepliesFindTheirClient(TransportType transport) throws Exception {
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(120), Duration.ofMillis(400));
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(transport).timeouts(t).build();
                DatagramSocket c1 = Net.udpClient("127.0.0.1"); DatagramSocket c2 = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(dns1.address()).realServer(dns2.address()).build());
            String r1 = Net.ask(c1, vs.localAddress(), "a.example");
            String r2 = Net.ask(c2, vs.localAddress(), "b.example");
            String server1 = r1.substring(0, 4);
            String server2 = r2.substring(0, 4);
            assertNotEquals(server1, server2, "two flows, rr puts them on both servers");
            assertEquals(server1 + ":a.example", r1);
            for (int i = 0; i < 5; i++) {
                assertEquals(server1 + ":q" + i, Net.ask(c1, vs.localAddress(), "q" + i), "a flow sticks to its server");
            }
            IpvsStats.Service st = vs.stats();
            assertEquals(2, st.counters().conns());
            assertEquals(7, st.counters().inPkts());
            assertEquals(7, st.counters().outPkts());
            for (IpvsStats.RealServerStats d : st.realServers()) {
                assertEquals(0, d.activeConns());
                assertEquals(1, d.inactiveConns(), "IPVS lists UDP entries as InActConn");
            }
            Resources.await(3000, () -> vs.stats().realServers().stream().allMatch(d -> d.inactiveConns() == 0),
                    "flows expire after the udp timeout");
            Net.ask(c1, vs.localAddress(), "new-flow");
            assertEquals(3, vs.stats().counters().conns());
        }
    }

    @Test
    void theFlowTableIsBounded() throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
                DatagramSocket c1 = Net.udpClient("127.0.0.1"); DatagramSocket c2 = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr").maxFlows(1)
                    .realServer(dns1.address()).build());
            assertEquals("dns1:x", Net.ask(c1, vs.localAddress(), "x"));
            c2.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, () -> Net.ask(c2, vs.localAddress(), "y"), "dropped");
            assertEquals(1, vs.stats().refused());
            assertEquals("dns1:z", Net.ask(c1, vs.localAddress(), "z"));
        }
    }

    @Test
    void noRealServerDropsAndCounts() throws Exception {
        try (L4Balancer lb = L4Balancer.builder().ioThreads(1).build(); DatagramSocket c1 = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr").build());
            c1.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, () -> Net.ask(c1, vs.localAddress(), "x"));
            assertEquals(1, vs.stats().noDestination());
            assertEquals("UDP  " + IpvsTable.addrPort(vs.localAddress()) + " rr", IpvsTable.render(lb.stats()).split("\n")[3]);
        }
    }

    /**
     * IPVS keys a connection entry by client and virtual address and port, so one client socket sending to
     * two addresses of a wildcard service has two flows.
     */
    @Test
    void aClientSendingToTwoAddressesOfAWildcardServiceOnEpollHasAFlowForEach() throws Exception {
        WildcardChild.run(OneClientTwoAddresses.class);
    }

    /** {@link #aClientSendingToTwoAddressesOfAWildcardServiceOnEpollHasAFlowForEach}'s child: prints OK or fails. */
    static final class OneClientTwoAddresses {
        public static void main(String[] args) throws Exception {
            WildcardChild.runAndExit(UdpServiceTest::oneClientSendingToTwoAddressesHasTwoFlows);
        }
    }

    private static void oneClientSendingToTwoAddressesHasTwoFlows() throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(TransportType.EPOLL).build();
                DatagramSocket c = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(new InetSocketAddress("0.0.0.0", 0)).scheduler("rr")
                    .realServer(dns1.address()).realServer(dns2.address()).build());
            InetSocketAddress to2 = new InetSocketAddress("127.0.0.2", vs.localAddress().getPort());
            InetSocketAddress to3 = new InetSocketAddress("127.0.0.3", vs.localAddress().getPort());
            // Net.ask checks that each reply comes from the address its question was sent to.
            String server2 = Net.ask(c, to2, "a").substring(0, 4);
            String server3 = Net.ask(c, to3, "b").substring(0, 4);
            assertNotEquals(server2, server3, "two flows, rr puts them on both servers");
            for (int i = 0; i < 3; i++) {
                assertEquals(server2 + ":q" + i, Net.ask(c, to2, "q" + i));
                assertEquals(server3 + ":r" + i, Net.ask(c, to3, "r" + i));
            }
            assertEquals(2, vs.stats().counters().conns());
            List<IpvsConnections.Entry> flows = lb.connections().entries();
            assertEquals(Set.of(to2, to3), flows.stream().map(IpvsConnections.Entry::virtual).collect(Collectors.toSet()),
                    flows.toString());
            assertTrue(flows.stream().allMatch(e -> e.source().equals(c.getLocalSocketAddress())), flows.toString());
            String listing = IpvsTable.renderConnections(lb.connections());
            assertTrue(listing.contains(" " + IpvsTable.addrPort(to2) + " ")
                    && listing.contains(" " + IpvsTable.addrPort(to3) + " "), listing);
        }
    }
}
