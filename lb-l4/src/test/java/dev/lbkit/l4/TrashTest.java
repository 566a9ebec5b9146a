package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.Await;
import dev.lbkit.testing.EchoServer;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code ipvsadm -d} then {@code -a} of a real server whose connections are still there: it comes back
 * from the trash with its counts, thresholds state and counters, as IPVS's {@code ip_vs_trash_get_dest}.
 */
@ExtendWith(LeakCheck.class)
class TrashTest {

    private static Optional<IpvsStats.RealServerStats> listed(VirtualServer vs, InetSocketAddress address) {
        return vs.stats().realServers().stream().filter(d -> d.address().equals(address)).findFirst();
    }

    @Test
    void aRealServerAddedBackResumesItsConnectionsThresholdsAndCounters() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            RealServer limited = RealServer.builder(a.address()).upperThreshold(2).build();
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(limited).build());
            try (Socket s1 = Net.connectFrom("127.0.0.1", vs.localAddress());
                    Socket s2 = Net.connectFrom("127.0.0.1", vs.localAddress())) {
                assertTrue(listed(vs, a.address()).orElseThrow().overloaded(), "-x 2 reached");
                assertTrue(vs.removeRealServer(a.address()));
                assertTrue(listed(vs, a.address()).isEmpty(), "ipvsadm -d: no longer listed");
                vs.addRealServer(RealServer.of(b.address()));
                assertEquals("on", Net.echo(s1, "on"), "established connections go on");

                vs.addRealServer(limited);
                IpvsStats.RealServerStats back = listed(vs, a.address()).orElseThrow();
                assertEquals(2, back.activeConns(), "its connections are counted on it again");
                assertEquals(0, back.inactiveConns());
                assertTrue(back.overloaded(), "and still hold it over -x");
                assertEquals(2, back.counters().conns(), "its counters resumed");
                long inPkts = back.counters().inPkts();
                for (int i = 0; i < 2; i++) {
                    try (Socket s = Net.connectFrom("127.0.0.1", vs.localAddress())) {
                        assertEquals("n", Net.echo(s, "n"));
                    }
                }
                assertEquals(2, a.connectionCount(), "overloaded: new clients go to b");
                assertEquals(2, b.connectionCount());
                assertEquals("again", Net.echo(s2, "again"));
                Await.until(() -> listed(vs, a.address()).orElseThrow().counters().inPkts() > inPkts);
            }
            // Closed, they count as inactive on the listed real server for tcpfin, as in IPVS.
            Await.until(() -> {
                IpvsStats.RealServerStats d = listed(vs, a.address()).orElseThrow();
                return d.activeConns() == 0 && d.inactiveConns() == 2;
            });
            assertFalse(vs.state().inTrash(a.address()));
        }
    }

    @Test
    void theTrashPeriodIsConfiguredAndARemovedServerIsKeptWhileItHasConnections() throws Exception {
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofMillis(200), Duration.ofSeconds(300));
        try (EchoServer a = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).timeouts(t)
                        .estimatorInterval(Duration.ofMillis(50)).trashPeriod(Duration.ofMillis(300)).build()) {
            VirtualServer vs = Net.rrService(lb, a.address());
            Socket s = Net.connectFrom("127.0.0.1", vs.localAddress());
            vs.removeRealServer(a.address());
            assertTrue(vs.state().inTrash(a.address()));
            // Three trash periods with the connection open: kept.
            Thread.sleep(900);
            assertTrue(vs.state().inTrash(a.address()), "kept while a connection refers to it");
            s.close();
            // Closed: counted for tcpfin (200 ms), then idle for the trash period (300 ms): forgotten.
            Await.until(() -> !vs.state().inTrash(a.address()));
            vs.addRealServer(RealServer.of(a.address()));
            IpvsStats.RealServerStats fresh = listed(vs, a.address()).orElseThrow();
            assertEquals(0, fresh.counters().conns(), "added after the trash period: a new real server");
            assertEquals(0, fresh.inactiveConns());
        }
        assertThrows(IllegalArgumentException.class, () -> L4Balancer.builder().trashPeriod(Duration.ofSeconds(-1)));
        assertEquals(Duration.ofSeconds(120), L4Balancer.DEFAULT_TRASH_PERIOD, "IPVS's IP_VS_DEST_TRASH_PERIOD");
    }

    @Test
    void withTheDefaultPeriodAnIdleRemovedServerIsStillTakenBack() throws Exception {
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofMillis(200), Duration.ofSeconds(300));
        try (EchoServer a = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).timeouts(t)
                        .estimatorInterval(Duration.ofMillis(50)).build()) {
            VirtualServer vs = Net.rrService(lb, a.address());
            Net.connectFrom("127.0.0.1", vs.localAddress()).close();
            vs.removeRealServer(a.address());
            Await.until(() -> lb.connections().entries().isEmpty());
            // Several estimator ticks with the real server idle: 120 s are far off.
            Thread.sleep(300);
            assertTrue(vs.state().inTrash(a.address()));
            vs.addRealServer(RealServer.of(a.address()));
            assertEquals(1, listed(vs, a.address()).orElseThrow().counters().conns());
        }
    }

    @Test
    void aPersistenceTemplateKeepsARemovedServerInTheTrashAndItsClientComesBack() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).estimatorInterval(Duration.ofMillis(50))
                        .timeouts(new Timeouts(Duration.ofSeconds(900), Duration.ofMillis(100), Duration.ofSeconds(300)))
                        .trashPeriod(Duration.ofMillis(100)).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .persistence(Duration.ofSeconds(300)).realServer(a.address()).realServer(b.address()).build());
            int aBefore = a.connectionCount();
            Net.connectFrom("127.0.0.1", vs.localAddress()).close();
            EchoServer kept = a.connectionCount() > aBefore ? a : b;
            vs.removeRealServer(kept.address());
            Await.until(() -> lb.connections().entries().stream().noneMatch(
                    e -> e.state() == IpvsConnections.State.TIME_WAIT));
            Thread.sleep(500);
            assertTrue(vs.state().inTrash(kept.address()), "IPVS counts templates as references to the server");
            vs.addRealServer(RealServer.of(kept.address()));
            Net.connectFrom("127.0.0.1", vs.localAddress()).close();
            assertEquals(2, kept.connectionCount(), "its template was not used meanwhile: the client comes back");
        }
    }

    @Test
    void aUdpFlowToARemovedServerKeepsGoingAndAddingItBackResumesItsCounts() throws Exception {
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
                DatagramSocket c1 = Net.udpClient("127.0.0.1");
                DatagramSocket c2 = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(dns1.address()).build());
            assertEquals("dns1:a", Net.ask(c1, vs.localAddress(), "a"));
            vs.removeRealServer(dns1.address());
            vs.addRealServer(RealServer.of(dns2.address()));
            assertEquals("dns1:b", Net.ask(c1, vs.localAddress(), "b"), "the flow keeps going to the removed real server");
            assertEquals("dns2:c", Net.ask(c2, vs.localAddress(), "c"), "a new flow goes to a listed one");
            vs.addRealServer(RealServer.of(dns1.address()));
            IpvsStats.RealServerStats back = listed(vs, dns1.address()).orElseThrow();
            assertEquals(1, back.inactiveConns(), "its flow is counted on it again");
            assertEquals(1, back.counters().conns());
            assertEquals(2, back.counters().inPkts());
            assertEquals(2, back.counters().outPkts());
        }
    }
}
