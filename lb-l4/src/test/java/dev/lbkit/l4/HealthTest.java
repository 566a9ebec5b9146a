package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.TcpConnectProbe;
import dev.lbkit.testing.EchoServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What a failed health check does to a real server's listing, and the sorry server. */
@ExtendWith(LeakCheck.class)
class HealthTest {

    @Test
    void inhibitOnFailureListsWeightZeroAndRemoveHidesTheServer() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer inhibit = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .failureAction(FailureAction.INHIBIT).realServer(a.address()).realServer(b.address()).build());
            VirtualServer remove = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .failureAction(FailureAction.REMOVE).realServer(a.address()).realServer(b.address()).build());
            for (VirtualServer vs : new VirtualServer[] {inhibit, remove}) {
                Member m = vs.pool().member(dev.lbkit.api.Upstream.of(a.address()).key()).orElseThrow();
                // What an active check (keepalived TCP_CHECK) does on failure.
                m.checkDown(true, "connect refused");
            }
            IpvsStats.Service si = inhibit.stats();
            assertEquals(2, si.realServers().size());
            for (IpvsStats.RealServerStats d : si.realServers()) {
                assertEquals(d.address().equals(a.address()) ? 0 : 1, d.weight(), "inhibit_on_failure: weight 0");
            }
            assertEquals(1, remove.stats().realServers().size(), "removed from the listing");
            assertEquals(b.address(), remove.stats().realServers().get(0).address());
            for (int i = 0; i < 4; i++) {
                try (Socket s = Net.connect(i % 2 == 0 ? inhibit.localAddress() : remove.localAddress())) {
                    assertEquals("h", Net.echo(s, "h"));
                }
            }
            assertEquals(0, a.connectionCount(), "a failed server gets no new connections");
            remove.pool().member(dev.lbkit.api.Upstream.of(a.address()).key()).orElseThrow().checkDown(false, "ok");
            assertEquals(2, remove.stats().realServers().size(), "back in the listing when it recovers");
        }
    }

    @Test
    void sorryServerTakesClientsWhenNoRealServerIsLeft() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer sorry = EchoServer.greeting("sorry\n");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .sorryServer(sorry.address()).realServer(a.address()).build());
            try (Socket s = Net.connect(vs.localAddress())) {
                assertEquals("up", Net.echo(s, "up"));
            }
            vs.pool().member(dev.lbkit.api.Upstream.of(a.address()).key()).orElseThrow().checkDown(true, "down");
            try (Socket s = Net.connect(vs.localAddress())) {
                assertEquals("sorry\n", new String(Net.readAll(s.getInputStream()), java.nio.charset.StandardCharsets.UTF_8));
            }
            assertEquals(1, sorry.connectionCount());
            assertEquals(2, vs.stats().counters().conns(), "the sorry server's connections count for the service");
            assertEquals(0, vs.stats().noDestination());
            IpvsStats.Service st = vs.stats();
            assertEquals(1, st.realServers().size(), "the failed server is out, the sorry server in: " + st);
            assertEquals(sorry.address(), st.realServers().get(0).address());
            assertEquals(1, st.realServers().get(0).counters().conns());
            assertTrue(IpvsTable.render(lb.stats()).contains("  -> " + IpvsTable.addrPort(sorry.address())));
        }
    }

    /** A service whose address is in use never starts: its health checks stop with it. */
    @Test
    void aServiceThatCannotListenLeavesNoHealthCheckRunning() throws Exception {
        try (EchoServer a = EchoServer.echo();
                ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            ActiveHealthPolicy check = ActiveHealthPolicy.builder(TcpConnectProbe.create())
                    .interval(Duration.ofMillis(20)).timeout(Duration.ofMillis(200)).build();
            InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), busy.getLocalPort());
            assertThrows(IllegalStateException.class, () -> lb.addService(
                    VirtualService.tcp(at).scheduler("rr").healthPolicy(check).realServer(a.address()).build()));
            Thread.sleep(200);
            int probes = a.connectionCount();
            Thread.sleep(300);
            assertEquals(probes, a.connectionCount(), "probes after the failed addService");
        }
    }

    @Test
    void tcpCheckTakesADeadRealServerOutAndTheSorryServerTakesOverWhenNoneIsLeft() throws Exception {
        EchoServer a = EchoServer.echo();
        try (EchoServer b = EchoServer.echo(); EchoServer sorry = EchoServer.greeting("sorry\n");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            // keepalived TCP_CHECK: connect_timeout 200 ms, delay_loop 100 ms, down after one failure.
            ActiveHealthPolicy check = ActiveHealthPolicy.builder(TcpConnectProbe.create())
                    .interval(Duration.ofMillis(100)).timeout(Duration.ofMillis(200)).rise(1).fall(1).build();
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .healthPolicy(check).failureAction(FailureAction.INHIBIT).sorryServer(sorry.address())
                    .realServer(a.address()).realServer(b.address()).build());
            a.close();
            check.checkNow().toCompletableFuture().get(2, TimeUnit.SECONDS);
            Resources.await(2000, () -> vs.stats().realServers().stream()
                    .anyMatch(d -> d.address().equals(a.address()) && d.weight() == 0), "a inhibited");
            for (int i = 0; i < 3; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    assertEquals("b", Net.echo(s, "b"));
                }
            }
            assertEquals(3, vs.stats().realServers().stream().filter(d -> d.address().equals(b.address()))
                    .findFirst().orElseThrow().counters().conns(), "b takes every client (its probes are not counted)");
            b.close();
            check.checkNow().toCompletableFuture().get(2, TimeUnit.SECONDS);
            Resources.await(2000, () -> vs.stats().realServers().stream()
                    .allMatch(d -> d.weight() == 0 || d.address().equals(sorry.address())), "all down");
            assertTrue(vs.stats().realServers().stream().anyMatch(d -> d.address().equals(sorry.address())),
                    "the sorry server is listed while it stands in");
            try (Socket s = Net.connect(vs.localAddress())) {
                assertEquals("sorry\n", new String(Net.readAll(s.getInputStream()), java.nio.charset.StandardCharsets.UTF_8));
            }
        } finally {
            a.close();
        }
    }
}
