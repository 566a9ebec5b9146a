package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.testing.EchoServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** PROXY protocol v1/v2 towards real servers, and accepted from a front balancer. */
@ExtendWith(LeakCheck.class)
class ProxyProtocolTest {
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    /** Accepts one connection and hands its first {@code n} bytes to the test. */
    private static final class Recorder implements AutoCloseable {
        final ServerSocket server;
        final CompletableFuture<byte[]> bytes = new CompletableFuture<>();

        Recorder(int n) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(5000);
                    bytes.complete(s.getInputStream().readNBytes(n));
                } catch (IOException e) {
                    bytes.completeExceptionally(e);
                }
            });
            t.setDaemon(true);
            t.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
        }

        byte[] get() throws Exception {
            return bytes.get(5, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void sendsAVersion1HeaderBeforeTheClientsBytes(Forwarding f) throws Exception {
        try (L4Balancer lb = f.builder().build()) {
            VirtualServer probe = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr").build());
            int vsPort = probe.localAddress().getPort();
            probe.delete();
            try (Socket client = new Socket()) {
                // The header's length depends on the client's port, so the recorder reads up to CRLF + body.
                String expectedPrefix = "PROXY TCP4 127.0.0.1 127.0.0.1 ";
                try (Recorder r = new Recorder(expectedPrefix.length() + 5 + 1 + 5 + 2 + 5)) {
                    VirtualServer vs = lb.addService(VirtualService.tcp(new InetSocketAddress("127.0.0.1", vsPort))
                            .scheduler("rr").proxyProtocol(ProxyProtocol.V1).realServer(r.address()).build());
                    client.bind(new InetSocketAddress("127.0.0.1", 0));
                    client.connect(vs.localAddress(), 5000);
                    String header = expectedPrefix + client.getLocalPort() + " " + vsPort + "\r\n";
                    String body = "hello";
                    client.getOutputStream().write(body.getBytes(StandardCharsets.US_ASCII));
                    String got = new String(r.bytes.get(5, TimeUnit.SECONDS), StandardCharsets.US_ASCII);
                    assertEquals((header + body).substring(0, Math.min(got.length(), header.length() + 5)), got);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void sendsAVersion2HeaderBeforeTheClientsBytes(Forwarding f) throws Exception {
        try (Recorder r = new Recorder(12 + 4 + 12 + 5); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .proxyProtocol(ProxyProtocol.V2).realServer(r.address()).build());
            try (Socket client = Net.connect(vs.localAddress())) {
                client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                ByteBuffer b = ByteBuffer.wrap(r.get());
                byte[] sig = new byte[12];
                b.get(sig);
                assertArrayEquals(V2_SIGNATURE, sig);
                assertEquals(0x21, b.get(), "version 2, PROXY command");
                assertEquals(0x11, b.get(), "TCP over IPv4");
                assertEquals(12, b.getShort());
                byte[] src = new byte[4];
                b.get(src);
                byte[] dst = new byte[4];
                b.get(dst);
                assertArrayEquals(new byte[] {127, 0, 0, 1}, src);
                assertArrayEquals(new byte[] {127, 0, 0, 1}, dst);
                assertEquals(client.getLocalPort(), Short.toUnsignedInt(b.getShort()));
                assertEquals(vs.localAddress().getPort(), Short.toUnsignedInt(b.getShort()));
                byte[] body = new byte[5];
                b.get(body);
                assertEquals("hello", new String(body, StandardCharsets.US_ASCII));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void acceptsAHeaderFromAFrontBalancerAndPassesTheClientOn(Forwarding f) throws Exception {
        String inbound = "PROXY TCP4 10.1.2.3 127.0.100.1 5555 80\r\n";
        try (Recorder r = new Recorder(inbound.length() + 5); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .acceptProxyProtocol(true).proxyProtocol(ProxyProtocol.V1).realServer(r.address()).build());
            try (Socket client = Net.connect(vs.localAddress())) {
                // Header and first bytes in one write: the bytes after the header must not be lost.
                client.getOutputStream().write((inbound + "hello").getBytes(StandardCharsets.US_ASCII));
                assertEquals(inbound + "hello", new String(r.get(), StandardCharsets.US_ASCII));
            }
        }
    }

    /**
     * A header, 100 KiB and a FIN in one go: the decoder reads on purpose, and at the FIN epoll and
     * io_uring read the rest before the real server is connected; all of it must reach the real server.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#all")
    void aHeaderAnUploadAndAFinSentAtOnceGoWhole(Forwarding f) throws Exception {
        byte[] data = new byte[100 * 1024];
        new Random(2).nextBytes(data);
        try (EchoServer echo = EchoServer.echo(); L4Balancer lb = f.builder().build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .acceptProxyProtocol(true).realServer(echo.address()).build());
            try (Socket client = Net.connect(vs.localAddress())) {
                client.setSoTimeout(10_000);
                CompletableFuture<byte[]> back = Net.readAllAsync(client);
                client.getOutputStream().write("PROXY TCP4 10.1.2.3 127.0.100.1 5555 80\r\n".getBytes(StandardCharsets.US_ASCII));
                client.getOutputStream().write(data);
                client.shutdownOutput();
                assertArrayEquals(data, back.get(15, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void aClientWithoutAValidHeaderIsClosedBeforeAnyRealServerIsContacted() throws Exception {
        try (Recorder r = new Recorder(1); L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .acceptProxyProtocol(true).realServer(r.address()).build());
            try (Socket client = Net.connect(vs.localAddress())) {
                client.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = client.getInputStream();
                int got;
                try {
                    got = in.read();
                } catch (java.net.SocketException reset) {
                    got = -1;
                }
                assertEquals(-1, got);
            }
            assertEquals(0, vs.stats().counters().conns());
        }
    }

    /** No header, or one that never ends, within the connect timeout: closed and counted as malformed. */
    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "PROXY TCP4 10."})
    void aClientThatNeverCompletesItsHeaderIsClosedAfterTheConnectTimeout(String sent) throws Exception {
        try (Recorder r = new Recorder(1); L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .acceptProxyProtocol(true).connectTimeout(java.time.Duration.ofMillis(300))
                    .realServer(r.address()).build());
            try (Socket client = Net.connect(vs.localAddress())) {
                client.getOutputStream().write(sent.getBytes(StandardCharsets.US_ASCII));
                long start = System.nanoTime();
                assertEquals(-1, client.getInputStream().read());
                long ms = (System.nanoTime() - start) / 1_000_000;
                org.junit.jupiter.api.Assertions.assertTrue(ms >= 200 && ms < 3000, "closed after " + ms + " ms");
            }
            assertEquals(0, vs.stats().counters().conns());
            assertEquals(1, vs.stats().malformedProxyHeaders());
        }
    }
}
