package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TcpConnectProbeTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static ProbeResult run(HealthProbe probe, Upstream u, Duration timeout) throws Exception {
        return probe.probe(u, timeout).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aListeningPortIsHealthy() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, LOOPBACK)) {
            ProbeResult r = run(TcpConnectProbe.create(), Upstream.of(new InetSocketAddress(LOOPBACK, server.getLocalPort())),
                    Duration.ofSeconds(2));
            assertTrue(r.healthy(), r.toString());
            assertTrue(r.latency().compareTo(Duration.ofSeconds(2)) < 0, r.toString());
        }
    }

    @Test
    void aClosedPortIsRefusedQuickly() throws Exception {
        int port;
        try (ServerSocket server = new ServerSocket(0, 50, LOOPBACK)) {
            port = server.getLocalPort();
        }
        long start = System.nanoTime();
        ProbeResult r = run(TcpConnectProbe.create(), Upstream.of("127.0.0.1", port), Duration.ofSeconds(5));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertFalse(r.healthy());
        assertTrue(r.detail().toLowerCase().contains("refused"), r.detail());
        assertTrue(took.compareTo(Duration.ofSeconds(2)) < 0, "took " + took);
    }

    @Test
    void theCheckPortOverridesTheUpstreamsPort() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, LOOPBACK)) {
            int closed;
            try (ServerSocket other = new ServerSocket(0, 50, LOOPBACK)) {
                closed = other.getLocalPort();
            }
            ProbeResult r = run(TcpConnectProbe.onPort(server.getLocalPort()), Upstream.of("127.0.0.1", closed),
                    Duration.ofSeconds(2));
            assertTrue(r.healthy(), r.toString());
        }
    }

    @Test
    void aHostNameIsResolvedOffTheEventLoop() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            ProbeResult r = run(TcpConnectProbe.create(), Upstream.of("localhost", server.getLocalPort()),
                    Duration.ofSeconds(2));
            // localhost may resolve to ::1 first on some hosts, where nothing listens: either way it answers.
            assertTrue(r.healthy() || r.detail().toLowerCase().contains("refused"), r.toString());
        }
    }

    /** A listener whose accept queue is full drops further SYNs: a connect then hangs until the timeout. */
    @Test
    void aBlackHoleFailsAfterTheTimeout() throws Exception {
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK)) {
            InetSocketAddress address = new InetSocketAddress(LOOPBACK, server.getLocalPort());
            boolean full = false;
            for (int i = 0; i < 16 && !full; i++) {
                Socket s = new Socket();
                fillers.add(s);
                try {
                    s.connect(address, 200);
                } catch (SocketTimeoutException e) {
                    full = true;
                }
            }
            assertTrue(full, "the accept queue never filled");
            Duration timeout = Duration.ofMillis(300);
            long start = System.nanoTime();
            ProbeResult r = run(TcpConnectProbe.create(), Upstream.of(address), timeout);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertFalse(r.healthy());
            assertTrue(r.detail().contains("timed out"), r.detail());
            assertTrue(took.compareTo(timeout) >= 0, "took " + took);
            assertTrue(took.compareTo(Duration.ofSeconds(3)) < 0, "took " + took);
        } finally {
            for (Socket s : fillers) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // test cleanup
                }
            }
        }
    }
}
