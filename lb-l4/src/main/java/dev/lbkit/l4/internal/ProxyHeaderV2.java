package dev.lbkit.l4.internal;

import dev.lbkit.api.internal.InetAddresses;
import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The binary PROXY protocol header (version 2) for datagrams: HAProxy's DGRAM transport, {@code 0x12}
 * UDP over IPv4 and {@code 0x22} UDP over IPv6, one header in front of every datagram. Netty's decoder
 * reads headers from a stream; a datagram carries its own, so it is written and read here. Stateless.
 */
final class ProxyHeaderV2 {
    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int FIXED = 16;
    private static final int LOCAL = 0x20;
    private static final int PROXY = 0x21;
    private static final int UDP4 = 0x12;
    private static final int UDP6 = 0x22;
    private static final int ADDRESSES4 = 12;
    private static final int ADDRESSES6 = 36;

    private ProxyHeaderV2() {}

    /**
     * The header a flow from {@code source} to {@code destination} puts before each datagram. Mixed
     * families are written as IPv6 (an IPv4 address as {@code ::ffff:a.b.c.d}), since a header has one.
     */
    static byte[] encode(InetSocketAddress source, InetSocketAddress destination) {
        byte[] s = source.getAddress().getAddress();
        byte[] d = destination.getAddress().getAddress();
        if (s.length != d.length) {
            s = InetAddresses.toIpv6(s);
            d = InetAddresses.toIpv6(d);
        }
        boolean v6 = s.length == 16;
        int addresses = v6 ? ADDRESSES6 : ADDRESSES4;
        byte[] h = new byte[FIXED + addresses];
        System.arraycopy(SIGNATURE, 0, h, 0, SIGNATURE.length);
        h[12] = PROXY;
        h[13] = (byte) (v6 ? UDP6 : UDP4);
        h[14] = (byte) (addresses >>> 8);
        h[15] = (byte) addresses;
        System.arraycopy(s, 0, h, FIXED, s.length);
        System.arraycopy(d, 0, h, FIXED + s.length, d.length);
        int ports = FIXED + 2 * s.length;
        h[ports] = (byte) (source.getPort() >>> 8);
        h[ports + 1] = (byte) source.getPort();
        h[ports + 2] = (byte) (destination.getPort() >>> 8);
        h[ports + 3] = (byte) destination.getPort();
        return h;
    }


    /**
     * The length of a valid header at the start of {@code b} (signature, version 2, a LOCAL command or a
     * PROXY command over UDP with its addresses, TLVs included), or -1. Reads without moving the index
     * and without allocating.
     */
    static int length(ByteBuf b) {
        int r = b.readerIndex();
        if (b.readableBytes() < FIXED) {
            return -1;
        }
        for (int i = 0; i < SIGNATURE.length; i++) {
            if (b.getByte(r + i) != SIGNATURE[i]) {
                return -1;
            }
        }
        int command = b.getUnsignedByte(r + 12);
        int family = b.getUnsignedByte(r + 13);
        int length = b.getUnsignedShort(r + 14);
        if (b.readableBytes() < FIXED + length) {
            return -1;
        }
        if (command == LOCAL) {
            return FIXED + length;
        }
        if (command != PROXY) {
            return -1;
        }
        if (family == UDP4 && length >= ADDRESSES4 || family == UDP6 && length >= ADDRESSES6) {
            return FIXED + length;
        }
        return -1;
    }

    /** The source a valid header names; {@code fallback} for a LOCAL header (the sender itself speaks). */
    static InetSocketAddress source(ByteBuf b, InetSocketAddress fallback) {
        return address(b, 0, fallback);
    }

    /** The destination a valid header names; {@code fallback} for a LOCAL header. */
    static InetSocketAddress destination(ByteBuf b, InetSocketAddress fallback) {
        return address(b, 1, fallback);
    }

    private static InetSocketAddress address(ByteBuf b, int which, InetSocketAddress fallback) {
        int r = b.readerIndex();
        if (b.getUnsignedByte(r + 12) != PROXY) {
            return fallback;
        }
        int size = b.getUnsignedByte(r + 13) == UDP4 ? 4 : 16;
        byte[] a = new byte[size];
        b.getBytes(r + FIXED + which * size, a);
        int port = b.getUnsignedShort(r + FIXED + 2 * size + 2 * which);
        try {
            return new InetSocketAddress(InetAddress.getByAddress(a), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 bytes are an address", e);
        }
    }
}
