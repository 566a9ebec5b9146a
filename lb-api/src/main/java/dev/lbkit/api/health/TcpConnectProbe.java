package dev.lbkit.api.health;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A check that passes when a TCP connection to the upstream can be established within the timeout
 * (HAProxy's plain {@code check}, keepalived's {@code TCP_CHECK}); the connection is closed at once,
 * without sending anything.
 *
 * <p>Uses the JDK's {@link AsynchronousSocketChannel}, so a pending connect holds no thread. A refused
 * connection fails at once; a connect that gets no answer (a black-holed address, a full accept queue)
 * fails after the timeout, when the channel is closed. An upstream given by host name is resolved with
 * {@link InetAddress#getByName} on the calling thread (the health checker's, never an event loop).
 *
 * <p>Immutable and thread-safe.
 */
public final class TcpConnectProbe implements HealthProbe {
    private static final TcpConnectProbe UPSTREAM_PORT = new TcpConnectProbe(0);

    private final int port;

    private TcpConnectProbe(int port) {
        this.port = port;
    }

    /** A probe connecting to each upstream's own address and port. */
    public static TcpConnectProbe create() {
        return UPSTREAM_PORT;
    }

    /** A probe connecting to each upstream's address on {@code port} instead (HAProxy's {@code port}). */
    public static TcpConnectProbe onPort(int port) {
        return new TcpConnectProbe(Checks.port(port, "port"));
    }

    @Override
    public CompletionStage<ProbeResult> probe(Upstream upstream, Duration timeout) {
        Objects.requireNonNull(upstream, "upstream");
        Checks.positive(timeout, "timeout");
        long start = System.nanoTime();
        InetSocketAddress target = upstream.address();
        int p = port != 0 ? port : target.getPort();
        try {
            InetAddress address = target.isUnresolved() ? InetAddress.getByName(target.getHostString()) : target.getAddress();
            target = new InetSocketAddress(address, p);
        } catch (UnknownHostException e) {
            return CompletableFuture.completedFuture(ProbeResult.unhealthy(since(start), describe(e)));
        }
        AsynchronousSocketChannel channel;
        try {
            channel = AsynchronousSocketChannel.open();
        } catch (IOException e) {
            return CompletableFuture.completedFuture(ProbeResult.unhealthy(since(start), describe(e)));
        }
        CompletableFuture<ProbeResult> result = new CompletableFuture<>();
        CompletableFuture.delayedExecutor(timeout.toNanos(), TimeUnit.NANOSECONDS).execute(() -> {
            // Closing the channel aborts the pending connect; its handler then finds the result taken.
            if (result.complete(ProbeResult.unhealthy(timeout, "connect timed out after " + timeout))) {
                closeQuietly(channel);
            }
        });
        try {
            channel.connect(target, null, new CompletionHandler<Void, Void>() {
                @Override
                public void completed(Void ignored, Void attachment) {
                    closeQuietly(channel);
                    result.complete(ProbeResult.healthy(since(start), "connected"));
                }

                @Override
                public void failed(Throwable e, Void attachment) {
                    closeQuietly(channel);
                    result.complete(ProbeResult.unhealthy(since(start), describe(e)));
                }
            });
        } catch (RuntimeException e) {
            // For example an address of a family the host cannot reach.
            closeQuietly(channel);
            result.complete(ProbeResult.unhealthy(since(start), describe(e)));
        }
        return result;
    }

    private static Duration since(long start) {
        return Duration.ofNanos(Math.max(0, System.nanoTime() - start));
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + m;
    }

    private static void closeQuietly(AsynchronousSocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing was sent; a failed close loses nothing.
        }
    }

    @Override
    public String toString() {
        return port == 0 ? "TcpConnectProbe" : "TcpConnectProbe{port=" + port + "}";
    }
}
