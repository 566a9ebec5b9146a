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
        String withPort = (v6 ? "[" + s + "]" : s) + ":443";
        assertEquals(a.length, IpAddresses.parseAddressPort(withPort, 0, withPort.length(), out), withPort);
        assertArrayEquals(a, Arrays.copyOf(out, a.length), withPort);
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
        int n = IpAddresses.walk(s, TRUSTED, recursive, new byte[16], new byte[16]);
        assertTrue(n == 0 || n == 4 || n == 16, s);
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

    /** One entry of a header: its text, and the address it names (null if none). */
    private record Token(String text, byte[] address) {}

    private static Token token(String text) {
        try {
            // Literals only: getByName does no lookup for them.
            String literal = text.startsWith("[") ? text.substring(1, text.indexOf(']'))
                    : text.indexOf(':') == text.lastIndexOf(':') && text.indexOf(':') > 0 ? text.substring(0, text.indexOf(':')) : text;
            return new Token(text, InetAddress.getByName(literal).getAddress());
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Provide
    Arbitrary<Token> tokens() {
        return Arbitraries.of(token("10.0.0.1"), token("10.9.8.7:8080"), token("198.51.100.2"), token("203.0.113.9:1"),
                token("2001:db8::1"), token("[2001:db8::2]:443"), token("2001:db9::1"), token("[2001:db9::2]:80"),
                new Token("nonsense", null), new Token("1.2.3", null), new Token("[::1]", null),
                new Token("1.2.3.4:0", null), new Token("::1]:80", null));
    }

    /**
     * nginx's walk, from its source: the last entry; when recursive, while the address taken is trusted,
     * the entry before it, stopping at one that is not an address (keeping what it has).
     */
    private static byte[] model(List<Token> tokens, boolean recursive) {
        if (tokens.isEmpty() || tokens.get(tokens.size() - 1).address() == null) {
            return null;
        }
        byte[] a = tokens.get(tokens.size() - 1).address();
        for (int i = tokens.size() - 2; recursive && i >= 0; i--) {
            if (!TRUSTED.matches(a, a.length) || tokens.get(i).address() == null) {
                break;
            }
            a = tokens.get(i).address();
        }
        return a;
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
        int n = IpAddresses.walk(b, TRUSTED, recursive, out, new byte[16]);
        byte[] expected = model(tokens, recursive);
        if (expected == null) {
            assertEquals(0, n, b.toString());
        } else {
            assertArrayEquals(expected, Arrays.copyOf(out, n), b.toString());
        }
    }

    @Provide
    Arbitrary<String> separators() {
        return Arbitraries.of(",", ", ", " ", ",,", " , ");
    }
}
