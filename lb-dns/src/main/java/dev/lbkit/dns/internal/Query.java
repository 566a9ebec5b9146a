package dev.lbkit.dns.internal;

import static dev.lbkit.dns.internal.Wire.u16;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
    /** Length of {@link #name()}'s content in bytes. */
    public int nameLength;
    /** Whether a label of the question name holds a dot or a backslash (then {@link #name()} is ambiguous). */
    public boolean nameEscapes;
    private String qname;
    public int qtype;
    public int qclass;
    public boolean edns;
    public int ednsUdpSize;
    /** Offset of the OPT record's UDP size field in the packet, when {@link #edns} is set. */
    public int ednsUdpSizeOffset;
    public int ednsVersion;
    public boolean dnssecOk;

    /** The packet, copied; a DNS message is at most 65535 bytes. */
    private final byte[] packet = new byte[Wire.MAX_MESSAGE];
    /** The question name, lower case, dotted, no trailing dot (ISO 8859-1, no escapes). */
    private final byte[] name = new byte[MAX_NAME_WIRE];
    private final byte[] last = new byte[MAX_NAME_WIRE];
    private int lastLength = -1;
    private String lastName;

    /**
     * Parses the packet between {@code in}'s reader and writer indexes without moving them.
     *
     * @return {@link #DROP}, {@link #OK}, or the rcode of the error to answer with ({@link Wire#FORMERR},
     *     {@link Wire#NOTIMP}); {@link #id}, {@link #flags} and {@link #opcode} are valid for every result
     *     but {@link #DROP}, the question fields only when {@link #questionLength} is not zero, the EDNS
     *     fields only when {@link #edns} is set
     */
    public int parse(ByteBuf in) {
        id = 0;
        flags = 0;
        opcode = 0;
        rd = false;
        questionLength = 0;
        qnameLength = 0;
        nameLength = 0;
        nameEscapes = false;
        qname = null;
        qtype = 0;
        qclass = 0;
        edns = false;
        ednsUdpSize = 0;
        ednsUdpSizeOffset = 0;
        ednsVersion = 0;
        dnssecOk = false;
        int len = in.readableBytes();
        if (len < Wire.HEADER) {
            return DROP;
        }
        // One bulk copy, then plain array reads: much cheaper than a bounds-checked ByteBuf read per byte.
        byte[] b = packet;
        if (len > b.length) {
            len = b.length;
        }
        in.getBytes(in.readerIndex(), b, 0, len);
        id = u16(b, 0);
        flags = u16(b, 2);
        if ((flags & Wire.FLAG_QR) != 0) {
            // Never answer a response: that is how reflection loops between two servers start.
            return DROP;
        }
        opcode = (flags >>> 11) & 0xF;
        rd = (flags & Wire.FLAG_RD) != 0;
        int qd = u16(b, 4);
        int an = u16(b, 6);
        int ns = u16(b, 8);
        int ar = u16(b, 10);
        // An unknown opcode or a QDCOUNT other than 1 is answered with an error, but the rest is still read
        // when it can be: the answer must carry OPT when the query did (RFC 6891 section 6.1.1), and echoes
        // the question when there is one. What cannot be walked ends the parse with that error.
        int result = opcode != Wire.OPCODE_QUERY ? Wire.NOTIMP : qd != 1 ? Wire.FORMERR : OK;
        int malformed = result == Wire.NOTIMP ? Wire.NOTIMP : Wire.FORMERR;
        int p;
        if (qd == 1) {
            p = question(b, len);
            if (p < 0) {
                return malformed;
            }
        } else {
            p = Wire.HEADER;
            for (int i = 0; i < qd; i++) {
                p = Wire.skipName(b, len, p);
                if (p < 0 || p + 4 > len) {
                    return malformed;
                }
                p += 4;
            }
        }
        for (int i = 0, records = an + ns + ar; i < records; i++) {
            int start = p;
            p = Wire.skipName(b, len, p);
            if (p < 0 || p + 10 > len) {
                return malformed;
            }
            if (u16(b, p) == Wire.TYPE_OPT) {
                // RFC 6891 6.1.1: one OPT at most, owned by the root, and (a pseudo-record of the additional
                // data) never in the answer or authority section; otherwise FORMERR.
                if (edns || i < an + ns || p != start + 1) {
                    return malformed;
                }
                edns = true;
                ednsUdpSize = u16(b, p + 2);
                ednsUdpSizeOffset = p + 2;
                ednsVersion = b[p + 5] & 0xFF;
                dnssecOk = (u16(b, p + 6) & Wire.FLAG_DO) != 0;
            }
            p += 10 + u16(b, p + 8);
            if (p > len) {
                return malformed;
            }
        }
        return result;
    }

    /** Parses the question at the start of {@code b}; returns the offset after it, or -1 if it is malformed. */
    private int question(byte[] b, int len) {
        int p = Wire.HEADER;
        int n = 0;
        boolean escapes = false;
        for (;;) {
            if (p >= len) {
                return -1;
            }
            int l = b[p] & 0xFF;
            if (l == 0) {
                p++;
                break;
            }
            // Compression pointers (0xC0) cannot point anywhere valid from the first name of a packet, and
            // 0x40/0x80 label types are reserved or obsolete: all are malformed here.
            if ((l & 0xC0) != 0) {
                return -1;
            }
            if (p + 1 + l > len || p + 1 + l - Wire.HEADER + 1 > MAX_NAME_WIRE) {
                return -1;
            }
            if (n > 0) {
                name[n++] = '.';
            }
            for (int i = p + 1; i <= p + l; i++) {
                int c = Wire.toLowerAscii(b[i] & 0xFF);
                if (c == '.' || c == '\\') {
                    escapes = true;
                }
                name[n++] = (byte) c;
            }
            p += 1 + l;
        }
        if (p + 4 > len) {
            return -1;
        }
        qnameLength = p - Wire.HEADER;
        nameLength = n;
        nameEscapes = escapes;
        qtype = u16(b, p);
        qclass = u16(b, p + 2);
        p += 4;
        questionLength = p - Wire.HEADER;
        return p;
    }

    /**
     * The question name, lower case, no trailing dot, dots and backslashes inside labels escaped;
     * {@code ""} for the root. Built on first use: served names are found by {@link #name()} without it.
     */
    public String qname() {
        if (qname == null) {
            if (nameEscapes) {
                qname = escaped(packet, Wire.HEADER);
            } else if (nameLength == lastLength && Arrays.equals(name, 0, nameLength, last, 0, nameLength)) {
                // Hot names repeat: the previous String, its hash already computed, saves an allocation.
                qname = lastName;
            } else {
                qname = new String(name, 0, nameLength, StandardCharsets.ISO_8859_1);
                System.arraycopy(name, 0, last, 0, nameLength);
                lastLength = nameLength;
                lastName = qname;
            }
        }
        return qname;
    }

    /**
     * The question name as bytes: lower case, dotted, no trailing dot, valid up to {@link #nameLength};
     * ambiguous when {@link #nameEscapes}. The array is reused by the next {@link #parse}: do not keep it.
     */
    public byte[] name() {
        return name;
    }

    /** The name in presentation form with dots and backslashes inside labels escaped (rare, so not fast). */
    private static String escaped(byte[] b, int p) {
        StringBuilder sb = new StringBuilder(64);
        for (int l = b[p] & 0xFF; l != 0; l = b[p] & 0xFF) {
            if (sb.length() > 0) {
                sb.append('.');
            }
            for (int i = p + 1; i <= p + l; i++) {
                int c = Wire.toLowerAscii(b[i] & 0xFF);
                if (c == '.' || c == '\\') {
                    sb.append('\\');
                }
                sb.append((char) c);
            }
            p += 1 + l;
        }
        return sb.toString();
    }


    /** The most bytes a UDP answer to this query may have: 512 without EDNS0, else the client's size. */
    public int clientUdpLimit() {
        return edns ? Math.max(Wire.MIN_UDP, ednsUdpSize) : Wire.MIN_UDP;
    }
}
