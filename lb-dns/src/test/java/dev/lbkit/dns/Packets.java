package dev.lbkit.dns;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Hand-made DNS packets and raw sockets, for malformed-input tests. */
final class Packets {
    private Packets() {}

    /** A query header: ID 0x1234, the given flags and counts. */
    static ByteArrayOutputStream header(int flags, int qd, int an, int ns, int ar) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        short16(out, 0x1234);
        short16(out, flags);
        short16(out, qd);
        short16(out, an);
        short16(out, ns);
        short16(out, ar);
        return out;
    }

    static void short16(ByteArrayOutputStream out, int v) {
        out.write(v >>> 8);
        out.write(v);
    }

    static void name(ByteArrayOutputStream out, String dotted) {
        if (!dotted.isEmpty()) {
            for (String label : dotted.split("\\.")) {
                byte[] b = label.getBytes(StandardCharsets.US_ASCII);
                out.write(b.length);
                out.write(b, 0, b.length);
            }
        }
        out.write(0);
    }

    /** A standard query (RD set) for {@code name}/{@code type}, optionally with OPT. */
    static byte[] query(String name, int type, int ednsSize) {
        ByteArrayOutputStream out = header(0x0100, 1, 0, 0, ednsSize > 0 ? 1 : 0);
        name(out, name);
        short16(out, type);
        short16(out, 1);
        if (ednsSize > 0) {
            opt(out, ednsSize, 0);
        }
        return out.toByteArray();
    }

    static void opt(ByteArrayOutputStream out, int size, int version) {
        out.write(0);
        short16(out, 41);
        short16(out, size);
        out.write(0);
        out.write(version);
        short16(out, 0);
        short16(out, 0);
    }

    /** Sends a datagram and returns the answer, or null when none comes within {@code timeoutMs}. */
    static byte[] udp(InetSocketAddress server, byte[] packet, int timeoutMs) throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(server.getAddress(), 0))) {
            s.setSoTimeout(timeoutMs);
            s.send(new DatagramPacket(packet, packet.length, server));
            byte[] buf = new byte[65535];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                s.receive(p);
            } catch (SocketTimeoutException e) {
                return null;
            }
            return java.util.Arrays.copyOf(buf, p.getLength());
        }
    }

    static int rcode(byte[] answer) {
        return answer[3] & 0xF;
    }

    static int flags(byte[] answer) {
        return ((answer[2] & 0xFF) << 8) | (answer[3] & 0xFF);
    }

    static int count(byte[] answer, int section) {
        return ((answer[4 + 2 * section] & 0xFF) << 8) | (answer[5 + 2 * section] & 0xFF);
    }

    static void writeFramed(Socket s, byte[] message) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(message.length >>> 8);
        out.write(message.length);
        out.write(message);
        out.flush();
    }

    static byte[] readFramed(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        int len = in.readUnsignedShort();
        byte[] b = new byte[len];
        in.readFully(b);
        return b;
    }

    /** Reads until end of stream; returns how long it took, in ms, or -1 if the socket timed out first. */
    static long millisUntilClosed(Socket s) throws IOException {
        long t0 = System.nanoTime();
        InputStream in = s.getInputStream();
        try {
            while (in.read() >= 0) {
                // Discard.
            }
        } catch (SocketTimeoutException e) {
            return -1;
        } catch (IOException e) {
            // A reset also means the server closed it.
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
