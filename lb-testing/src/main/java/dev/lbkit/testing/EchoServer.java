package dev.lbkit.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP server on a real socket for L4 tests: echoes bytes back, or greets with a fixed text and
 * closes, or accepts and never reads (to fill a forwarder's buffers). Counts connections and bytes.
 *
 * <p>Blocking I/O, a thread per connection. Thread-safe. Binds to 127.0.0.1 on an ephemeral port
 * unless told otherwise. When a client half-closes, the echo finishes sending and half-closes too.
 */
public final class EchoServer implements AutoCloseable {
    /** What the server does with a connection. */
    public enum Mode {
        /** Echo every byte; on the client's FIN, send FIN. */
        ECHO,
        /** Write the greeting, then close. */
        GREET_AND_CLOSE,
        /** Accept and never read or write. */
        SILENT
    }

    private final BlockingServer server;
    private final Mode mode;
    private final byte[] greeting;
    private final AtomicLong bytesIn = new AtomicLong();

    private EchoServer(InetSocketAddress bind, Mode mode, String greeting) {
        this.mode = mode;
        this.greeting = greeting.getBytes(StandardCharsets.UTF_8);
        this.server = new BlockingServer(bind, "echo-server", (s, index) -> serve(s));
    }

    /** An echo server on 127.0.0.1, ephemeral port. */
    public static EchoServer echo() {
        return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Mode.ECHO, "");
    }

    /** A server on 127.0.0.1 that writes {@code greeting} and closes each connection. */
    public static EchoServer greeting(String greeting) {
        return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Mode.GREET_AND_CLOSE, greeting);
    }

    public static EchoServer start(InetSocketAddress bind, Mode mode, String greeting) {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(greeting, "greeting");
        return new EchoServer(bind, mode, greeting);
    }

    public int port() {
        return server.port();
    }

    public InetSocketAddress address() {
        return server.address();
    }

    /** Connections accepted so far. */
    public int connectionCount() {
        return server.connectionCount();
    }

    /** Connections open now. */
    public int openConnections() {
        return server.openConnections();
    }

    /** Bytes read from clients so far. */
    public long bytesIn() {
        return bytesIn.get();
    }

    @Override
    public void close() {
        server.close();
    }

    private void serve(Socket s) throws IOException, InterruptedException {
        switch (mode) {
            case GREET_AND_CLOSE:
                s.getOutputStream().write(greeting);
                s.getOutputStream().flush();
                return;
            case SILENT:
                while (!server.isClosed() && !s.isClosed()) {
                    Thread.sleep(50);
                }
                return;
            default:
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] buf = new byte[16 * 1024];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    bytesIn.addAndGet(n);
                    out.write(buf, 0, n);
                    out.flush();
                }
                s.shutdownOutput();
        }
    }
}
