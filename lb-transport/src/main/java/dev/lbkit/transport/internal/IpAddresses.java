package dev.lbkit.transport.internal;

import io.netty.util.NetUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * IP address literals and CIDR tables, read without DNS, for every tier (lb-l4's ipvsadm rule files,
 * lb-l7's trusted proxies), and nginx's walk of a forwarding header ({@code ngx_http_get_forwarded_addr})
 * for lb-l7's {@code RealIp}. The per-request methods read the text in place into caller-given byte
 * arrays and allocate nothing. Immutable tables; thread-safe.
 */
public final class IpAddresses {
    private final byte[][] nets;
    private final byte[] prefixes;

    private IpAddresses(List<byte[]> nets, List<Integer> prefixes) {
        this.nets = nets.toArray(new byte[0][]);
        this.prefixes = new byte[prefixes.size()];
        for (int i = 0; i < this.prefixes.length; i++) {
            this.prefixes[i] = (byte) (int) prefixes.get(i);
        }
    }

    /**
     * A table of CIDRs ({@code 10.0.0.0/8}, {@code 2001:db8::/32}, or one address standing for /32 or /128).
     *
     * @throws IllegalArgumentException naming the first that is not one
     */
    public static IpAddresses table(List<String> cidrs) {
        List<byte[]> nets = new ArrayList<>();
        List<Integer> prefixes = new ArrayList<>();
        byte[] a = new byte[16];
        for (String c : cidrs) {
            int bits = parseCidr(c, a);
            int len = bits >>> 8;
            nets.add(Arrays.copyOf(a, len));
            prefixes.add(bits & 0xff);
        }
        return new IpAddresses(nets, prefixes);
    }

    /**
     * The CIDR {@code text} in canonical form, its host bits cleared as nginx does ({@code 10.1.2.3/8}
     * is {@code 10.0.0.0/8}).
     *
     * @throws IllegalArgumentException naming {@code text} if it is not an IPv4 or IPv6 CIDR or address
     */
    public static String canonicalCidr(String text) {
        byte[] a = new byte[16];
        int bits = parseCidr(text, a);
        return NetUtil.bytesToIpAddress(Arrays.copyOf(a, bits >>> 8)) + "/" + (bits & 0xff);
    }

    /** Parses {@code text} into {@code out} (host bits cleared); returns length << 8 | prefix. */
    private static int parseCidr(String text, byte[] out) {
        int slash = text.indexOf('/');
        int end = slash < 0 ? text.length() : slash;
        int len = parseLiteral(text, 0, end, out);
        if (len < 0) {
            throw new IllegalArgumentException("not an IP address or CIDR: \"" + text + "\"");
        }
        int prefix = len * 8;
        if (slash >= 0) {
            prefix = digits(text, slash + 1, text.length(), len * 8);
            if (prefix < 0) {
                throw new IllegalArgumentException("bad prefix length in CIDR \"" + text + "\" (0 to " + len * 8 + ")");
            }
        }
        for (int i = 0; i < len; i++) {
            out[i] &= (byte) mask(prefix, i);
        }
        return len << 8 | prefix;
    }

    /** The mask byte {@code i} of a prefix of {@code prefix} bits. */
    private static int mask(int prefix, int i) {
        int bits = prefix - i * 8;
        return bits >= 8 ? 0xff : bits <= 0 ? 0 : 0xff << (8 - bits) & 0xff;
    }

    /** Whether the first {@code len} bytes of {@code a} (an IPv4 or IPv6 address) are in one of the CIDRs. */
    public boolean matches(byte[] a, int len) {
        for (int n = 0; n < nets.length; n++) {
            byte[] net = nets[n];
            if (net.length != len) {
                continue;
            }
            int prefix = prefixes[n] & 0xff;
            int i = 0;
            for (; i < len; i++) {
                if ((a[i] & mask(prefix, i)) != (net[i] & 0xff)) {
                    break;
                }
            }
            if (i == len) {
                return true;
            }
        }
        return false;
    }

    /**
     * nginx's walk of a forwarding header ({@code ngx_http_get_forwarded_addr}), for a connection whose
     * address the caller found trusted: the last entry of {@code v}; when {@code recursive}, the entries
     * before it as long as the address taken is trusted. Entries are separated by commas and spaces; each
     * is an address or an address with a port as {@link #parseAddressPort} reads it, and the port of the
     * entry taken comes with it (nginx 1.11.0 and later replace the client port with it).
     *
     * @param out receives the address taken (16 bytes at least)
     * @param scratch 16 bytes at least
     * @return the length of the address in {@code out} (4 or 16) in the low 8 bits and its entry's port
     *     (0 when it has none) above them, as {@link #parseAddressPort}; 0 when the header names no valid
     *     address: the connection's address stays
     */
    public static int walk(CharSequence v, IpAddresses trusted, boolean recursive, byte[] out, byte[] scratch) {
        int end = skipSeparators(v, v.length());
        if (end == 0) {
            return 0;
        }
        int start = tokenStart(v, end);
        int r = parseAddressPort(v, start, end, out);
        if (r < 0) {
            return 0;
        }
        while (recursive) {
            end = skipSeparators(v, start);
            if (end == 0 || !trusted.matches(out, r & 0xff)) {
                break;
            }
            start = tokenStart(v, end);
            int m = parseAddressPort(v, start, end, scratch);
            if (m < 0) {
                // nginx keeps the trusted address it has when the one before it is not an address.
                break;
            }
            System.arraycopy(scratch, 0, out, 0, m & 0xff);
            r = m;
        }
        return r;
    }

    private static boolean separator(char c) {
        return c == ' ' || c == ',';
    }

    private static int skipSeparators(CharSequence v, int end) {
        while (end > 0 && separator(v.charAt(end - 1))) {
            end--;
        }
        return end;
    }

    private static int tokenStart(CharSequence v, int end) {
        int start = end;
        while (start > 0 && !separator(v.charAt(start - 1))) {
            start--;
        }
        return start;
    }

    /**
     * nginx's {@code ngx_parse_addr_port} (RFC 3986's host and port): an address, else
     * {@code 1.2.3.4:port} or {@code [v6]:port} with a port of decimal digits from 1 to 65535 (leading
     * zeros allowed, as {@code ngx_atoi} reads it). An IPv6 literal without brackets is an address only,
     * whatever its last group; {@code [v6]} without a port, an empty port, or a port of 0, above 65535 or
     * with another character is not valid. Allocation-free.
     *
     * @param out receives the address (16 bytes at least)
     * @return the address's length in {@code out} (4 or 16) in the low 8 bits and the port (0 when there
     *     is none) above them ({@code length | port << 8}), or -1 when {@code s[from, to)} is not valid
     */
    public static int parseAddressPort(CharSequence s, int from, int to, byte[] out) {
        int n = parseLiteral(s, from, to, out);
        if (n > 0 || to - from < 3) {
            return n;
        }
        int portFrom;
        int addrFrom = from;
        int addrTo;
        if (s.charAt(from) == '[') {
            int close = indexOf(s, ']', from, to);
            if (close < 0 || close + 2 >= to || s.charAt(close + 1) != ':') {
                return -1;
            }
            addrFrom = from + 1;
            addrTo = close;
            portFrom = close + 2;
        } else {
            addrTo = indexOf(s, ':', from, to);
            if (addrTo < 0) {
                return -1;
            }
            portFrom = addrTo + 1;
        }
        int port = digits(s, portFrom, to, 65535);
        if (port < 1) {
            return -1;
        }
        n = parseLiteral(s, addrFrom, addrTo, out);
        return n < 0 ? -1 : n | port << 8;
    }

    private static int indexOf(CharSequence s, char c, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }

    /**
     * A decimal number in [from, to) not above {@code max}, or -1: nginx's {@code ngx_atoi}, which takes
     * any number of leading zeros, then a bound.
     */
    private static int digits(CharSequence s, int from, int to, int max) {
        if (to <= from) {
            return -1;
        }
        int v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
            if (v > max) {
                return -1;
            }
        }
        return v;
    }

    /**
     * An IPv4 (dotted quad) or IPv6 (RFC 4291 text, an IPv4 tail allowed, no zone) literal in
     * {@code s[from, to)} into {@code out}; returns 4 or 16, or -1 if it is not one. No DNS.
     */
    public static int parseLiteral(CharSequence s, int from, int to, byte[] out) {
        if (indexOf(s, ':', from, to) >= 0) {
            return parse6(s, from, to, out);
        }
        return parse4(s, from, to, out, 0) ? 4 : -1;
    }

    private static boolean parse4(CharSequence s, int from, int to, byte[] out, int off) {
        int i = from;
        for (int octet = 0; octet < 4; octet++) {
            int start = i;
            int v = 0;
            while (i < to && i - start < 3 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                v = v * 10 + (s.charAt(i++) - '0');
            }
            if (i == start || v > 255) {
                return false;
            }
            out[off + octet] = (byte) v;
            if (octet < 3) {
                if (i >= to || s.charAt(i) != '.') {
                    return false;
                }
                i++;
            }
        }
        return i == to;
    }

    /** An ASCII hex digit's value, or -1 (Character.digit would take other scripts' digits too). */
    private static int hex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private static int parse6(CharSequence s, int from, int to, byte[] out) {
        if (to - from < 2) {
            return -1;
        }
        int i = from;
        int w = 0;
        int gap = -1;
        if (s.charAt(i) == ':') {
            if (s.charAt(i + 1) != ':') {
                return -1;
            }
            gap = 0;
            i += 2;
        }
        while (i < to) {
            if (w == 16) {
                return -1;
            }
            int start = i;
            int v = 0;
            int d;
            while (i < to && i - start < 4 && (d = hex(s.charAt(i))) >= 0) {
                v = v << 4 | d;
                i++;
            }
            if (i == start) {
                return -1;
            }
            if (i < to && s.charAt(i) == '.') {
                if (w > 12 || !parse4(s, start, to, out, w)) {
                    return -1;
                }
                w += 4;
                break;
            }
            out[w++] = (byte) (v >> 8);
            out[w++] = (byte) v;
            if (i == to) {
                break;
            }
            if (s.charAt(i++) != ':' || i == to) {
                return -1;
            }
            if (s.charAt(i) == ':') {
                if (gap >= 0) {
                    return -1;
                }
                gap = w;
                i++;
            }
        }
        if (gap < 0) {
            return w == 16 ? 16 : -1;
        }
        if (w == 16) {
            return -1;
        }
        int tail = w - gap;
        System.arraycopy(out, gap, out, 16 - tail, tail);
        Arrays.fill(out, gap, 16 - tail, (byte) 0);
        return 16;
    }
}
