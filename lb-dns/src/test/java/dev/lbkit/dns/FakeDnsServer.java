package dev.lbkit.dns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Section;

/**
 * A DNS server for tests, on a loopback UDP socket (port 0; optionally with a TCP listener on the same
 * port, which the test serves itself): a daemon thread answers each UDP query with what the test makes
 * of it, and counts the queries and their source ports. For answers lb-dns's own server never gives (an
 * upstream resolver's oddities, SRV records of any shape). {@link #close()} stops it.
 */
final class FakeDnsServer implements AutoCloseable {
    private final DatagramSocket socket;
    private final ServerSocket tcp;
    private final AtomicInteger queries = new AtomicInteger();
    private final Set<Integer> sourcePorts = ConcurrentHashMap.newKeySet();

    private FakeDnsServer(Function<byte[], byte[]> answer, boolean withTcp) throws IOException {
        if (withTcp) {
            // The TCP port is taken first (port 0); its number may be busy for UDP, so a few are tried.
            ServerSocket server = null;
            DatagramSocket udp = null;
            for (int attempt = 0; attempt < 10 && udp == null; attempt++) {
                server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                try {
                    udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
                } catch (SocketException busy) {
                    server.close();
                    if (attempt == 9) {
                        throw busy;
                    }
                }
            }
            tcp = server;
            socket = udp;
        } else {
            tcp = null;
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        }
        Thread t = new Thread(() -> {
            byte[] buf = new byte[512];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    queries.incrementAndGet();
                    sourcePorts.add(p.getPort());
                    byte[] r = answer.apply(Arrays.copyOf(buf, p.getLength()));
                    socket.send(new DatagramPacket(r, r.length, p.getSocketAddress()));
                } catch (Exception e) {
                    return;
                }
            }
        }, "fake-dns-server");
        t.setDaemon(true);
        t.start();
    }

    /** Answers each query (its wire bytes) with the bytes {@code answer} returns. */
    static FakeDnsServer raw(Function<byte[], byte[]> answer) throws IOException {
        return new FakeDnsServer(answer, false);
    }

    /**
     * Answers each query with a response (QR, RD and RA set, the question copied) that {@code records}
     * fills in from the query: {@code records.accept(query, response)}.
     */
    static FakeDnsServer messages(BiConsumer<Message, Message> records) throws IOException {
        return messages(records, false);
    }

    /**
     * As {@link #messages(BiConsumer)}; with {@code withTcp}, a TCP listener is also bound on the same port
     * (the test accepts on {@link #tcp()} itself).
     */
    static FakeDnsServer messages(BiConsumer<Message, Message> records, boolean withTcp) throws IOException {
        return new FakeDnsServer(wire -> {
            try {
                Message q = new Message(wire);
                Message r = new Message(q.getHeader().getID());
                r.getHeader().setFlag(Flags.QR);
                r.getHeader().setFlag(Flags.RD);
                r.getHeader().setFlag(Flags.RA);
                r.addRecord(q.getQuestion(), Section.QUESTION);
                records.accept(q, r);
                return r.toWire();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, withTcp);
    }

    /** The TCP listener on the UDP socket's port; only for a server made with {@code withTcp}. */
    ServerSocket tcp() {
        if (tcp == null) {
            throw new IllegalStateException("made without TCP");
        }
        return tcp;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** How many queries came so far. */
    int queries() {
        return queries.get();
    }

    /** The source ports the queries came from. */
    Set<Integer> sourcePorts() {
        return Set.copyOf(sourcePorts);
    }

    @Override
    public void close() {
        socket.close();
        if (tcp != null) {
            try {
                tcp.close();
            } catch (IOException e) {
                // Closing; nothing to tell.
            }
        }
    }
}
