package dev.lbkit.dns.internal;

import io.netty.buffer.ByteBuf;

/**
 * The parts of one DNS query that the server acts on, parsed straight from the wire without building a
 * message object: header fields, the single question (its bytes stay in the packet and are copied into
 * the answer, so the client's letter case survives), and EDNS0.
 *
 * <p>Mutable and reused: one instance per thread, {@link #parse} resets every field. Not thread-safe.
 */
public final class Query {
    /** {@link #parse} result: not a query we may answer at all (too short, or a response); send nothing. */
    public static final int DROP = -1;
    /** {@link #parse} result: a well-formed query. */
    public static final int OK = 0;

    static final int MAX_NAME_WIRE = 255;

    public int id;
    public int flags;
    public int opcode;
    public boolean rd;
    /** Offset of the question (always {@link Wire#HEADER}) and its length in bytes, relative to the packet start. */
    public int questionLength;
    public int qnameLength;
    /** The question name, lower case, no trailing dot; {@code ""} for the root. */
    public String qname;
    public int qtype;
    public int qclass;
    public boolean edns;
    public int ednsUdpSize;
    public int ednsVersion;
    public boolean dnssecOk;

    private final StringBuilder sb = new StringBuilder(64);

    /**
     * Parses the packet between {@code in}'s reader and writer indexes without moving them.
     *
     * @return {@link #DROP}, {@link #OK}, or the rcode of the error to answer with ({@link Wire#FORMERR},
     *     {@link Wire#NOTIMP}); {@link #id}, {@link #flags} and {@link #opcode} are valid for every result
     *     but {@link #DROP}, the question fields only when {@link #questionLength} is not zero
     */
    public int parse(ByteBuf in) {
        id = 0;
        flags = 0;
        opcode = 0;
        rd = false;
        questionLength = 0;
        qnameLength = 0;
        qname = null;
        qtype = 0;
        qclass = 0;
        edns = false;
        ednsUdpSize = 0;
        ednsVersion = 0;
        dnssecOk = false;
        int base = in.readerIndex();
        int len = in.readableBytes();
        if (len < Wire.HEADER) {
            return DROP;
        }
        id = in.getUnsignedShort(base);
        flags = in.getUnsignedShort(base + 2);
        if ((flags & Wire.FLAG_QR) != 0) {
            // Never answer a response: that is how reflection loops between two servers start.
            return DROP;
        }
        opcode = (flags >>> 11) & 0xF;
        rd = (flags & Wire.FLAG_RD) != 0;
        if (opcode != Wire.OPCODE_QUERY) {
            return Wire.NOTIMP;
        }
        int qd = in.getUnsignedShort(base + 4);
        int an = in.getUnsignedShort(base + 6);
        int ns = in.getUnsignedShort(base + 8);
        int ar = in.getUnsignedShort(base + 10);
        if (qd != 1) {
            return Wire.FORMERR;
        }
        int p = Wire.HEADER;
        sb.setLength(0);
        for (;;) {
            if (p >= len) {
                return Wire.FORMERR;
            }
            int b = in.getUnsignedByte(base + p);
            if (b == 0) {
                p++;
                break;
            }
            // Compression pointers (0xC0) cannot point anywhere valid from the first name of a packet, and
            // 0x40/0x80 label types are reserved or obsolete: all are malformed here.
            if ((b & 0xC0) != 0) {
                return Wire.FORMERR;
            }
            if (p + 1 + b > len) {
                return Wire.FORMERR;
            }
            if (sb.length() > 0) {
                sb.append('.');
            }
            for (int i = 1; i <= b; i++) {
                int c = in.getUnsignedByte(base + p + i);
                if (c >= 'A' && c <= 'Z') {
                    c += 'a' - 'A';
                }
                if (c == '.' || c == '\\') {
                    sb.append('\\');
                }
                sb.append((char) c);
            }
            p += 1 + b;
            if (p - Wire.HEADER + 1 > MAX_NAME_WIRE) {
                return Wire.FORMERR;
            }
        }
        qnameLength = p - Wire.HEADER;
        if (p + 4 > len) {
            return Wire.FORMERR;
        }
        qtype = in.getUnsignedShort(base + p);
        qclass = in.getUnsignedShort(base + p + 2);
        p += 4;
        questionLength = p - Wire.HEADER;
        qname = sb.toString();
        for (int i = 0; i < an + ns; i++) {
            p = Wire.skipRecord(in, base, len, p);
            if (p < 0) {
                return Wire.FORMERR;
            }
        }
        for (int i = 0; i < ar; i++) {
            int start = p;
            p = Wire.skipName(in, base, len, p);
            if (p < 0 || p + 10 > len) {
                return Wire.FORMERR;
            }
            int type = in.getUnsignedShort(base + p);
            if (type == Wire.TYPE_OPT) {
                // RFC 6891 6.1.1: one OPT at most, owned by the root; otherwise FORMERR.
                if (edns || p != start + 1) {
                    return Wire.FORMERR;
                }
                edns = true;
                ednsUdpSize = in.getUnsignedShort(base + p + 2);
                long ttl = in.getUnsignedInt(base + p + 4);
                ednsVersion = (int) ((ttl >>> 16) & 0xFF);
                dnssecOk = (ttl & 0x8000) != 0;
            }
            int rdlen = in.getUnsignedShort(base + p + 8);
            p += 10 + rdlen;
            if (p > len) {
                return Wire.FORMERR;
            }
        }
        return OK;
    }

    /** The most bytes a UDP answer to this query may have: 512 without EDNS0, else the client's size. */
    public int clientUdpLimit() {
        return edns ? Math.max(Wire.MIN_UDP, ednsUdpSize) : Wire.MIN_UDP;
    }
}
