package dev.lbkit.dns.internal;

import dev.lbkit.api.internal.InetAddresses;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * RFC 6724 section 6, destination address selection, with the default policy table of section 2.1 (or,
 * with {@code preferIpv6} false, the table of section 10.3 that gives IPv4 precedence 100).
 *
 * <p>Applied, in this order: rule 1 (avoid unusable destinations: no route, so no source), rule 2 (prefer
 * matching scope), rule 5 (prefer matching label), rule 6 (prefer higher precedence), rule 8 (prefer
 * smaller scope), rule 9 (longest matching prefix, IPv6 only, see {@link #commonPrefixLength}) and rule 10
 * (otherwise keep the given order: the sort is stable).
 *
 * <p>Treated as ties, because Java does not expose what they compare: rule 3 (avoid deprecated source
 * addresses; the preferred/deprecated state of an address, RFC 4862, is not in {@code NetworkInterface}),
 * rule 4 (prefer home addresses; Mobile IPv6 home and care-of addresses are not visible either) and rule 7
 * (prefer native transport; whether the route runs through an encapsulating tunnel is not visible).
 *
 * <p>Each rule compares a value of each destination on its own, so the order is a total preorder: sorting
 * is idempotent, and permuting the input changes only the order among destinations that tie on every
 * rule. Stateless and thread-safe.
 */
public final class AddressSelection {
    /**
     * At most this many distinct destinations get a source lookup per call to {@link #sources}; any further
     * ones are sorted as usable with an unknown source (no scope, label or prefix match). Bounds the cost
     * of a huge answer (about 25 µs per lookup).
     */
    public static final int MAX_SOURCE_LOOKUPS = 64;

    /** RFC 6724 section 2.1, longest prefix first; precedence of ::ffff:0:0/96 is replaced with preferIpv6 false. */
    private static final Policy[] POLICY = {
        new Policy(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 128, 50, 0),   // ::1/128, loopback
        new Policy(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF), 96, 35, 4),          // ::ffff:0:0/96, IPv4
        new Policy(bytes(), 96, 1, 3),                                                     // ::/96, IPv4-compatible
        new Policy(bytes(0x20, 0x01, 0, 0), 32, 5, 5),                                     // 2001::/32, Teredo
        new Policy(bytes(0x20, 0x02), 16, 30, 2),                                          // 2002::/16, 6to4
        new Policy(bytes(0x3F, 0xFE), 16, 1, 12),                                          // 3ffe::/16, 6bone
        new Policy(bytes(0xFE, 0xC0), 10, 1, 11),                                          // fec0::/10, site-local
        new Policy(bytes(0xFC), 7, 3, 13),                                                 // fc00::/7, unique local
        new Policy(bytes(), 0, 40, 1),                                                     // ::/0, the rest
    };
    private static final int IPV4_PRECEDENCE_PREFERRED = 100;
    /** RFC 6724 section 2.2: CommonPrefixLen stops at the end of the prefix, before the 64-bit interface ID. */
    private static final int IPV6_PREFIX_BITS = 64;

    private AddressSelection() {}

    private record Policy(byte[] prefix, int bits, int precedence, int label) {
        boolean matches(byte[] a) {
            int full = bits / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != prefix[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return (a[full] & mask) == (prefix[full] & mask);
        }
    }

    private static byte[] bytes(int... leading) {
        byte[] b = new byte[16];
        for (int i = 0; i < leading.length; i++) {
            b[i] = (byte) leading[i];
        }
        return b;
    }

    /** The address as 16 bytes, IPv4 as IPv4-mapped (::ffff:a.b.c.d), as RFC 6724 section 2 treats it. */
    static byte[] as16(InetAddress a) {
        return InetAddresses.toIpv6(a.getAddress());
    }

    private static Policy policy(InetAddress a) {
        byte[] b = as16(a);
        for (Policy p : POLICY) {
            if (p.matches(b)) {
                return p;
            }
        }
        throw new AssertionError("::/0 matches every address");
    }

    /** Whether {@code a} is IPv4, including an IPv4-mapped IPv6 address. */
    public static boolean isIpv4(InetAddress a) {
        return a instanceof Inet4Address || POLICY[1].matches(a.getAddress());
    }

    /** Precedence(a) in the default policy table; with {@code preferIpv6} false, IPv4 gets 100 (section 10.3). */
    public static int precedence(InetAddress a, boolean preferIpv6) {
        Policy p = policy(a);
        return !preferIpv6 && p == POLICY[1] ? IPV4_PRECEDENCE_PREFERRED : p.precedence();
    }

    /** Label(a) in the default policy table (the same in section 10.3's). */
    public static int label(InetAddress a) {
        return policy(a).label();
    }

    /**
     * Scope(a), RFC 6724 section 3.1: 2 link-local (IPv6 fe80::/10 and ::1; IPv4 169.254/16 and 127/8,
     * section 3.2), 5 site-local (fec0::/10), a multicast address's scope field, 14 global (everything
     * else, including IPv4 private addresses and unique local IPv6 addresses).
     */
    public static int scope(InetAddress a) {
        byte[] b = as16(a);
        if (isIpv4(a)) {
            int first = b[12] & 0xFF;
            return first == 127 || (first == 169 && (b[13] & 0xFF) == 254) ? 2 : 14;
        }
        if ((b[0] & 0xFF) == 0xFF) {
            return b[1] & 0x0F;
        }
        if (a.isLoopbackAddress() || a.isLinkLocalAddress()) {
            return 2;
        }
        return a.isSiteLocalAddress() ? 5 : 14;
    }

    /**
     * CommonPrefixLen(source, destination) of RFC 6724 section 2.2 for rule 9, which this class applies to
     * IPv6 only: the leading bits both have in common, up to the 64 bits before the interface ID.
     *
     * <p>Why IPv6 only: RFC 6724 limits rule 9 to destinations of one family and allows rules 9 and 10 to be
     * superseded (end of section 6). For IPv4 there is no interface ID to stop at, and comparing bits
     * across a whole IPv4 address always puts the destination numerically closest to the host's own address
     * first, which undoes DNS round robin (golang/go issues 13283 and 18518; lbkit's DnsBalancer rotates
     * its answers for exactly that). Go's resolver applies rule 9 to IPv6 only for that reason; glibc applies
     * it to IPv4 only when source and destination share the source's subnet, which still pins clients
     * to one server on their own subnet. Capping IPv6 at 64 bits (rather than an on-link prefix that may
     * be /128 for DHCPv6 addresses) keeps servers of one /64 equal, so their DNS order stands.
     *
     * @return 0..64, or 0 when either address is IPv4
     */
    public static int commonPrefixLength(InetAddress source, InetAddress destination) {
        if (isIpv4(source) || isIpv4(destination)) {
            return 0;
        }
        byte[] s = source.getAddress();
        byte[] d = destination.getAddress();
        int bits = 0;
        for (int i = 0; i < IPV6_PREFIX_BITS / 8; i++) {
            int x = (s[i] ^ d[i]) & 0xFF;
            if (x != 0) {
                return bits + Integer.numberOfLeadingZeros(x) - 24;
            }
            bits += 8;
        }
        return bits;
    }

    /**
     * Looks up the source of each distinct destination, the first {@link #MAX_SOURCE_LOOKUPS} of them.
     * A lookup that throws counts as not looked up. Runs on the calling thread.
     *
     * @return destination to source; an empty source means no route; a destination not in the map was
     *     not looked up
     */
    public static Map<InetSocketAddress, Optional<InetAddress>> sources(Collection<InetSocketAddress> destinations, SourceLookup lookup) {
        Map<InetSocketAddress, Optional<InetAddress>> out = new HashMap<>();
        int asked = 0;
        for (InetSocketAddress d : destinations) {
            if (asked == MAX_SOURCE_LOOKUPS) {
                break;
            }
            if (out.containsKey(d) || d.getAddress() == null) {
                continue;
            }
            asked++;
            try {
                Optional<InetAddress> s = lookup.source(d);
                if (s != null) {
                    out.put(d, s);
                }
            } catch (RuntimeException e) {
                // An injected strategy's bug must not stall a connect: the destination stays unknown.
            }
        }
        return out;
    }

    /** What the rules compare about one destination; every field depends on that destination alone. */
    private record Key(boolean usable, boolean scopeMatch, boolean labelMatch, int precedence, int scope, int prefix) {
        /** An unresolved address (which Netty's bootstrap may still resolve) goes after every resolved one. */
        static final Key UNRESOLVED = new Key(false, false, false, 0, 16, 0);

        static Key of(InetSocketAddress d, Map<InetSocketAddress, Optional<InetAddress>> sources, boolean preferIpv6) {
            InetAddress a = d.getAddress();
            if (a == null) {
                return UNRESOLVED;
            }
            Optional<InetAddress> found = sources.get(d);
            boolean usable = found == null || found.isPresent();
            InetAddress s = found == null ? null : found.orElse(null);
            int scope = AddressSelection.scope(a);
            return new Key(usable,
                    s != null && AddressSelection.scope(s) == scope,
                    s != null && label(s) == label(a),
                    AddressSelection.precedence(a, preferIpv6),
                    scope,
                    s == null ? 0 : commonPrefixLength(s, a));
        }
    }

    /**
     * Rules 1, 2, 5, 6, 8 and 9 in order. An IPv4 destination's prefix is 0; it never meets an IPv6 one at
     * rule 9, because no IPv6 prefix of either policy table shares IPv4's precedence (35, or 100).
     */
    private static final Comparator<Key> RULES = Comparator.comparing(Key::usable).reversed()
            .thenComparing(Comparator.comparing(Key::scopeMatch).reversed())
            .thenComparing(Comparator.comparing(Key::labelMatch).reversed())
            .thenComparing(Comparator.comparingInt(Key::precedence).reversed())
            .thenComparingInt(Key::scope)
            .thenComparing(Comparator.comparingInt(Key::prefix).reversed());

    /** The order of RFC 6724 rules 1 to 9 (ties where rule 10 keeps the given order). */
    public static Comparator<InetSocketAddress> order(Map<InetSocketAddress, Optional<InetAddress>> sources, boolean preferIpv6) {
        return (a, b) -> RULES.compare(Key.of(a, sources, preferIpv6), Key.of(b, sources, preferIpv6));
    }

    /**
     * Sorts {@code destinations} by RFC 6724 (rules 1, 2, 5, 6, 8, 9; rule 10 by stability), using the
     * sources from {@link #sources}. Unresolved addresses go last, in their given order. Does no I/O.
     *
     * @return a new list
     */
    public static List<InetSocketAddress> sort(List<InetSocketAddress> destinations,
            Map<InetSocketAddress, Optional<InetAddress>> sources, boolean preferIpv6) {
        record Entry(InetSocketAddress address, Key key) {}
        List<Entry> entries = new ArrayList<>(destinations.size());
        for (InetSocketAddress d : destinations) {
            entries.add(new Entry(d, Key.of(d, sources, preferIpv6)));
        }
        entries.sort(Comparator.comparing(Entry::key, RULES));
        List<InetSocketAddress> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(e.address());
        }
        return out;
    }
}
