package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.EchoServer;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Faults and bad input with real sockets; every test ends with no leaked buffer or descriptor. */
@ExtendWith(LeakCheck.class)
class FaultTest {

    private static L4Balancer balancer() {
        return L4Balancer.builder().ioThreads(1).build();
    }

    /** A one-connection backend on a plain ServerSocket whose behaviour the test scripts. */
    private static final class OneShot implements AutoCloseable {
        final ServerSocket server;
        final CompletableFuture<Socket> accepted = new CompletableFuture<>();

        OneShot() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                try {
                    Socket s = server.accept();
                    s.setSoTimeout(5000);
                    accepted.complete(s);
                } catch (IOException e) {
                    accepted.completeExceptionally(e);
                }
            });
            t.setDaemon(true);
            t.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
        }

        Socket socket() throws Exception {
            return accepted.get(5, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws IOException {
            server.close();
            if (accepted.isDone() && !accepted.isCompletedExceptionally()) {
                accepted.join().close();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void serverFinLeavesTheClientToServerDirectionOpen(Forwarding f) throws Exception {
        try (OneShot backend = new OneShot(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, backend.address());
            try (Socket client = Net.connect(vs.localAddress())) {
                Socket server = backend.socket();
                server.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                server.shutdownOutput();
                assertEquals("hello", new String(Net.readAll(client.getInputStream()), StandardCharsets.US_ASCII));
                client.getOutputStream().write("after-fin".getBytes(StandardCharsets.US_ASCII));
                client.shutdownOutput();
                assertEquals("after-fin", new String(Net.readAll(server.getInputStream()), StandardCharsets.US_ASCII));
            }
            Resources.await(2000, () -> vs.stats().realServers().get(0).inactiveConns() == 1, "inactive after close");
            assertEquals(0, vs.stats().realServers().get(0).activeConns());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void clientResetIsPropagatedAsReset(Forwarding f) throws Exception {
        try (OneShot backend = new OneShot(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, backend.address());
            Socket client = Net.connect(vs.localAddress());
            client.getOutputStream().write('x');
            Socket server = backend.socket();
            assertEquals('x', server.getInputStream().read());
            client.setSoLinger(true, 0);
            client.close();
            InputStream in = server.getInputStream();
            assertThrows(SocketException.class, () -> in.read(), "the real server sees a reset, not a FIN");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void serverResetIsPropagatedAsReset(Forwarding f) throws Exception {
        try (OneShot backend = new OneShot(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, backend.address());
            try (Socket client = Net.connect(vs.localAddress())) {
                client.getOutputStream().write('x');
                Socket server = backend.socket();
                assertEquals('x', server.getInputStream().read());
                server.setSoLinger(true, 0);
                server.close();
                InputStream in = client.getInputStream();
                assertThrows(SocketException.class, () -> in.read(), "the client sees a reset, not a FIN");
            }
            Resources.await(2000, () -> vs.stats().realServers().get(0).activeConns() == 0, "released");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void realServerDyingMidStreamClosesTheClientAndCountsRight(Forwarding f) throws Exception {
        try (EchoServer echo = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, echo.address());
            try (Socket client = Net.connect(vs.localAddress())) {
                assertEquals("before", Net.echo(client, "before"));
                assertEquals(1, vs.stats().realServers().get(0).activeConns());
                echo.close();
                int r;
                try {
                    r = client.getInputStream().read();
                } catch (SocketException reset) {
                    r = -1;
                }
                assertEquals(-1, r, "client sees the connection closed");
            }
            Resources.await(2000, () -> {
                IpvsStats.RealServerStats d = vs.stats().realServers().get(0);
                return d.activeConns() == 0 && d.inactiveConns() == 1;
            }, "0 active, 1 inactive");
            assertEquals(1, vs.stats().counters().conns());
        }
    }

    /** A listener on loopback whose accept queue is full: a connect to it hangs like a black hole. */
    private static final class BlackHole implements AutoCloseable {
        final ServerSocket server;
        final List<Socket> fillers = new ArrayList<>();

        BlackHole() throws IOException {
            server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            for (int i = 0; i < 16; i++) {
                Socket s = new Socket();
                try {
                    s.connect(address(), 200);
                    fillers.add(s);
                } catch (SocketTimeoutException full) {
                    s.close();
                    return;
                }
            }
            throw new IllegalStateException("accept queue never filled");
        }

        InetSocketAddress address() {
            return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
        }

        @Override
        public void close() throws IOException {
            for (Socket s : fillers) {
                s.close();
            }
            server.close();
        }
    }

    @Test
    void connectTimeoutMovesTheClientToTheNextRealServer() throws Exception {
        try (BlackHole hole = new BlackHole(); EchoServer echo = EchoServer.echo(); L4Balancer lb = balancer()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .connectTimeout(Duration.ofMillis(300))
                    .realServer(hole.address()).realServer(echo.address()).build());
            for (int i = 0; i < 4; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    assertEquals("ok" + i, Net.echo(s, "ok" + i));
                }
            }
            assertEquals(4, echo.connectionCount());
            IpvsStats.Service st = vs.stats();
            assertEquals(4, st.counters().conns());
            for (IpvsStats.RealServerStats d : st.realServers()) {
                assertEquals(d.address().equals(echo.address()) ? 4 : 0, d.counters().conns(), d.toString());
            }
        }
    }

    /**
     * IPVS counts a connection whose real server has not answered (SYN_RECV) in InActConn, as every state
     * but ESTABLISHED (set_tcp_state); it becomes active when the connect succeeds, and a failed connect
     * leaves nothing counted on its real server.
     */
    @Test
    void aConnectionIsInactiveUntilItsRealServerAnswers() throws Exception {
        try (BlackHole hole = new BlackHole(); EchoServer echo = EchoServer.echo(); L4Balancer lb = balancer()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .connectTimeout(Duration.ofMillis(2000)).realServer(hole.address()).sorryServer(echo.address())
                    .build());
            try (Socket client = Net.connect(vs.localAddress())) {
                Resources.await(1500, () -> !lb.connections().entries().isEmpty(), "the entry");
                assertEquals(IpvsConnections.State.SYN_RECV, lb.connections().entries().get(0).state());
                IpvsStats.RealServerStats connecting = statsOf(vs, hole.address());
                assertEquals(0, connecting.activeConns(), "SYN_RECV is not ActiveConn");
                assertEquals(1, connecting.inactiveConns(), "SYN_RECV is InActConn");
                assertEquals("s", Net.echo(client, "s"), "served by the sorry server after the timeout");
                IpvsStats.RealServerStats failed = statsOf(vs, hole.address());
                assertEquals(0, failed.activeConns() + failed.inactiveConns(), "the failed connect is forgotten");
                IpvsStats.RealServerStats sorry = statsOf(vs, echo.address());
                assertEquals(1, sorry.activeConns(), "ESTABLISHED is ActiveConn");
                assertEquals(0, sorry.inactiveConns());
            }
            Resources.await(2000, () -> {
                IpvsStats.RealServerStats sorry = statsOf(vs, echo.address());
                return sorry.activeConns() == 0 && sorry.inactiveConns() == 1;
            }, "inactive after the close");
        }
    }

    private static IpvsStats.RealServerStats statsOf(VirtualServer vs, InetSocketAddress address) {
        return vs.stats().realServers().stream().filter(d -> d.address().equals(address)).findFirst().orElseThrow();
    }

    /**
     * At the client's FIN epoll and io_uring read the whole socket even with reads off, so an upload and
     * its FIN sent while the real server is being connected reach the balancer before the connect ends:
     * more than 64 KiB of them must still go whole to the server that answers (here the sorry server,
     * after the black hole's connect timeout), not reset the client.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void anUploadAndFinWhileConnectingGoWholeToTheNextServer(Forwarding f) throws Exception {
        try (BlackHole hole = new BlackHole(); EchoServer echo = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .connectTimeout(Duration.ofMillis(1000)).realServer(hole.address()).sorryServer(echo.address())
                    .build());
            uploadAndFinIsEchoed(vs);
            assertEquals(1, echo.connectionCount());
        }
    }

    /** The same with a real server that answers at once, as {@code nc -N host port < file} sends. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void anUploadAndFinRightAfterConnectingGoWhole(Forwarding f) throws Exception {
        try (EchoServer echo = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            uploadAndFinIsEchoed(Net.rrService(lb, echo.address()));
        }
    }

    /** Writes 100 KiB and a FIN at once, then reads until the balancer's FIN: all of it comes back. */
    private static void uploadAndFinIsEchoed(VirtualServer vs) throws Exception {
        byte[] data = new byte[100 * 1024];
        new Random(1).nextBytes(data);
        try (Socket client = Net.connect(vs.localAddress())) {
            client.setSoTimeout(10_000);
            CompletableFuture<byte[]> back = Net.readAllAsync(client);
            client.getOutputStream().write(data);
            client.shutdownOutput();
            assertArrayEquals(data, back.get(15, TimeUnit.SECONDS));
        }
    }

    @Test
    void withoutFailoverAConnectFailureClosesTheClient() throws Exception {
        // A port bound but not listening refuses connects, and no other socket can take it while it is held;
        // a closed listener's port could be bound by a server of a test running beside this one.
        try (Socket refusing = new Socket(); EchoServer echo = EchoServer.echo(); L4Balancer lb = balancer()) {
            refusing.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            InetSocketAddress closed = (InetSocketAddress) refusing.getLocalSocketAddress();
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr").failover(false)
                    .realServer(closed).realServer(echo.address()).build());
            int served = 0;
            int closedOnClient = 0;
            for (int i = 0; i < 4; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    try {
                        assertEquals("z", Net.echo(s, "z"));
                        served++;
                    } catch (IOException | AssertionError e) {
                        closedOnClient++;
                    }
                }
            }
            assertEquals(2, served);
            assertEquals(2, closedOnClient);
            vs.edit(vs.config().toBuilder().failover(true).build());
            for (int i = 0; i < 4; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    assertEquals("f", Net.echo(s, "f"), "refused connect fails over");
                }
            }
        }
    }

    @Test
    void floodBeyondTheServiceLimitIsRefusedCleanlyAndCounted() throws Exception {
        try (EchoServer echo = EchoServer.echo(); L4Balancer lb = balancer()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr").maxConnections(5)
                    .realServer(echo.address()).build());
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    Socket s = Net.connect(vs.localAddress());
                    held.add(s);
                    assertEquals("in", Net.echo(s, "in"));
                }
                for (int i = 0; i < 40; i++) {
                    try (Socket s = Net.connect(vs.localAddress())) {
                        assertEquals(-1, s.getInputStream().read(), "refused: closed at once");
                    }
                }
                assertEquals(40, vs.stats().refused());
                assertEquals(5, echo.connectionCount());
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            Resources.await(2000, () -> {
                try (Socket s = Net.connect(vs.localAddress())) {
                    return "again".equals(Net.echo(s, "again"));
                } catch (IOException e) {
                    return false;
                }
            }, "a slot frees after close");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void aClientThatNeverReadsHoldsBoundedMemory(Forwarding f) throws Exception {
        try (EchoServer echo = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, echo.address());
            Socket client = Net.connect(vs.localAddress());
            client.setReceiveBufferSize(64 * 1024);
            Streams.BlockedWriter writer = Streams.writeUntilBlocked(client);
            assertTrue(writer.written() < Streams.BlockedWriter.LIMIT, "the writer is blocked by back-pressure");
            long used = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory()
                    + ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedHeapMemory();
            assertTrue(used < 8L * 1024 * 1024, "balancer buffers stay bounded, used " + used);
            client.close();
            writer.thread().join(5000);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void idleEstablishedConnectionIsClosedAfterTheTcpTimeout(Forwarding f) throws Exception {
        Timeouts t = new Timeouts(Duration.ofMillis(300), Duration.ofMillis(300), Duration.ofSeconds(1));
        try (OneShot backend = new OneShot(); L4Balancer lb = f.builder().timeouts(t).build()) {
            VirtualServer vs = Net.rrService(lb, backend.address());
            try (Socket client = Net.connect(vs.localAddress())) {
                client.getOutputStream().write('x');
                Socket server = backend.socket();
                assertEquals('x', server.getInputStream().read());
                long start = System.nanoTime();
                assertEquals(-1, client.getInputStream().read(), "closed by the idle timeout");
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ms >= 200 && ms < 3000, "closed after " + ms + " ms");
                assertEquals(-1, server.getInputStream().read());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void halfClosedConnectionIsClosedAfterTheTcpfinTimeout(Forwarding f) throws Exception {
        Timeouts t = new Timeouts(Duration.ofSeconds(30), Duration.ofMillis(300), Duration.ofSeconds(1));
        try (OneShot backend = new OneShot(); L4Balancer lb = f.builder().timeouts(t).build()) {
            VirtualServer vs = Net.rrService(lb, backend.address());
            try (Socket client = Net.connect(vs.localAddress())) {
                client.getOutputStream().write('x');
                client.shutdownOutput();
                Socket server = backend.socket();
                assertEquals('x', server.getInputStream().read());
                assertEquals(-1, server.getInputStream().read(), "FIN forwarded");
                long start = System.nanoTime();
                assertEquals(-1, client.getInputStream().read(), "closed by the tcpfin timeout");
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ms < 3000, "closed after " + ms + " ms, well before the 30 s tcp timeout");
            }
        }
    }
}
