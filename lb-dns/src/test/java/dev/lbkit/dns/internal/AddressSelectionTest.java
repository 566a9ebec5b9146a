package dev.lbkit.dns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * RFC 6724 destination address selection over hand-built address lists, with made-up sources: no socket
 * is opened, and asking for a source the test did not give fails the test.
 *
 * <p>The first group is the destination address selection examples of RFC 6724 section 10.2, each with the
 * source the example's result names. Where the example's input is already in the result's order, the
 * reversed input is sorted as well, so the rule and not rule 10 decides.
 */
class AddressSelectionTest {
    private static final String NO_ROUTE = "no route";

    /** Sorts {@code dest, source, dest, source, ...}; a source of {@link #NO_ROUTE} makes the destination unusable. */
    private static List<String> order(boolean preferIpv6, String... pairs) {
        Map<InetSocketAddress, String> given = new HashMap<>();
        List<InetSocketAddress> in = new ArrayList<>();
        for (int i = 0; i < pairs.length; i += 2) {
            InetSocketAddress d = socket(pairs[i]);
            in.add(d);
            given.put(d, pairs[i + 1]);
        }
        SourceLookup made = d -> {
            String s = given.get(d);
            if (s == null) {
                throw new AssertionError("asked for a source the test did not give: " + d);
            }
            return s.equals(NO_ROUTE) ? Optional.empty() : Optional.of(ip(s));
        };
        List<String> out = new ArrayList<>();
        for (InetSocketAddress a : AddressSelection.sort(in, AddressSelection.sources(in, made), preferIpv6)) {
            out.add(a.getAddress().getHostAddress());
        }
        return out;
    }

    private static List<String> order(String... pairs) {
        return order(true, pairs);
    }

    static InetAddress ip(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(s, e);
        }
    }

    static InetSocketAddress socket(String s) {
        return new InetSocketAddress(ip(s), 443);
    }

    /** Java's long form of an IPv6 address, as getHostAddress() prints it. */
    private static String n(String s) {
        return ip(s).getHostAddress();
    }

    // RFC 6724 section 10.2, example 1: prefer matching scope (rule 2).
    @Test
    void rfcExample1PreferMatchingScope() {
        List<String> expected = List.of(n("2001:db8:1::1"), "198.51.100.121");
        assertEquals(expected, order("2001:db8:1::1", "2001:db8:1::2", "198.51.100.121", "169.254.13.78"));
        assertEquals(expected, order("198.51.100.121", "169.254.13.78", "2001:db8:1::1", "2001:db8:1::2"));
    }

    // Example 2: prefer matching scope (rule 2), here for IPv4 over IPv6's higher precedence.
    @Test
    void rfcExample2PreferMatchingScope() {
        List<String> expected = List.of("198.51.100.121", n("2001:db8:1::1"));
        assertEquals(expected, order("2001:db8:1::1", "fe80::1", "198.51.100.121", "198.51.100.117"));
        assertEquals(expected, order("198.51.100.121", "198.51.100.117", "2001:db8:1::1", "fe80::1"));
    }

    // Example 3: prefer higher precedence (rule 6); RFC 1918 addresses are global scope in RFC 6724.
    @Test
    void rfcExample3PreferHigherPrecedence() {
        List<String> expected = List.of(n("2001:db8:1::1"), "10.1.2.3");
        assertEquals(expected, order("2001:db8:1::1", "2001:db8:1::2", "10.1.2.3", "10.1.2.4"));
        assertEquals(expected, order("10.1.2.3", "10.1.2.4", "2001:db8:1::1", "2001:db8:1::2"));
    }

    // Example 4: prefer smaller scope (rule 8).
    @Test
    void rfcExample4PreferSmallerScope() {
        List<String> expected = List.of(n("fe80::1"), n("2001:db8:1::1"));
        assertEquals(expected, order("2001:db8:1::1", "2001:db8:1::2", "fe80::1", "fe80::2"));
        assertEquals(expected, order("fe80::1", "fe80::2", "2001:db8:1::1", "2001:db8:1::2"));
    }

    // Example 5 needs rule 4 (prefer home address), which is a tie here: rule 8 decides instead.
    @Test
    void rfcExample5HomeAddressIsATieSoRule8Decides() {
        // The RFC's result is 2001:db8:1::1 (from home address 2001:db8:3::1) first; Java cannot see home addresses.
        List<String> expected = List.of(n("fe80::1"), n("2001:db8:1::1"));
        assertEquals(expected, order("2001:db8:1::1", "2001:db8:3::1", "fe80::1", "fe80::2"));
    }

    // Example 6 needs rule 3 (avoid deprecated source fe80::2), which is a tie here: rule 8 decides instead.
    @Test
    void rfcExample6DeprecatedSourceIsATieSoRule8Decides() {
        // The RFC's result is 2001:db8:1::1 first; Java cannot see that fe80::2 is deprecated.
        List<String> expected = List.of(n("fe80::1"), n("2001:db8:1::1"));
        assertEquals(expected, order("2001:db8:1::1", "2001:db8:1::2", "fe80::1", "fe80::2"));
    }

    // Example 7: longest matching prefix (rule 9): 64 bits in common against 40.
    @Test
    void rfcExample7LongestMatchingPrefix() {
        List<String> expected = List.of(n("2001:db8:1::1"), n("2001:db8:3ffe::1"));
        assertEquals(expected, order("2001:db8:1::1", "2001:db8:1::2", "2001:db8:3ffe::1", "2001:db8:3f44::2"));
        assertEquals(expected, order("2001:db8:3ffe::1", "2001:db8:3f44::2", "2001:db8:1::1", "2001:db8:1::2"));
    }

    // Example 8: prefer matching label (rule 5): a 6to4 source reaches the 6to4 destination first.
    @Test
    void rfcExample8PreferMatchingLabel() {
        List<String> expected = List.of(n("2002:c633:6401::1"), n("2001:db8:1::1"));
        assertEquals(expected, order("2002:c633:6401::1", "2002:c633:6401::2", "2001:db8:1::1", "2002:c633:6401::2"));
        assertEquals(expected, order("2001:db8:1::1", "2002:c633:6401::2", "2002:c633:6401::1", "2002:c633:6401::2"));
    }

    // Example 9: both labels match, so precedence decides (rule 6): 40 for native IPv6 against 30 for 6to4.
    @Test
    void rfcExample9PreferHigherPrecedence() {
        List<String> expected = List.of(n("2001:db8:1::1"), n("2002:c633:6401::1"));
        assertEquals(expected, order("2002:c633:6401::1", "2002:c633:6401::2", "2001:db8:1::1", "2001:db8:1::2"));
        assertEquals(expected, order("2001:db8:1::1", "2001:db8:1::2", "2002:c633:6401::1", "2002:c633:6401::2"));
    }

    @Test
    void rule1PutsADestinationWithoutARouteLastWhateverItsPrecedence() {
        List<String> expected = List.of("198.51.100.1", n("2001:db8::1"));
        assertEquals(expected, order("2001:db8::1", NO_ROUTE, "198.51.100.1", "198.51.100.2"));
        // Even ::1 (precedence 50) and with preferIpv6 false nothing changes for a usable IPv4 address.
        assertEquals(List.of("127.0.0.1", n("::1")), order("::1", NO_ROUTE, "127.0.0.1", "127.0.0.1"));
        assertEquals(List.of("198.51.100.1", n("2001:db8::1")),
                order(false, "2001:db8::1", NO_ROUTE, "198.51.100.1", "198.51.100.2"));
        // Unusable destinations keep rule 6 among themselves.
        assertEquals(List.of(n("2001:db8::1"), "198.51.100.1"), order("198.51.100.1", NO_ROUTE, "2001:db8::1", NO_ROUTE));
    }

    @Test
    void rule5ATeredoSourcePrefersTheTeredoDestination() {
        // Both scopes match (global); Teredo's label 5 differs from native 2001:db8::/32's label 1: rule 5.
        assertEquals(List.of(n("2001:0:4136:e378::1"), n("2001:db8::1")),
                order("2001:db8::1", "2001:0:4136:e378::2", "2001:0:4136:e378::1", "2001:0:4136:e378::2"));
    }

    @Test
    void rule5LabelsOfTheDefaultPolicyTable() {
        assertEquals(0, AddressSelection.label(ip("::1")));
        assertEquals(1, AddressSelection.label(ip("2001:db8::1")));
        assertEquals(1, AddressSelection.label(ip("fe80::1")));
        assertEquals(2, AddressSelection.label(ip("2002:c633:6401::1")));
        assertEquals(3, AddressSelection.label(ip("::10.1.2.3")));
        assertEquals(4, AddressSelection.label(ip("10.1.2.3")));
        assertEquals(4, AddressSelection.label(ip("::ffff:10.1.2.3")));
        assertEquals(5, AddressSelection.label(ip("2001:0:4136:e378::1")));
        assertEquals(11, AddressSelection.label(ip("fec0::1")));
        assertEquals(12, AddressSelection.label(ip("3ffe::1")));
        assertEquals(13, AddressSelection.label(ip("fc00::1")));
        assertEquals(13, AddressSelection.label(ip("fd00::1")));
        // 2001:1::/32 is not Teredo: only 2001::/32 (bits 17..32 zero) is.
        assertEquals(1, AddressSelection.label(ip("2001:1::1")));
    }

    @Test
    void rule5AUniqueLocalSourcePrefersTheUniqueLocalDestination() {
        // A ULA-only host (source fd00::2 for both): the ULA destination matches its label (13), the global one does not.
        assertEquals(List.of(n("fd00::1"), n("2001:db8::1")), order("2001:db8::1", "fd00::2", "fd00::1", "fd00::2"));
        // An IPv4-compatible destination reached from a native source does not match label 3.
        assertEquals(List.of(n("2001:db8::1"), n("::10.1.2.3")), order("::10.1.2.3", "2001:db8::2", "2001:db8::1", "2001:db8::2"));
    }

    @Test
    void rule6PrecedencesOfBothPolicyTables() {
        String[][] rows = {
            {"::1", "50", "50"}, {"2001:db8::1", "40", "40"}, {"10.1.2.3", "35", "100"}, {"::ffff:10.1.2.3", "35", "100"},
            {"2002::1", "30", "30"}, {"2001::1", "5", "5"}, {"fc00::1", "3", "3"}, {"::10.1.2.3", "1", "1"},
            {"fec0::1", "1", "1"}, {"3ffe::1", "1", "1"},
        };
        for (String[] r : rows) {
            assertEquals(Integer.parseInt(r[1]), AddressSelection.precedence(ip(r[0]), true), r[0]);
            assertEquals(Integer.parseInt(r[2]), AddressSelection.precedence(ip(r[0]), false), r[0] + " (section 10.3)");
        }
    }

    @Test
    void preferIpv6FalseUsesSection103sTable() {
        // RFC example 3 again: with IPv4 at precedence 100, the IPv4 destination goes first.
        assertEquals(List.of("10.1.2.3", n("2001:db8:1::1")),
                order(false, "2001:db8:1::1", "2001:db8:1::2", "10.1.2.3", "10.1.2.4"));
        // Rule 2 still comes before rule 6: an IPv4 destination from a link-local source loses to matching IPv6.
        assertEquals(List.of(n("2001:db8:1::1"), "198.51.100.121"),
                order(false, "198.51.100.121", "169.254.13.78", "2001:db8:1::1", "2001:db8:1::2"));
    }

    @Test
    void rule8ScopesOfRfc6724Section3() {
        assertEquals(2, AddressSelection.scope(ip("127.0.0.2")));
        assertEquals(2, AddressSelection.scope(ip("169.254.13.78")));
        assertEquals(14, AddressSelection.scope(ip("10.1.2.3")));
        assertEquals(14, AddressSelection.scope(ip("198.51.100.1")));
        assertEquals(2, AddressSelection.scope(ip("::1")));
        assertEquals(2, AddressSelection.scope(ip("fe80::1")));
        assertEquals(5, AddressSelection.scope(ip("fec0::1")));
        assertEquals(14, AddressSelection.scope(ip("fd00::1")));
        assertEquals(14, AddressSelection.scope(ip("2001:db8::1")));
        assertEquals(2, AddressSelection.scope(ip("ff02::1")));
        assertEquals(5, AddressSelection.scope(ip("ff05::1")));
        assertEquals(14, AddressSelection.scope(ip("ff0e::1")));
    }

    @Test
    void rule8LoopbackBeforeGlobalWithinIpv4() {
        assertEquals(List.of("127.0.0.1", "198.51.100.1"), order("198.51.100.1", "198.51.100.2", "127.0.0.1", "127.0.0.1"));
    }

    @Test
    void rule9CommonPrefixLengthStopsAt64Bits() {
        assertEquals(64, AddressSelection.commonPrefixLength(ip("fe80::1"), ip("fe80::2")), "RFC 6724 section 2.2's example");
        assertEquals(40, AddressSelection.commonPrefixLength(ip("2001:db8:3f44::2"), ip("2001:db8:3ffe::1")));
        assertEquals(64, AddressSelection.commonPrefixLength(ip("2001:db8:1::2"), ip("2001:db8:1::2")));
        assertEquals(0, AddressSelection.commonPrefixLength(ip("2001:db8::1"), ip("fe80::1")));
        assertEquals(0, AddressSelection.commonPrefixLength(ip("10.0.0.2"), ip("10.0.0.1")));
        assertEquals(0, AddressSelection.commonPrefixLength(ip("2001:db8::1"), ip("10.0.0.1")));
    }

    @Test
    void rule9KeepsTheDnsOrderOfServersInTheSourcesSlash64() {
        // Interface IDs differ in how many bits they share with the source's; RFC 6724 stops at the prefix.
        List<String> rotated = order("2001:db8:1::ffff", "2001:db8:1::2", "2001:db8:1::3", "2001:db8:1::2");
        assertEquals(List.of(n("2001:db8:1::ffff"), n("2001:db8:1::3")), rotated);
    }

    @Test
    void rule9IsNotAppliedToIpv4SoRoundRobinOrderStands() {
        // 10.0.0.1 shares 30 bits with the source 10.0.0.2, 10.55.0.1 only 9; the DNS order stands either way.
        assertEquals(List.of("10.55.0.1", "10.0.0.1"), order("10.55.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.2"));
        assertEquals(List.of("10.0.0.1", "10.55.0.1"), order("10.0.0.1", "10.0.0.2", "10.55.0.1", "10.0.0.2"));
        // The seed's two loopback backends, rotated by lbkit's DNS server: each rotation is kept.
        assertEquals(List.of("127.0.0.2", "127.0.0.1"), order("127.0.0.2", "127.0.0.1", "127.0.0.1", "127.0.0.1"));
        assertEquals(List.of("127.0.0.1", "127.0.0.2"), order("127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.1"));
    }

    @Test
    void rule10KeepsTheGivenOrderOfTies() {
        assertEquals(List.of("198.51.100.3", "198.51.100.1", "198.51.100.2"),
                order("198.51.100.3", "198.51.100.9", "198.51.100.1", "198.51.100.9", "198.51.100.2", "198.51.100.9"));
    }

    @Test
    void unresolvedAddressesGoLastInTheirOrder() {
        InetSocketAddress u1 = InetSocketAddress.createUnresolved("a.example", 80);
        InetSocketAddress u2 = InetSocketAddress.createUnresolved("b.example", 80);
        InetSocketAddress v4 = socket("198.51.100.1");
        List<InetSocketAddress> in = List.of(u1, v4, u2);
        assertEquals(List.of(v4, u1, u2),
                AddressSelection.sort(in, AddressSelection.sources(in, d -> Optional.of(d.getAddress())), true));
    }

    @Test
    void sourcesAreLookedUpOncePerDistinctAddressAndAtMost64() {
        AtomicInteger asked = new AtomicInteger();
        SourceLookup counting = d -> {
            asked.incrementAndGet();
            return Optional.of(d.getAddress());
        };
        List<InetSocketAddress> in = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            in.add(socket("198.51.100." + (i + 1)));
            in.add(socket("198.51.100." + (i + 1)));
        }
        Map<InetSocketAddress, Optional<InetAddress>> sources = AddressSelection.sources(in, counting);
        assertEquals(AddressSelection.MAX_SOURCE_LOOKUPS, asked.get());
        assertEquals(AddressSelection.MAX_SOURCE_LOOKUPS, sources.size());
        assertTrue(sources.containsKey(socket("198.51.100.64")));
        assertFalse(sources.containsKey(socket("198.51.100.65")), "beyond the cap: not looked up");
    }

    @Test
    void aLookupThatThrowsLeavesTheDestinationUnknownNotUnusable() {
        InetSocketAddress broken = socket("198.51.100.1");
        InetSocketAddress fine = socket("198.51.100.2");
        List<InetSocketAddress> in = List.of(broken, fine);
        Map<InetSocketAddress, Optional<InetAddress>> sources = AddressSelection.sources(in, d -> {
            if (d.equals(broken)) {
                throw new IllegalStateException("bug in a strategy");
            }
            return Optional.of(d.getAddress());
        });
        assertFalse(sources.containsKey(broken));
        // Unknown source: usable, but without a scope match it sorts after the one whose source matches.
        assertEquals(List.of(fine, broken), AddressSelection.sort(in, sources, true));
    }
}
