package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.BlackHole;
import dev.lbkit.testing.EchoServer;
import dev.lbkit.transport.TransportType;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code VirtualService.expireNodestConn}, IPVS's {@code expire_nodest_conn = 1}: {@code ipvsadm -d}
 * breaks the removed real server's TCP connections and moves its UDP flows' next datagrams to another
 * real server; off (the default) they go on to it. {@link NodestConn#DROP}, IPVS's 0, drops what the
 * clients send on them (replies pass) until the real server is added back.
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

    private static boolean listsTemplateOf(L4Balancer lb, InetSocketAddress real) {
        return lb.connections().entries().stream()
                .anyMatch(e -> e.state() == IpvsConnections.State.NONE && e.destination().equals(real));
    }

    /**
     * Linux 5.9's flush expires the deleted real server's persistence templates too: with a 300 s
     * {@code -p} they leave {@code -lnc} at the removal, and only the trash period (300 ms) holds the real
     * server after that.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void removalExpiresThePersistenceTemplatesOfTheRemovedServer(Forwarding f) throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = f.builder().estimatorInterval(Duration.ofMillis(50))
                        .trashPeriod(Duration.ofMillis(300)).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .persistence(Duration.ofSeconds(300)).expireNodestConn(true)
                    .realServer(a.address()).realServer(b.address()).build());
            try (Socket s = Net.connectFrom("127.0.0.1", vs.localAddress());
                    Socket other = Net.connectFrom("127.0.0.2", vs.localAddress())) {
                assertEquals("p", Net.echo(s, "p"));
                assertEquals("q", Net.echo(other, "q"));
                InetSocketAddress real = lb.connections().entries().stream()
                        .filter(e -> e.state() == IpvsConnections.State.NONE
                                && e.source().getAddress().getHostAddress().equals("127.0.0.1"))
                        .findFirst().orElseThrow().destination();
                InetSocketAddress kept = real.equals(a.address()) ? b.address() : a.address();
                assertTrue(vs.removeRealServer(real));
                assertFalse(listsTemplateOf(lb, real), "its template is gone at the removal");
                assertTrue(listsTemplateOf(lb, kept), "the other real server's template stays");
                assertThrows(SocketException.class, () -> s.getInputStream().read());
                assertEquals("on", Net.echo(other, "on"));
            }
            // 300 s of -p are far off: only the trash period is left.
            Await.until(() -> !vs.state().inTrash(a.address()) && !vs.state().inTrash(b.address()));
        }
    }

    private static Member member(VirtualServer vs, InetSocketAddress real) {
        return vs.pool().member(Upstream.of(real).key()).orElseThrow();
    }

    /**
     * keepalived runs {@code ipvsadm -d} for a real server its check failed ({@link FailureAction#REMOVE},
     * the default), so with the option its entries expire as at a removal; with
     * {@link FailureAction#INHIBIT} (weight 0, still a destination) they go on.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void aCheckFailureUnderRemoveExpiresTheServersEntriesAndUnderInhibitDoesNot(Forwarding f) throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            VirtualServer remove = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .persistence(Duration.ofSeconds(300)).expireNodestConn(true).realServer(a.address()).build());
            VirtualServer inhibit = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .failureAction(FailureAction.INHIBIT).expireNodestConn(true).realServer(b.address()).build());
            try (Socket r = Net.connectFrom("127.0.0.1", remove.localAddress());
                    Socket i = Net.connectFrom("127.0.0.1", inhibit.localAddress())) {
                assertEquals("r", Net.echo(r, "r"));
                assertEquals("i", Net.echo(i, "i"));
                assertTrue(listsTemplateOf(lb, a.address()));
                member(remove, a.address()).checkDown(true, "connect refused");
                member(inhibit, b.address()).checkDown(true, "connect refused");
                assertFalse(listsTemplateOf(lb, a.address()), "its template is gone at the failure");
                assertThrows(SocketException.class, () -> r.getInputStream().read(), "REMOVE: reset");
                Await.until(() -> a.openConnections() == 0);
                assertFalse(listsDestination(lb, a.address()), "its entry left the table, no TIME_WAIT");
                assertEquals("still", Net.echo(i, "still"), "INHIBIT: the connection goes on");
                assertTrue(listsDestination(lb, b.address()));
                member(remove, a.address()).checkDown(false, "ok");
                assertEquals(0, member(remove, a.address()).inactive(), "nothing left counted on it");
                try (Socket again = Net.connectFrom("127.0.0.1", remove.localAddress())) {
                    assertEquals("back", Net.echo(again, "back"), "back up, it takes clients again");
                }
            }
        }
    }

    /** The UDP side of a check failure under {@link FailureAction#REMOVE}: the flow is forgotten. */
    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void aCheckFailureUnderRemoveReschedulesTheServersUdpFlow(TransportType transport) throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(transport).build();
                DatagramSocket c = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .expireNodestConn(true).realServer(dns1.address()).build());
            assertEquals("dns1:a", Net.ask(c, vs.localAddress(), "a"));
            vs.addRealServer(RealServer.of(dns2.address()));
            member(vs, dns1.address()).checkDown(true, "no answer");
            Await.until(() -> !listsDestination(lb, dns1.address()));
            assertEquals("dns2:b", Net.ask(c, vs.localAddress(), "b"), "the next datagram is scheduled again");
            assertEquals(0, member(vs, dns1.address()).inactive(), "its flow is no longer counted on it");
        }
    }

    /** Off (the default), a check failure expires nothing, as IPVS's -d with expire_nodest_conn = 0. */
    @Test
    void offACheckFailureLeavesTheConnectionsAlone() throws Exception {
        try (EchoServer a = EchoServer.echo(); L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = Net.rrService(lb, a.address());
            try (Socket s = Net.connectFrom("127.0.0.1", vs.localAddress())) {
                assertEquals("x", Net.echo(s, "x"));
                member(vs, a.address()).checkDown(true, "connect refused");
                // An expiry would run in a task on the connection's loop: the listing runs after it.
                lb.connections();
                assertEquals("still", Net.echo(s, "still"));
            }
        }
    }

    /**
     * A client whose real server is still being connected (a black hole, 60 s connect timeout) is reset
     * at the removal, and its pending connect is closed at once: nothing is counted on the removed real
     * server, so the trash period (300 ms) alone holds it, not the connect timeout.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void aPendingConnectToTheRemovedServerIsClosedAtOnce(Forwarding f) throws Exception {
        try (BlackHole hole = BlackHole.start(new InetSocketAddress("127.0.0.1", 0));
                L4Balancer lb = f.builder().estimatorInterval(Duration.ofMillis(50))
                        .trashPeriod(Duration.ofMillis(300)).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .connectTimeout(Duration.ofSeconds(60)).expireNodestConn(true).realServer(hole.address()).build());
            try (Socket s = Net.connect(vs.localAddress())) {
                Await.until(() -> lb.connections().entries().stream()
                        .anyMatch(e -> e.state() == IpvsConnections.State.SYN_RECV));
                assertTrue(vs.removeRealServer(hole.address()));
                assertThrows(SocketException.class, () -> s.getInputStream().read(), "the client is reset");
                Await.until(() -> lb.connections().entries().isEmpty());
                Await.until(() -> !vs.state().inTrash(hole.address()));
            }
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

    /** How long a test waits to see that nothing arrives: what the balancer would forward comes far sooner. */
    private static final int NOTHING_MS = 300;

    private static String read(InputStream in, int n) throws Exception {
        byte[] b = in.readNBytes(n);
        return new String(b, StandardCharsets.US_ASCII);
    }

    private static void write(Socket s, String text) throws Exception {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    @Test
    void nodestConnIsForwardByDefaultAndTheBooleanMapsOntoIt() {
        VirtualService.Builder b = VirtualService.tcp(Net.ANY_LOOPBACK);
        assertEquals(NodestConn.FORWARD, b.build().nodestConn());
        assertEquals(NodestConn.EXPIRE, b.expireNodestConn(true).build().nodestConn());
        assertEquals(NodestConn.FORWARD, b.expireNodestConn(false).build().nodestConn());
        VirtualService drop = b.nodestConn(NodestConn.DROP).build();
        assertFalse(drop.expireNodestConn());
        assertEquals(NodestConn.DROP, drop.toBuilder().build().nodestConn(), "toBuilder keeps it");
    }

    /** What makes a real server no longer a destination, or one again. */
    private interface Change {
        void apply(VirtualServer vs, InetSocketAddress real) throws Exception;
    }

    /**
     * DROP: after {@code cut} the client's bytes stall (no reset) while the real server's still reach it;
     * {@code restore} delivers the stalled bytes and forwarding goes on.
     */
    private static void assertStallsUntilRestored(Forwarding f, Change cut, Change restore) throws Exception {
        assertStallsUntilRestored(f, b -> b.nodestConn(NodestConn.DROP), cut, restore);
    }

    /** As above, for a service that {@code settings} configure. */
    private static void assertStallsUntilRestored(Forwarding f, UnaryOperator<VirtualService.Builder> settings,
            Change cut, Change restore) throws Exception {
        try (ServerSocket real = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                L4Balancer lb = f.builder().build()) {
            InetSocketAddress address = (InetSocketAddress) real.getLocalSocketAddress();
            VirtualServer vs = lb.addService(settings.apply(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr"))
                    .realServer(address).build());
            try (Socket client = Net.connect(vs.localAddress()); Socket up = real.accept()) {
                client.setSoTimeout(10_000);
                up.setSoTimeout(10_000);
                write(client, "a");
                assertEquals("a", read(up.getInputStream(), 1));
                cut.apply(vs, address);
                // The drop runs in a task on the connection's loop: the listing runs after it.
                assertTrue(listsDestination(lb, address), "the entry stays");
                write(client, "b");
                up.setSoTimeout(NOTHING_MS);
                assertThrows(SocketTimeoutException.class, () -> up.getInputStream().read(),
                        "the client's bytes no longer reach the real server");
                write(up, "r");
                assertEquals("r", read(client.getInputStream(), 1), "its bytes still reach the client, unreset");
                up.setSoTimeout(10_000);
                restore.apply(vs, address);
                assertEquals("b", read(up.getInputStream(), 1), "the stalled bytes are delivered");
                write(client, "c");
                assertEquals("c", read(up.getInputStream(), 1));
            }
        }
    }

    /** DROP: {@code -d} stalls the client's bytes, {@code -a} within the trash period delivers them. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void dropStallsWhatTheClientSendsUntilTheRealServerIsAddedBack(Forwarding f) throws Exception {
        assertStallsUntilRestored(f, (vs, real) -> assertTrue(vs.removeRealServer(real)),
                (vs, real) -> vs.addRealServer(RealServer.of(real)));
    }

    /**
     * DROP with a health check: a failure under {@link FailureAction#REMOVE} (keepalived's {@code -d})
     * stalls the client's bytes, and the check coming back up delivers them.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void aCheckFailureUnderRemoveDropsUntilTheCheckIsUp(Forwarding f) throws Exception {
        assertStallsUntilRestored(f, (vs, real) -> member(vs, real).checkDown(true, "connect refused"),
                (vs, real) -> member(vs, real).checkDown(false, "ok"));
    }

    /**
     * {@code -E} from FORWARD to DROP stalls the connection of a real server removed before it, as IPVS
     * reads {@code expire_nodest_conn} at each packet; back to FORWARD delivers what waited.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void editingTheModeAppliesItToRealServersRemovedBefore(Forwarding f) throws Exception {
        assertStallsUntilRestored(f, b -> b, (vs, real) -> {
            assertTrue(vs.removeRealServer(real));
            vs.edit(vs.config().toBuilder().nodestConn(NodestConn.DROP).build());
        }, (vs, real) -> vs.edit(vs.config().toBuilder().nodestConn(NodestConn.FORWARD).build()));
    }

    /**
     * DROP with a check down under {@link FailureAction#INHIBIT} (still a destination, weight 0): {@code -E}
     * to REMOVE makes it no destination and stalls its connection, back to INHIBIT delivers.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void editingTheFailureActionReappliesTheModeToFailedRealServers(Forwarding f) throws Exception {
        assertStallsUntilRestored(f, b -> b.nodestConn(NodestConn.DROP).failureAction(FailureAction.INHIBIT),
                (vs, real) -> {
                    member(vs, real).checkDown(true, "connect refused");
                    vs.edit(vs.config().toBuilder().failureAction(FailureAction.REMOVE).build());
                }, (vs, real) -> vs.edit(vs.config().toBuilder().failureAction(FailureAction.INHIBIT).build()));
    }

    /** {@code -E} to EXPIRE resets the connection of a real server removed while the mode was FORWARD. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void editingToExpireExpiresTheEntriesOfRealServersRemovedBefore(Forwarding f) throws Exception {
        try (EchoServer a = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, a.address());
            try (Socket s = Net.connectFrom("127.0.0.1", vs.localAddress())) {
                assertTrue(vs.removeRealServer(a.address()));
                assertEquals("still", Net.echo(s, "still"), "FORWARD: it goes on to the removed real server");
                vs.edit(vs.config().toBuilder().nodestConn(NodestConn.EXPIRE).build());
                assertThrows(SocketException.class, () -> s.getInputStream().read(), "reset once EXPIRE is set");
                Await.until(() -> a.openConnections() == 0);
                assertFalse(listsDestination(lb, a.address()), "its entry left the table");
            }
        }
    }

    /**
     * DROP for UDP: after {@code -d} the client's datagrams reach no real server and are counted, the
     * removed real server's replies still reach the client; {@code -a} lets datagrams pass again.
     */
    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void dropDropsAUdpFlowsDatagramsButNotItsRepliesUntilTheRealServerIsAddedBack(TransportType transport)
            throws Exception {
        try (DatagramSocket real = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                UdpEcho other = new UdpEcho("other");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(transport).build();
                DatagramSocket c = Net.udpClient("127.0.0.1")) {
            InetSocketAddress address = (InetSocketAddress) real.getLocalSocketAddress();
            real.setSoTimeout(10_000);
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .nodestConn(NodestConn.DROP).realServer(address).build());
            send(c, vs.localAddress(), "a");
            DatagramPacket first = receive(real);
            assertEquals("a", text(first));
            InetSocketAddress flow = (InetSocketAddress) first.getSocketAddress();
            assertTrue(vs.removeRealServer(address));
            vs.addRealServer(RealServer.of(other.address()));
            // The drop runs in a task on the service's loop: the listing runs after it.
            assertTrue(listsDestination(lb, address), "the flow stays");
            send(c, vs.localAddress(), "b");
            Await.until(() -> vs.stats().nodestDropped() == 1);
            real.setSoTimeout(NOTHING_MS);
            assertThrows(SocketTimeoutException.class, () -> receive(real), "it did not reach the removed real server");
            assertEquals(0, other.received.size(), "nor another one: the flow stays on the removed real server");
            send(real, flow, "r");
            assertEquals("r", text(receive(c)), "its replies still reach the client");
            real.setSoTimeout(10_000);
            vs.addRealServer(RealServer.of(address));
            send(c, vs.localAddress(), "c");
            assertEquals("c", text(receive(real)), "added back: datagrams pass again");
            assertEquals(1, vs.stats().nodestDropped());
        }
    }

    /**
     * DROP: the client's dropped datagrams do not renew the flow's timer (IPVS restarts none for a dropped
     * packet), so the flow ends at its udp timeout (1 s here, the default being 300 s) while the client
     * keeps sending; its next datagram is then a new flow, to a real server left.
     */
    @Test
    void aDroppedUdpFlowEndsAtItsIdleTimeoutWhateverTheClientSends() throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1)
                        .timeouts(new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(120), Duration.ofSeconds(1)))
                        .build();
                DatagramSocket c = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .nodestConn(NodestConn.DROP).realServer(dns1.address()).build());
            assertEquals("dns1:a", Net.ask(c, vs.localAddress(), "a"));
            vs.removeRealServer(dns1.address());
            vs.addRealServer(RealServer.of(dns2.address()));
            Await.until(() -> {
                try {
                    send(c, vs.localAddress(), "b");
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                return !listsDestination(lb, dns1.address());
            });
            assertTrue(vs.stats().nodestDropped() > 0);
            assertEquals(1, dns1.received.size(), "nothing more reached the removed real server");
            // The reply may be to a "b" sent after the flow ended, which started the new flow.
            assertTrue(Net.ask(c, vs.localAddress(), "c").startsWith("dns2:"), "a new flow, to the real server left");
        }
    }

    private static void send(DatagramSocket from, InetSocketAddress to, String text) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        from.send(new DatagramPacket(b, b.length, to));
    }

    private static DatagramPacket receive(DatagramSocket s) throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        s.receive(p);
        return p;
    }

    private static String text(DatagramPacket p) {
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
    }
}
