package dev.lbkit.testing;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * PROXY protocol v2 headers built byte by byte from HAProxy's specification, for tests that check what
 * lbkit writes and feed it what a front balancer sends, independently of the code under test. Stateless.
 */
public final class ProxyHeaderBytes {
    /** The 12-byte signature every v2 header starts with. */
    public static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private ProxyHeaderBytes() {}

    /**
     * A v2 PROXY command from {@code source} to {@code destination} (one family): STREAM (TCP4 {@code 0x11},
     * TCP6 {@code 0x21}) or, with {@code stream} false, DGRAM (UDP4 {@code 0x12}, UDP6 {@code 0x22}).
     */
    public static byte[] v2(boolean stream, InetSocketAddress source, InetSocketAddress destination) {
        byte[] s = source.getAddress().getAddress();
        byte[] d = destination.getAddress().getAddress();
        int family = (s.length == 4 ? 0x10 : 0x20) | (stream ? 0x01 : 0x02);
        ByteBuffer b = ByteBuffer.allocate(16 + 2 * s.length + 4);
        b.put(V2_SIGNATURE).put((byte) 0x21).put((byte) family).putShort((short) (2 * s.length + 4));
        b.put(s).put(d).putShort((short) source.getPort()).putShort((short) destination.getPort());
        return b.array();
    }

    /** The v2 LOCAL command without addresses (a front balancer's own connection, a health check). */
    public static byte[] v2Local() {
        return ByteBuffer.allocate(16).put(V2_SIGNATURE).put((byte) 0x20).put((byte) 0).putShort((short) 0).array();
    }

    /** The parts one after another. */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
