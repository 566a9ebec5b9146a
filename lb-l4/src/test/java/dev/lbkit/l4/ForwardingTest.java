package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.EchoServer;
import dev.lbkit.transport.TransportType;
import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Byte-exact forwarding under load, half-close and back-pressure, copying and splicing alike (the
 * splicing cases run where epoll loads). Every test ends with no leaked buffer or descriptor.
 */
@ExtendWith(LeakCheck.class)
class ForwardingTest {
    private static final int MIB = 1 << 20;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void sixteenMebibytesBothWaysArriveByteExactAndAreCounted(Forwarding f) throws Exception {
        try (EchoServer echo = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, echo.address());
            byte[] data = Streams.bytes(16, 16 * MIB);
            try (Socket s = Net.connect(vs.localAddress())) {
                s.setSoTimeout(15_000);
                CompletableFuture<Void> w = Streams.write(s, data, 1, 256 * 1024, 0);
                Streams.Received got = Streams.get(Streams.read(s, 2, 256 * 1024, 0, 0));
                Streams.get(w);
                assertEquals(new Streams.Received(data.length, Streams.crc(data)), got);
            }
            Resources.await(2000, () -> vs.stats().realServers().get(0).activeConns() == 0, "closed");
            IpvsStats.Counters c = vs.stats().counters();
            assertEquals(1, c.conns());
            assertEquals(data.length, c.inBytes());
            assertEquals(data.length, c.outBytes());
            assertTrue(c.inPkts() > 0 && c.inPkts() <= data.length / 1024, "reads from the client: " + c.inPkts());
            assertTrue(c.outPkts() > 0 && c.outPkts() <= data.length / 1024, "reads from the server: " + c.outPkts());
        }
    }

    /**
     * The case that lost data with Netty's spliceTo: the client's FIN arrives while forwarding is
     * paused because the real server does not read; nothing may be lost when it reads at last.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void clientFinWhileBackPressurePausesForwardingLosesNothing(Forwarding f) throws Exception {
        try (Streams.OneConnection backend = new Streams.OneConnection(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, backend.address());
            byte[] data = Streams.bytes(3, 4 * MIB);
            try (Socket client = Net.connect(vs.localAddress())) {
                CompletableFuture<Void> w = Streams.write(client, data, 4, 64 * 1024, 0);
                Socket server = backend.socket();
                // The server reads nothing for 700 ms: the client writes all it can and sends its FIN.
                Streams.Received got = Streams.get(Streams.read(server, 5, 8 * 1024, 700, 2));
                Streams.get(w);
                assertEquals(new Streams.Received(data.length, Streams.crc(data)), got);
                // The other direction is still open after the client's FIN.
                server.getOutputStream().write("after".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                server.shutdownOutput();
                assertEquals("after", new String(Net.readAll(client.getInputStream()),
                        java.nio.charset.StandardCharsets.US_ASCII));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void serverFinWhileBackPressurePausesForwardingLosesNothing(Forwarding f) throws Exception {
        try (Streams.OneConnection backend = new Streams.OneConnection(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, backend.address());
            byte[] data = Streams.bytes(6, 4 * MIB);
            try (Socket client = Net.connect(vs.localAddress())) {
                client.setSoTimeout(15_000);
                client.getOutputStream().write('x');
                Socket server = backend.socket();
                assertEquals('x', server.getInputStream().read());
                CompletableFuture<Void> w = Streams.write(server, data, 7, 64 * 1024, 0);
                Streams.Received got = Streams.get(Streams.read(client, 8, 8 * 1024, 700, 2));
                Streams.get(w);
                assertEquals(new Streams.Received(data.length, Streams.crc(data)), got);
            }
        }
    }

    /**
     * Both ends send at once and half-close at once, right after connecting: bytes and FINs that arrive
     * while the real server is being connected or while the connection is handed over to the splice
     * pump arrive whole and in order.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void bytesAndFinsRightAfterConnectArriveWhole(Forwarding f) throws Exception {
        for (int i = 0; i < 20; i++) {
            try (Streams.OneConnection backend = new Streams.OneConnection(); L4Balancer lb = f.builder().build()) {
                VirtualServer vs = Net.rrService(lb, backend.address());
                byte[] up = Streams.bytes(i, 1000 + 3000 * i);
                byte[] down = Streams.bytes(~i, 500 + 2000 * i);
                try (Socket client = Net.connect(vs.localAddress())) {
                    client.getOutputStream().write(up);
                    client.shutdownOutput();
                    Socket server = backend.socket();
                    server.getOutputStream().write(down);
                    server.shutdownOutput();
                    assertEquals(new Streams.Received(up.length, Streams.crc(up)),
                            Streams.get(Streams.read(server, i, 4096, 0, 0)), "client to server, try " + i);
                    assertEquals(new Streams.Received(down.length, Streams.crc(down)),
                            Streams.get(Streams.read(client, i, 4096, 0, 0)), "server to client, try " + i);
                }
            }
        }
    }

    /** A client reset while forwarding is paused by a reader that does not read reaches the real server as a reset. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void resetWhileBackPressurePausesForwardingIsPropagated(Forwarding f) throws Exception {
        try (Streams.OneConnection backend = new Streams.OneConnection(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, backend.address());
            Socket client = Net.connect(vs.localAddress());
            CompletableFuture<Void> w = Streams.write(client, Streams.bytes(20, 64 * MIB), 21, 64 * 1024, 0);
            Socket server = backend.socket();
            Thread.sleep(300);
            assertFalse(w.isDone(), "the writer is held back");
            client.setSoLinger(true, 0);
            client.close();
            byte[] buf = new byte[64 * 1024];
            assertThrows(java.net.SocketException.class, () -> {
                while (server.getInputStream().read(buf) >= 0) {
                    // Bytes forwarded before the reset may come first.
                }
            }, "the real server sees a reset, not a FIN");
            Resources.await(2000, () -> vs.stats().realServers().get(0).activeConns() == 0, "released");
        }
    }

    /** Each side half-closes while the other keeps sending a bulk stream; both streams arrive whole. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void halfCloseInEachDirectionWhileTheOtherKeepsSending(Forwarding f) throws Exception {
        for (boolean clientFirst : new boolean[] {true, false}) {
            try (Streams.OneConnection backend = new Streams.OneConnection(); L4Balancer lb = f.builder().build()) {
                VirtualServer vs = Net.rrService(lb, backend.address());
                byte[] small = Streams.bytes(9, 1000);
                byte[] bulk = Streams.bytes(10, 3 * MIB);
                try (Socket client = Net.connect(vs.localAddress())) {
                    client.setSoTimeout(15_000);
                    client.getOutputStream().write('x');
                    Socket server = backend.socket();
                    assertEquals('x', server.getInputStream().read());
                    Socket finisher = clientFirst ? client : server;
                    Socket sender = clientFirst ? server : client;
                    CompletableFuture<Streams.Received> atSender = Streams.read(sender, 11, 4096, 0, 0);
                    CompletableFuture<Streams.Received> atFinisher = Streams.read(finisher, 12, 16 * 1024, 0, 0);
                    Streams.get(Streams.write(finisher, small, 13, 100, 0));
                    assertEquals(new Streams.Received(small.length, Streams.crc(small)), Streams.get(atSender),
                            "the half-closed side's bytes and FIN arrive");
                    Streams.get(Streams.write(sender, bulk, 14, 64 * 1024, 1));
                    assertEquals(new Streams.Received(bulk.length, Streams.crc(bulk)), Streams.get(atFinisher),
                            "the open direction keeps flowing after the FIN, clientFirst=" + clientFirst);
                }
            }
        }
    }

    /**
     * A client that never reads: the writer is stopped by back-pressure, and a spliced connection holds
     * at most one pipe per direction (no growth of the process's descriptors while it is stuck).
     */
    @Test
    void aSplicedClientThatNeverReadsHoldsAtMostOnePipePerDirection() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(!Forwarding.splice().isEmpty(), "epoll not available");
        try (EchoServer echo = EchoServer.echo(); L4Balancer lb = Forwarding.splice().get(0).builder().build()) {
            VirtualServer vs = Net.rrService(lb, echo.address());
            Socket client = Net.connect(vs.localAddress());
            assertEquals("x", Net.echo(client, "x"));
            int fdsOpen = Resources.openFds();
            Streams.BlockedWriter writer = Streams.writeUntilBlocked(client);
            assertTrue(writer.written() < Streams.BlockedWriter.LIMIT, "the writer is blocked by back-pressure");
            int fdsStuck = Resources.openFds();
            assertTrue(fdsStuck <= fdsOpen + 4, "two pipes at most: " + fdsOpen + " -> " + fdsStuck);
            client.close();
            writer.thread().join(5000);
        }
    }

    /** Deleting the service stops new connections; a transfer under way finishes byte-exact. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void deletingTheServiceLetsATransferUnderWayFinish(Forwarding f) throws Exception {
        try (EchoServer echo = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = Net.rrService(lb, echo.address());
            byte[] data = Streams.bytes(15, 4 * MIB);
            try (Socket s = Net.connect(vs.localAddress())) {
                s.setSoTimeout(15_000);
                CompletableFuture<Streams.Received> r = Streams.read(s, 16, 64 * 1024, 0, 0);
                CompletableFuture<Void> w = Streams.write(s, data, 17, 64 * 1024, 2);
                Thread.sleep(50);
                vs.delete();
                assertThrows(IOException.class, () -> Net.connect(vs.localAddress()).close(), "not listening");
                Streams.get(w);
                assertEquals(new Streams.Received(data.length, Streams.crc(data)), Streams.get(r));
            }
            assertFalse(lb.service(Protocol.TCP, vs.localAddress()).isPresent());
        }
    }

    /**
     * No read (copying) or splice takes more than {@link L4Balancer.Builder#bufferSize} from a socket: the
     * real server reads nothing for 500 ms, so the client's bytes pile up in the kernel and every read
     * could take more. {@code InPkts} counts one per read or splice, so it is at least bytes ÷ size.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void noReadOrSpliceTakesMoreThanTheBufferSize(Forwarding f) throws Exception {
        for (int size : new int[] {L4Balancer.MIN_BUFFER_SIZE * 4, L4Balancer.DEFAULT_BUFFER_SIZE}) {
            L4Balancer.Builder b = f.builder();
            if (size != L4Balancer.DEFAULT_BUFFER_SIZE) {
                b.bufferSize(size); // the default is what a builder not told gets
            }
            try (Streams.OneConnection backend = new Streams.OneConnection(); L4Balancer lb = b.build()) {
                assertEquals(size, lb.bufferSize());
                VirtualServer vs = Net.rrService(lb, backend.address());
                byte[] data = Streams.bytes(9, 4 * MIB);
                try (Socket client = Net.connect(vs.localAddress())) {
                    CompletableFuture<Void> w = Streams.write(client, data, 9, 256 * 1024, 0);
                    Streams.Received got = Streams.get(Streams.read(backend.socket(), 9, 256 * 1024, 500, 0));
                    Streams.get(w);
                    assertEquals(new Streams.Received(data.length, Streams.crc(data)), got);
                }
                long reads = vs.stats().counters().inPkts();
                assertTrue(reads >= data.length / size, size + "-byte buffer: " + reads + " reads of " + data.length + " bytes");
            }
        }
    }

    @Test
    void aBufferSizeOutOfRangeIsRefusedByName() {
        for (int bad : new int[] {L4Balancer.MIN_BUFFER_SIZE - 1, L4Balancer.MAX_BUFFER_SIZE + 1, 0, -1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> L4Balancer.builder().bufferSize(bad));
            assertTrue(e.getMessage().contains("bufferSize") && e.getMessage().contains(String.valueOf(bad)), e.getMessage());
        }
    }

    @Test
    void zeroCopyIsUsedOnEpollOnly() {
        for (TransportType t : TransportType.available()) {
            try (L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(t).zeroCopy(true).build()) {
                assertEquals(t == TransportType.EPOLL || t == TransportType.AUTO && "epoll".equals(lb.transport()),
                        lb.zeroCopy(), t.name());
            }
        }
        try (L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            assertFalse(lb.zeroCopy(), "off by default, as in HAProxy");
        }
        try (L4Balancer lb = L4Balancer.builder().ioThreads(1).zeroCopy(false).build()) {
            assertFalse(lb.zeroCopy(), "copying when asked");
        }
    }
}
