package dev.lbkit.transport.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * {@link IpAddresses}: CIDRs match exactly the addresses whose first prefix bits are the network's; text
 * that is not a CIDR is refused with an {@link IllegalArgumentException} and nothing else; the header walk
 * agrees with a model of nginx's {@code ngx_http_get_forwarded_addr} written out on its own.
 */
class IpAddressesProperties {

    private static boolean samePrefix(byte[] a, byte[] b, int bits) {
        for (int i = 0; i < bits; i++) {
            int bit = 7 - i % 8;
            if ((a[i / 8] >> bit & 1) != (b[i / 8] >> bit & 1)) {
                return false;
            }
        }
        return true;
    }

    /** {@code a} as text in one of the forms a reader meets: Java's full form, or Netty's compressed one. */
    private static String text(byte[] a, boolean compressed) throws UnknownHostException {
        if (a.length == 4 || compressed) {
            return NetUtil.bytesToIpAddress(a);
        }
        return Inet6Address.getByAddress(null, a, -1).getHostAddress();
    }

    @Property
    void aCidrMatchesExactlyTheAddressesSharingItsPrefix(@ForAll boolean v6, @ForAll boolean compressed,
            @ForAll @Size(16) byte[] net, @ForAll @Size(16) byte[] other, @ForAll @IntRange(max = 128) int prefix,
            @ForAll @IntRange(max = 128) int shared) throws UnknownHostException {
        int len = v6 ? 16 : 4;
        int bits = prefix % (len * 8 + 1);
        byte[] n = Arrays.copyOf(net, len);
        byte[] a = Arrays.copyOf(other, len);
        // Often share some leading bits, so that both answers come up.
        for (int i = 0; i < Math.min(shared, len * 8); i++) {
            int bit = 7 - i % 8;
            a[i / 8] = (byte) (a[i / 8] & ~(1 << bit) | n[i / 8] & 1 << bit);
        }
        IpAddresses t = IpAddresses.table(List.of(text(n, compressed) + "/" + bits));
        assertEquals(samePrefix(n, a, bits), t.matches(a, len));
        assertTrue(t.matches(n, len));
        // The other family never matches, even /0.
        byte[] otherFamily = new byte[v6 ? 4 : 16];
        assertTrue(!t.matches(otherFamily, otherFamily.length));
    }

    @Property
    void anAddressReadsBackToItsBytes(@ForAll boolean v6, @ForAll boolean compressed, @ForAll @Size(16) byte[] bytes)
            throws UnknownHostException {
        byte[] a = Arrays.copyOf(bytes, v6 ? 16 : 4);
        String s = text(a, compressed);
        byte[] out = new byte[16];
        assertEquals(a.length, IpAddresses.parseLiteral(s, 0, s.length(), out), s);
        assertArrayEquals(a, Arrays.copyOf(out, a.length), s);
        assertEquals(a.length, IpAddresses.parseAddressPort(s, 0, s.length(), out), s);
        String withPort = (v6 ? "[" + s + "]" : s) + ":443";
        assertEquals(a.length | 443 << 8, IpAddresses.parseAddressPort(withPort, 0, withPort.length(), out), withPort);
        assertArrayEquals(a, Arrays.copyOf(out, a.length), withPort);
    }

    /** A port as a header may carry it: valid (1 to 65535, leading zeros allowed) or one of nginx's refusals. */
    @Provide
    Arbitrary<String> ports() {
        Arbitrary<String> valid = Arbitraries.integers().between(1, 65535).map(String::valueOf);
        Arbitrary<String> zeros = Arbitraries.integers().between(0, 65536)
                .flatMap(p -> Arbitraries.integers().between(1, 6).map(z -> "0".repeat(z) + p));
        Arbitrary<String> bad = Arbitraries.of("", "0", "65536", "99999", "4294967297", "-1", "+80", "8o", " 80",
                "80 ", "0x50", "80:81", "١٢");
        return Arbitraries.oneOf(valid, zeros, bad);
    }

    /**
     * nginx's {@code ngx_parse_addr_port}, written out on its own: a port is {@code ngx_atoi} of the text
     * after the address (digits only, any leading zeros), valid from 1 to 65535; anything else, -1.
     */
    private static int modelPort(String port) {
        if (port.isEmpty() || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        String digits = port.replaceFirst("^0+(?=.)", "");
        if (digits.length() > 5) {
            return -1;
        }
        int p = Integer.parseInt(digits);
        return p >= 1 && p <= 65535 ? p : -1;
    }

    /**
     * A header entry with a port ({@code 192.0.2.1:5555}, {@code [2001:db8::1]:5555}) reads to its address
     * and port when the port is valid, and is refused whole otherwise; within a header the walk then keeps
     * the connection's address. An IPv6 entry without brackets is an address only.
     */
    @Property
    void anEntryWithAPortReadsToItsAddressAndPortOrIsRefusedAsNginxDoes(@ForAll boolean v6,
            @ForAll boolean compressed, @ForAll @Size(16) byte[] bytes, @ForAll("ports") String port)
            throws UnknownHostException {
        byte[] a = Arrays.copyOf(bytes, v6 ? 16 : 4);
        String address = text(a, compressed);
        String entry = (v6 ? "[" + address + "]" : address) + ":" + port;
        byte[] out = new byte[16];
        int expected = modelPort(port);
        int r = IpAddresses.parseAddressPort(entry, 0, entry.length(), out);
        if (expected < 0) {
            assertEquals(-1, r, entry);
        } else {
            assertEquals(a.length | expected << 8, r, entry);
            assertArrayEquals(a, Arrays.copyOf(out, a.length), entry);
        }
        if (port.indexOf(' ') < 0) {
            // (A blank would split the entry in a header.)
            String header = "198.51.100.1, " + entry;
            int w = IpAddresses.walk(header, TRUSTED, false, out, new byte[16]);
            assertEquals(expected < 0 ? 0 : a.length | expected << 8, w, header);
        }
    }

    @Test
    void anEntryThatIsNotAnAddressAndPortIsRefused() {
        byte[] out = new byte[16];
        for (String bad : List.of("[2001:db8::1]", "[2001:db8::1]:", "[2001:db8::1]80", "[2001:db8::1:80",
                "2001:db8::1]:80", "192.0.2.1:", ":80", "192.0.2.1:80:81", "192.0.2:80",
                "[]:80", "example.com:80", "[2001:db8::1%eth0]:80")) {
            assertEquals(-1, IpAddresses.parseAddressPort(bad, 0, bad.length(), out), bad);
        }
        // Without brackets the last group is part of the IPv6 address: no port.
        String v6 = "2001:db8::1:80";
        assertEquals(16, IpAddresses.parseAddressPort(v6, 0, v6.length(), out));
        // nginx takes an IPv4 address in brackets too (ngx_parse_addr of what is between them).
        String v4 = "[192.0.2.1]:80";
        assertEquals(4 | 80 << 8, IpAddresses.parseAddressPort(v4, 0, v4.length(), out));
    }

    @Provide
    Arbitrary<String> junk() {
        return Arbitraries.strings().withChars("0123456789abcdefABCDEFx:./[]%- ,").ofMaxLength(45);
    }

    @Property
    void anyTextIsACidrOrRefusedWithAnIllegalArgumentException(@ForAll("junk") String s) {
        String canonical;
        try {
            canonical = IpAddresses.canonicalCidr(s);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("\"" + s + "\""), e.getMessage());
            return;
        }
        // What is accepted is an address the JDK reads as a literal too, and its canonical form is stable.
        String address = s.indexOf('/') < 0 ? s : s.substring(0, s.indexOf('/'));
        assertTrue(NetUtil.isValidIpV4Address(address) || NetUtil.isValidIpV6Address(address), s);
        assertEquals(canonical, IpAddresses.canonicalCidr(canonical));
    }

    @Property
    void walkingAnyTextNeverThrows(@ForAll("junk") String s, @ForAll boolean recursive) {
        int r = IpAddresses.walk(s, TRUSTED, recursive, new byte[16], new byte[16]);
        int n = r & 0xff;
        assertTrue(r == 0 || (n == 4 || n == 16) && (r >>> 8) <= 65535, s);
    }

    @Test
    void refusesWhatIsNotACidr() {
        for (String bad : List.of("", "1.2.3", "1.2.3.4.5", "256.0.0.0", "1.2.3.4/33", "::/129", "1::2::3", ":1::",
                "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::", "::1%eth0", "[::1]", "1.2.3.4:80", "a.b.c.d",
                "1.2.3.4/0x8", "1.2.3.4/+8", "1.2.3.4/ 8", "१.2.3.4")) {
            assertThrows(IllegalArgumentException.class, () -> IpAddresses.canonicalCidr(bad), bad);
        }
        assertEquals("::ffff:102:300/120", IpAddresses.canonicalCidr("::ffff:1.2.3.4/120"));
        assertEquals("0.0.0.0/0", IpAddresses.canonicalCidr("1.2.3.4/0"));
    }

    // ---------------------------------------------------------------- the walk against a model

    private static final IpAddresses TRUSTED = IpAddresses.table(List.of("10.0.0.0/8", "2001:db8::/32"));

    /** One entry of a header: its text, the address it names (null if none) and its port (0 if none). */
    private record Token(String text, byte[] address, int port) {}

    private static Token token(String text, int port) {
        try {
            // Literals only: getByName does no lookup for them.
            String literal = text.startsWith("[") ? text.substring(1, text.indexOf(']'))
                    : text.indexOf(':') == text.lastIndexOf(':') && text.indexOf(':') > 0 ? text.substring(0, text.indexOf(':')) : text;
            return new Token(text, InetAddress.getByName(literal).getAddress(), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Provide
    Arbitrary<Token> tokens() {
        return Arbitraries.of(token("10.0.0.1", 0), token("10.9.8.7:8080", 8080), token("198.51.100.2", 0),
                token("203.0.113.9:1", 1), token("2001:db8::1", 0), token("[2001:db8::2]:443", 443),
                token("2001:db9::1", 0), token("[2001:db9::2]:00080", 80), token("198.51.100.3:65535", 65535),
                new Token("nonsense", null, 0), new Token("1.2.3", null, 0), new Token("[::1]", null, 0),
                new Token("1.2.3.4:0", null, 0), new Token("::1]:80", null, 0), new Token("10.0.0.2:65536", null, 0));
    }

    /**
     * nginx's walk, from its source: the last entry; when recursive, while the address taken is trusted,
     * the entry before it, stopping at one that is not an address (keeping what it has).
     */
    private static Token model(List<Token> tokens, boolean recursive) {
        if (tokens.isEmpty() || tokens.get(tokens.size() - 1).address() == null) {
            return null;
        }
        Token t = tokens.get(tokens.size() - 1);
        for (int i = tokens.size() - 2; recursive && i >= 0; i--) {
            if (!TRUSTED.matches(t.address(), t.address().length) || tokens.get(i).address() == null) {
                break;
            }
            t = tokens.get(i);
        }
        return t;
    }

    @Property
    void theWalkAgreesWithTheModel(@ForAll @Size(max = 6) List<@net.jqwik.api.From("tokens") Token> tokens,
            @ForAll @Size(min = 7, max = 7) List<@net.jqwik.api.From("separators") String> separators,
            @ForAll boolean recursive) {
        StringBuilder b = new StringBuilder(separators.get(6).trim());
        for (int i = 0; i < tokens.size(); i++) {
            b.append(i == 0 ? "" : separators.get(i)).append(tokens.get(i).text());
        }
        b.append(separators.get(0));
        byte[] out = new byte[16];
        int r = IpAddresses.walk(b, TRUSTED, recursive, out, new byte[16]);
        Token expected = model(tokens, recursive);
        if (expected == null) {
            assertEquals(0, r, b.toString());
        } else {
            assertArrayEquals(expected.address(), Arrays.copyOf(out, r & 0xff), b.toString());
            assertEquals(expected.port(), r >>> 8, b.toString());
        }
    }

    @Provide
    Arbitrary<String> separators() {
        return Arbitraries.of(",", ", ", " ", ",,", " , ");
    }
}
