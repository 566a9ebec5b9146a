package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.Await;
import dev.lbkit.testing.EchoServer;
import dev.lbkit.transport.TransportType;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code VirtualService.expireNodestConn}, IPVS's {@code expire_nodest_conn = 1}: {@code ipvsadm -d}
 * breaks the removed real server's TCP connections and moves its UDP flows' next datagrams to another
 * real server; off (the default) they go on to it.
 */
@ExtendWith(LeakCheck.class)
class ExpireNodestConnTest {

    private static boolean listsDestination(L4Balancer lb, InetSocketAddress real) {
        return lb.connections().entries().stream().anyMatch(e -> e.destination().equals(real));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void removingARealServerResetsItsConnectionsOnBothSides(Forwarding f) throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = f.builder().build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .expireNodestConn(true).realServer(a.address()).realServer(b.address()).build());
            try (Socket s1 = Net.connectFrom("127.0.0.1", vs.localAddress())) {
                boolean s1OnA = a.connectionCount() == 1;
                try (Socket s2 = Net.connectFrom("127.0.0.1", vs.localAddress())) {
                    assertEquals(1, a.connectionCount(), "rr put one client on each real server");
                    Socket cut = s1OnA ? s1 : s2;
                    Socket kept = s1OnA ? s2 : s1;
                    assertTrue(vs.removeRealServer(a.address()));
                    assertThrows(SocketException.class, () -> cut.getInputStream().read(),
                            "the removed real server's client is reset");
                    Await.until(() -> a.openConnections() == 0);
                    assertEquals("on", Net.echo(kept, "on"), "the other real server's client goes on");
                    assertFalse(listsDestination(lb, a.address()), "its entry left the table, no TIME_WAIT");
                    assertTrue(vs.state().inTrash(a.address()));
                    Net.connectFrom("127.0.0.1", vs.localAddress()).close();
                    assertEquals(2, b.connectionCount(), "new clients go to the real server left");
                }
            }
            vs.addRealServer(RealServer.of(a.address()));
            IpvsStats.RealServerStats back = vs.stats().realServers().stream()
                    .filter(d -> d.address().equals(a.address())).findFirst().orElseThrow();
            assertEquals(0, back.activeConns() + back.inactiveConns(), "its connection is no longer counted on it");
            assertEquals(1, back.counters().conns(), "its counters stay");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void offRemovingARealServerLeavesItsConnectionsAlone(Forwarding f) throws Exception {
        try (EchoServer a = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, a.address());
            assertFalse(vs.config().expireNodestConn(), "off by default");
            try (Socket s = Net.connectFrom("127.0.0.1", vs.localAddress())) {
                assertTrue(vs.removeRealServer(a.address()));
                // An expiry would run in a task on the connection's loop: the listing runs after it.
                lb.connections();
                assertEquals("still", Net.echo(s, "still"), "the connection goes on to the removed real server");
                assertEquals(1, a.openConnections());
                assertTrue(listsDestination(lb, a.address()));
            }
        }
    }

    /**
     * A closed connection is counted for tcpfin (120 s here); expired with its real server, it leaves at
     * once, and nothing holds the removed real server but the trash period.
     */
    @Test
    void closedConnectionsOfTheRemovedServerLeaveTheTableAndOnlyTheTrashPeriodKeepsIt() throws Exception {
        try (EchoServer a = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).estimatorInterval(Duration.ofMillis(50))
                        .trashPeriod(Duration.ofMillis(300)).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .expireNodestConn(true).realServer(a.address()).build());
            Net.connectFrom("127.0.0.1", vs.localAddress()).close();
            Await.until(() -> lb.connections().entries().stream()
                    .anyMatch(e -> e.state() == IpvsConnections.State.TIME_WAIT));
            assertEquals(1, vs.stats().realServers().get(0).inactiveConns());
            vs.removeRealServer(a.address());
            Await.until(() -> lb.connections().entries().isEmpty());
            // 120 s of tcpfin are far off: only the trash period (300 ms) is left.
            Await.until(() -> !vs.state().inTrash(a.address()));
            vs.addRealServer(RealServer.of(a.address()));
            assertEquals(0, vs.stats().realServers().get(0).inactiveConns(), "a new real server");
        }
    }

    @Test
    void editTurnsItOnForLaterRemovals() throws Exception {
        try (EchoServer a = EchoServer.echo(); L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = Net.rrService(lb, a.address());
            vs.edit(vs.config().toBuilder().expireNodestConn(true).build());
            assertTrue(vs.config().expireNodestConn());
            assertTrue(vs.config().toBuilder().build().expireNodestConn(), "toBuilder keeps it");
            try (Socket s = Net.connectFrom("127.0.0.1", vs.localAddress())) {
                vs.removeRealServer(a.address());
                assertThrows(SocketException.class, () -> s.getInputStream().read());
            }
        }
    }

    /** One client's flow to each of two services, one with the option off (the default), one with it on. */
    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void aRemovedServersUdpFlowIsScheduledAgainAtItsNextDatagramOnlyWithTheOption(TransportType transport)
            throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(transport).build();
                DatagramSocket c = Net.udpClient("127.0.0.1")) {
            VirtualServer off = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(dns1.address()).realServer(dns2.address()).build());
            VirtualServer on = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .expireNodestConn(true).realServer(dns1.address()).build());
            assertEquals("dns1:a", Net.ask(c, on.localAddress(), "a"));
            on.addRealServer(RealServer.of(dns2.address()));
            assertEquals("dns1:b", Net.ask(c, on.localAddress(), "b"), "a flow sticks to its real server");
            String first = Net.ask(c, off.localAddress(), "x");
            InetSocketAddress offReal = first.startsWith("dns1") ? dns1.address() : dns2.address();

            off.removeRealServer(offReal);
            // An expiry would run in a task on the service's loop: the listing runs after it.
            lb.connections();
            assertEquals(first.substring(0, 5) + "y", Net.ask(c, off.localAddress(), "y"),
                    "off: the flow goes on to the removed real server");
            assertEquals(1, off.stats().counters().conns());

            int dns1Received = dns1.received.size();
            on.removeRealServer(dns1.address());
            // The flow is forgotten on the service's loop shortly after the removal.
            Await.until(() -> lb.connections().entries().stream().noneMatch(
                    e -> e.virtual().equals(on.localAddress()) && e.destination().equals(dns1.address())));
            assertEquals("dns2:c", Net.ask(c, on.localAddress(), "c"), "on: the next datagram is scheduled again");
            assertEquals(dns1Received, dns1.received.size(), "nothing more reached the removed real server");
            assertEquals(2, on.stats().counters().conns(), "a new flow");
            on.addRealServer(RealServer.of(dns1.address()));
            IpvsStats.RealServerStats back = on.stats().realServers().stream()
                    .filter(d -> d.address().equals(dns1.address())).findFirst().orElseThrow();
            assertEquals(0, back.inactiveConns(), "its flow is no longer counted on it");
            assertEquals(1, back.counters().conns(), "its counters stay");
        }
    }
}
