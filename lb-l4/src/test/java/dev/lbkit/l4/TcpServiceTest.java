package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.EchoServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(LeakCheck.class)
class TcpServiceTest {

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void forwardsBytesBothWaysOnEitherTransport(Forwarding f) throws Exception {
        try (EchoServer echo = EchoServer.echo();
                L4Balancer lb = f.builder().build()) {
            assertEquals(f.transport().name().toLowerCase(java.util.Locale.ROOT), lb.transport());
            assertEquals(f.zeroCopy(), lb.zeroCopy());
            VirtualServer vs = Net.rrService(lb, echo.address());
            byte[] data = new byte[1 << 20];
            new Random(42).nextBytes(data);
            try (Socket s = Net.connect(vs.localAddress())) {
                AtomicReference<IOException> failure = new AtomicReference<>();
                Thread writer = new Thread(() -> {
                    try {
                        OutputStream out = s.getOutputStream();
                        out.write(data);
                        out.flush();
                        s.shutdownOutput();
                    } catch (IOException e) {
                        failure.set(e);
                    }
                });
                writer.start();
                byte[] back = Net.readAll(s.getInputStream());
                writer.join(5000);
                assertEquals(null, failure.get());
                assertArrayEquals(data, back, "the echo ends with the echo server's FIN after ours");
            }
            IpvsStats.Service st = vs.stats();
            assertEquals(1, st.counters().conns());
            assertEquals(data.length, st.counters().inBytes());
            assertEquals(data.length, st.counters().outBytes());
            assertTrue(st.counters().inPkts() > 0 && st.counters().outPkts() > 0);
        }
    }

    @Test
    void anAddressInUseFailsAddServiceNamingTheAddressAndTheReason() throws Exception {
        try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            java.net.InetSocketAddress at = new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(),
                    busy.getLocalPort());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> lb.addService(
                    VirtualService.tcp(at).scheduler("rr").build()));
            assertTrue(e.getMessage().startsWith("cannot listen on " + at + ": ")
                    && e.getMessage().contains("Address already in use"), e.getMessage());
            assertTrue(lb.services().isEmpty());
        }
    }

    @Test
    void roundRobinAlternatesAndRuntimeEditsApplyToNewConnectionsOnly() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo(); EchoServer c = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(a.address()).realServer(b.address()).build());
            for (int i = 0; i < 4; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    assertEquals("x" + i, Net.echo(s, "x" + i));
                }
            }
            assertEquals(2, a.connectionCount());
            assertEquals(2, b.connectionCount());

            // An established connection to a survives weight 0 (quiesce) and removal (ipvsadm -e, -d).
            Socket held = Net.connect(vs.localAddress());
            assertEquals("held", Net.echo(held, "held"));
            int aBefore = a.connectionCount();
            int bBefore = b.connectionCount();
            EchoServer heldOn = aBefore > 2 ? a : b;
            EchoServer other = heldOn == a ? b : a;
            vs.editRealServer(RealServer.builder(heldOn.address()).weight(0).build());
            for (int i = 0; i < 3; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    assertEquals("q", Net.echo(s, "q"));
                }
            }
            assertEquals(heldOn == a ? aBefore : bBefore, heldOn.connectionCount(), "quiesced server gets no new connections");
            assertEquals((other == a ? aBefore : bBefore) + 3, other.connectionCount());
            assertTrue(vs.removeRealServer(heldOn.address()));
            vs.addRealServer(RealServer.of(c.address()));
            assertEquals("still", Net.echo(held, "still"), "established connection undisturbed");
            for (int i = 0; i < 2; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    assertEquals("n", Net.echo(s, "n"));
                }
            }
            assertEquals(1, c.connectionCount());
            held.close();

            // ipvsadm -D: the listener goes, new clients are refused by the kernel.
            vs.delete();
            assertTrue(lb.services().isEmpty());
            assertThrows(IOException.class, () -> Net.connect(vs.localAddress()).close());
        }
    }

    @Test
    void editChangesSchedulerKeepingRealServersAndCounters() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(a.address()).realServer(b.address()).build());
            try (Socket s = Net.connect(vs.localAddress())) {
                Net.echo(s, "1");
            }
            vs.edit(vs.config().toBuilder().connectTimeout(Duration.ofSeconds(1)).maxConnections(10).build());
            assertEquals(Duration.ofSeconds(1), vs.config().connectTimeout());
            assertEquals(2, vs.realServers().size());
            assertEquals(1, vs.stats().counters().conns());
        }
    }

    @Test
    void noRealServerClosesTheClientAndCountsIt() throws Exception {
        try (L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr").build());
            try (Socket s = Net.connect(vs.localAddress())) {
                InputStream in = s.getInputStream();
                assertEquals(-1, in.read());
            }
            assertEquals(1, vs.stats().noDestination());
        }
    }

    @Test
    void ratesAreEstimatedLikeTheIpvsEstimator() throws Exception {
        try (EchoServer echo = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).estimatorInterval(Duration.ofMillis(100)).build()) {
            VirtualServer vs = Net.rrService(lb, echo.address());
            for (int i = 0; i < 5; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    Net.echo(s, "rate");
                }
            }
            Resources.await(1000, () -> vs.stats().rates().cps() > 0 && vs.stats().rates().inBps() > 0
                    && vs.stats().realServers().get(0).rates().outPps() > 0, "rates after traffic");
            String rate = IpvsTable.renderRate(lb.stats());
            assertTrue(rate.split("\n")[3].startsWith("TCP  " + IpvsTable.addrPort(vs.localAddress())), rate);
            Resources.await(5000, () -> vs.stats().rates().cps() == 0, "rates decay when traffic stops");
        }
    }

    @Test
    void closingTheBalancerClosesEstablishedConnections() throws Exception {
        try (EchoServer echo = EchoServer.echo()) {
            L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
            VirtualServer vs = Net.rrService(lb, echo.address());
            try (Socket s = Net.connect(vs.localAddress())) {
                assertEquals("open", Net.echo(s, "open"));
                lb.close();
                int r;
                try {
                    r = s.getInputStream().read();
                } catch (IOException reset) {
                    r = -1;
                }
                assertEquals(-1, r, "the client sees its connection closed");
            }
            Resources.await(2000, () -> echo.openConnections() == 0, "the real server's side closed too");
        }
    }
}
