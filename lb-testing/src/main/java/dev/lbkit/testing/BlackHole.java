package dev.lbkit.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP listener whose accept queue is full, standing in for a black hole on loopback: the kernel drops
 * further SYNs, so a connect to it hangs until the connecting side's own timeout. {@link #close()}
 * closes the listener and the connections that fill its queue. Not thread-safe.
 */
public final class BlackHole implements AutoCloseable {
    private final ServerSocket listener;
    private final List<Socket> fillers = new ArrayList<>();

    private BlackHole(InetSocketAddress bind) throws IOException {
        listener = new ServerSocket();
        try {
            listener.bind(bind, 1);
            // A backlog of 1 admits one or two connections the listener never accepts; the next one waits.
            for (int i = 0; i < 3; i++) {
                Socket s = new Socket();
                try {
                    s.connect(listener.getLocalSocketAddress(), 200);
                } catch (IOException e) {
                    s.close();
                    break;
                }
                fillers.add(s);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** A black hole on the IPv4 or IPv6 loopback address the JDK prefers, on an ephemeral port. */
    public static BlackHole start() throws IOException {
        return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    /** A black hole on {@code bind} (port 0: an ephemeral one). */
    public static BlackHole start(InetSocketAddress bind) throws IOException {
        return new BlackHole(bind);
    }

    public int port() {
        return listener.getLocalPort();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    @Override
    public void close() {
        for (Socket s : fillers) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
