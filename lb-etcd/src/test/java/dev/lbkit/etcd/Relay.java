package dev.lbkit.etcd;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP relay on loopback in front of one server, so that a test can take a client's connection away
 * while the server stays up and answers other clients: {@link #freeze()} holds every byte in both
 * directions (the client notices nothing yet), {@link #cut()} resets the connections relayed so far,
 * dropping what was held, and relays new connections at once. Thread-safe.
 */
final class Relay implements AutoCloseable {
    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}: both ends of every connection relayed since the last cut. */
    private final List<Socket> sockets = new ArrayList<>();
    /** Guarded by {@link #lock}. */
    private boolean frozen;
    /** Guarded by {@link #lock}: bumped by every cut, so that bytes held for a cut connection are dropped. */
    private long cuts;

    Relay(InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon("relay-accept-" + port(), this::accept);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** From now on, every byte either way waits until {@link #cut()}. */
    void freeze() {
        synchronized (lock) {
            frozen = true;
        }
    }

    /** Resets every connection relayed so far (the bytes held are lost) and relays again. */
    void cut() {
        List<Socket> cut;
        synchronized (lock) {
            cuts++;
            frozen = false;
            cut = new ArrayList<>(sockets);
            sockets.clear();
            lock.notifyAll();
        }
        cut.forEach(Relay::reset);
    }

    @Override
    public void close() throws IOException {
        listener.close();
        cut();
    }

    private void accept() {
        while (true) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            Socket server = new Socket();
            try {
                server.connect(target, 5000);
            } catch (IOException e) {
                reset(client);
                reset(server);
                continue;
            }
            long epoch;
            synchronized (lock) {
                epoch = cuts;
                sockets.add(client);
                sockets.add(server);
            }
            daemon("relay-up-" + client.getPort(), () -> pump(client, server, epoch));
            daemon("relay-down-" + client.getPort(), () -> pump(server, client, epoch));
        }
    }

    private void pump(Socket from, Socket to, long epoch) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (!awaitThawed(epoch)) {
                    return;
                }
                out.write(buffer, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // Cut, or the other end closed: the other pump ends too.
            reset(from);
            reset(to);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits while frozen; false if the connection of {@code epoch} was cut meanwhile. */
    private boolean awaitThawed(long epoch) throws InterruptedException {
        synchronized (lock) {
            while (frozen && cuts == epoch) {
                lock.wait();
            }
            return cuts == epoch;
        }
    }

    /** Closes with a reset (SO_LINGER 0), as a connection lost in the network looks to its peer. */
    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException e) {
            // Not connected: a plain close will do.
        }
        try {
            s.close();
        } catch (IOException e) {
            // Closing anyway.
        }
    }

    private static void daemon(String name, Runnable task) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
    }
}
