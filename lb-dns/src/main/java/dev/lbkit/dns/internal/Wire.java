package dev.lbkit.dns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/** DNS wire-format constants and the few helpers the server needs to read and write packets by hand. */
public final class Wire {
    public static final int HEADER = 12;
    public static final int MIN_UDP = 512;
    public static final int MAX_MESSAGE = 65535;

    public static final int FLAG_QR = 0x8000;
    public static final int FLAG_AA = 0x0400;
    public static final int FLAG_TC = 0x0200;
    public static final int FLAG_RD = 0x0100;
    public static final int FLAG_RA = 0x0080;
    public static final int FLAG_AD = 0x0020;
    public static final int FLAG_CD = 0x0010;
    /** DNSSEC OK, in the flags of OPT's TTL field. */
    public static final int FLAG_DO = 0x8000;
    /** An OPT record without options: root name, type, size, TTL, RDLENGTH. */
    public static final int OPT_LENGTH = 11;

    public static final int OPCODE_QUERY = 0;

    /**
     * Splits a TCP stream into DNS messages (RFC 1035 §4.2.2: a two-byte length, then the message). Netty
     * counts the length field in its frame limit, so the limit is the largest message plus those two bytes.
     */
    public static LengthFieldBasedFrameDecoder tcpFrameDecoder() {
        return new LengthFieldBasedFrameDecoder(MAX_MESSAGE + 2, 0, 2, 0, 2);
    }

    public static final int NOERROR = 0;
    public static final int FORMERR = 1;
    public static final int SERVFAIL = 2;
    public static final int NXDOMAIN = 3;
    public static final int NOTIMP = 4;
    public static final int REFUSED = 5;
    public static final int BADVERS = 16;

    public static final int TYPE_A = 1;
    public static final int TYPE_NS = 2;
    public static final int TYPE_SOA = 6;
    public static final int TYPE_HINFO = 13;
    public static final int TYPE_AAAA = 28;
    public static final int TYPE_SRV = 33;
    public static final int TYPE_OPT = 41;
    public static final int TYPE_ANY = 255;
    public static final int CLASS_IN = 1;

    /** A compression pointer to the question name, which always starts right after the header. */
    public static final int POINTER_TO_QNAME = 0xC000 | HEADER;

    private Wire() {}

    /**
     * Skips a name at {@code p} in a packet held from index 0. A compression pointer must point strictly
     * before the name that holds it, so a pointer can never loop; the pointer is not followed since only
     * the name's extent here matters.
     *
     * @return the offset after the name, or -1 if it is malformed
     */
    static int skipName(byte[] packet, int len, int p) {
        int start = p;
        for (;;) {
            if (p >= len) {
                return -1;
            }
            int b = packet[p] & 0xFF;
            if (b == 0) {
                return p + 1;
            }
            int kind = b & 0xC0;
            if (kind == 0xC0) {
                if (p + 2 > len) {
                    return -1;
                }
                int target = ((b & 0x3F) << 8) | (packet[p + 1] & 0xFF);
                if (target < HEADER || target >= start) {
                    return -1;
                }
                return p + 2;
            }
            if (kind != 0) {
                return -1;
            }
            p += 1 + b;
            // At least the final zero (or a pointer) still follows: 255 bytes here means 256 in all.
            if (p - start >= Query.MAX_NAME_WIRE) {
                return -1;
            }
        }
    }

    /**
     * The offset of the UDP size field (the class) of the OPT record in the additional section of the
     * message {@code packet}, or -1 if it has none or is malformed.
     */
    static int optUdpSizeOffset(byte[] packet) {
        int len = packet.length;
        if (len < HEADER) {
            return -1;
        }
        int qd = u16(packet, 4);
        int records = u16(packet, 6) + u16(packet, 8) + u16(packet, 10);
        int p = HEADER;
        for (int i = 0; i < qd && p >= 0; i++) {
            p = skipName(packet, len, p);
            p = p < 0 ? -1 : p + 4;
        }
        for (int i = 0; i < records && p >= 0; i++) {
            p = skipName(packet, len, p);
            if (p < 0 || p + 10 > len) {
                return -1;
            }
            if (u16(packet, p) == TYPE_OPT) {
                return p + 2;
            }
            p += 10 + u16(packet, p + 8);
        }
        return -1;
    }

    /** The unsigned 16-bit big-endian value at {@code p}. */
    static int u16(byte[] b, int p) {
        return ((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF);
    }

    /** {@code c} with ASCII A-Z lowered: DNS names compare without regard to ASCII case only (RFC 4343). */
    static int toLowerAscii(int c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }

    /** Writes a 12-byte header. */
    public static void header(ByteBuf out, int id, int flags, int qd, int an, int ns, int ar) {
        out.writeShort(id);
        out.writeShort(flags);
        out.writeShort(qd);
        out.writeShort(an);
        out.writeShort(ns);
        out.writeShort(ar);
    }

    /**
     * Writes an OPT pseudo-record advertising {@code udpSize}, with the upper 8 bits of an extended rcode,
     * and the DO bit when the query had it (RFC 3225 section 3: DO is copied into the response).
     */
    public static void opt(ByteBuf out, int udpSize, int rcode, boolean dnssecOk) {
        out.writeByte(0);
        out.writeShort(TYPE_OPT);
        out.writeShort(udpSize);
        out.writeInt((rcode >>> 4) << 24 | (dnssecOk ? FLAG_DO : 0));
        out.writeShort(0);
    }

    /** The flags word of a response to a query with {@code queryFlags}: QR, opcode and RD kept, rcode set. */
    public static int responseFlags(int queryFlags, int rcode, boolean aa, boolean ra) {
        int f = FLAG_QR | (queryFlags & 0x7800) | (queryFlags & FLAG_RD) | (rcode & 0xF);
        if (aa) {
            f |= FLAG_AA;
        }
        if (ra) {
            f |= FLAG_RA;
        }
        return f;
    }
}
