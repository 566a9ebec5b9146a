package dev.lbkit.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The listening half every blocking test server shares: a server socket, an accept thread, a daemon
 * thread per connection, and a close that also closes every open connection.
 */
final class BlockingServer {
    /** Serves one accepted connection; the server closes the socket when it returns. */
    @FunctionalInterface
    interface ConnectionHandler {
        void serve(Socket socket, int index) throws IOException, InterruptedException;
    }

    private final ServerSocket server;
    private final Thread acceptor;
    private final ConnectionHandler handler;
    private final String name;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile boolean closed;

    BlockingServer(InetSocketAddress bind, String name, ConnectionHandler handler) {
        this.handler = handler;
        this.name = name;
        try {
            this.server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(bind, 128);
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        this.acceptor = new Thread(this::acceptLoop, name + "-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    int connectionCount() {
        return connections.get();
    }

    void resetConnectionCount() {
        connections.set(0);
    }

    int openConnections() {
        return open.size();
    }

    boolean isClosed() {
        return closed;
    }

    void close() {
        closed = true;
        closeQuietly(server);
        for (Socket s : open) {
            closeQuietly(s);
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            int index = connections.getAndIncrement();
            open.add(s);
            Thread t = new Thread(() -> serve(s, index), name + "-conn-" + index);
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s, int index) {
        try (s) {
            handler.serve(s, index);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // The peer went away or the server closed: normal for a test server.
        } finally {
            open.remove(s);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // Closing; nothing to report.
        }
    }
}
