package dev.lbkit.dns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The RFC 6724 order is a total preorder, so the sort is stable, idempotent, and the same for every
 * permutation of distinct addresses except for the order among addresses that tie on every rule (rule 10
 * keeps their given order). Sources are made up (no socket): for each destination, one of a set of sources
 * of every kind, no route, or not looked up.
 */
class AddressSelectionProperties {
    private static final String[] DESTINATIONS = {
        "127.0.0.1", "127.0.0.2", "169.254.1.1", "10.0.0.1", "10.55.0.1", "198.51.100.1", "198.51.100.2",
        "::1", "fe80::1", "fe80::2", "fec0::1", "fc00::1", "fd00::1", "2001::1", "2001:0:4136:e378::1",
        "2002:c633:6401::1", "3ffe::1", "::10.1.2.3", "2001:db8:1::1", "2001:db8:1::ffff", "2001:db8:3ffe::1",
        "2001:db8:2::1", "ff05::1",
    };
    private static final String[] SOURCES = {
        "127.0.0.1", "169.254.13.78", "10.0.0.2", "198.51.100.117", "::1", "fe80::2", "fec0::2", "fd00::2",
        "2001:0:4136:e378::2", "2002:c633:6401::2", "2001:db8:1::2", "2001:db8:3f44::2", "::10.1.2.4",
    };
    /** Index into SOURCES, or one of these. */
    private static final int NO_ROUTE = -1;
    private static final int NOT_LOOKED_UP = -2;

    record Case(List<InetSocketAddress> destinations, Map<InetSocketAddress, Optional<InetAddress>> sources, boolean preferIpv6, long seed) {}

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<List<String>> dests = Arbitraries.of(DESTINATIONS).list().uniqueElements().ofMinSize(0).ofMaxSize(10);
        Arbitrary<List<Integer>> picks = Arbitraries.integers().between(NOT_LOOKED_UP, SOURCES.length - 1).list().ofSize(10);
        return Combinators.combine(dests, picks, Arbitraries.of(true, false), Arbitraries.longs())
                .as((d, p, prefer, seed) -> {
                    List<InetSocketAddress> in = new ArrayList<>();
                    Map<InetSocketAddress, Optional<InetAddress>> sources = new HashMap<>();
                    for (int i = 0; i < d.size(); i++) {
                        InetSocketAddress a = AddressSelectionTest.socket(d.get(i));
                        in.add(a);
                        int pick = p.get(i);
                        if (pick == NO_ROUTE) {
                            sources.put(a, Optional.empty());
                        } else if (pick >= 0) {
                            sources.put(a, Optional.of(AddressSelectionTest.ip(SOURCES[pick])));
                        }
                    }
                    return new Case(in, sources, prefer, seed);
                });
    }

    @Property(tries = 200)
    void theOrderIsATotalPreorder(@ForAll("cases") Case c) {
        Comparator<InetSocketAddress> order = AddressSelection.order(c.sources(), c.preferIpv6());
        for (InetSocketAddress a : c.destinations()) {
            assertEquals(0, order.compare(a, a));
            for (InetSocketAddress b : c.destinations()) {
                assertEquals(Integer.signum(order.compare(a, b)), -Integer.signum(order.compare(b, a)), a + " vs " + b);
                for (InetSocketAddress x : c.destinations()) {
                    if (order.compare(a, b) <= 0 && order.compare(b, x) <= 0) {
                        assertTrue(order.compare(a, x) <= 0, a + " <= " + b + " <= " + x);
                    }
                }
            }
        }
    }

    @Property(tries = 200)
    void sortingIsIdempotentStableAndPermutationInvariantUpToTies(@ForAll("cases") Case c) {
        Comparator<InetSocketAddress> order = AddressSelection.order(c.sources(), c.preferIpv6());
        List<InetSocketAddress> sorted = AddressSelection.sort(c.destinations(), c.sources(), c.preferIpv6());
        assertEquals(new HashSet<>(c.destinations()), new HashSet<>(sorted));
        assertEquals(c.destinations().size(), sorted.size());
        assertEquals(sorted, AddressSelection.sort(sorted, c.sources(), c.preferIpv6()), "idempotent");
        for (int i = 0; i + 1 < sorted.size(); i++) {
            int cmp = order.compare(sorted.get(i), sorted.get(i + 1));
            assertTrue(cmp <= 0, "sorted");
            if (cmp == 0) {
                assertTrue(c.destinations().indexOf(sorted.get(i)) < c.destinations().indexOf(sorted.get(i + 1)),
                        "rule 10: ties keep the given order");
            }
        }
        List<InetSocketAddress> shuffled = new ArrayList<>(c.destinations());
        Collections.shuffle(shuffled, new Random(c.seed()));
        List<InetSocketAddress> again = AddressSelection.sort(shuffled, c.sources(), c.preferIpv6());
        for (int i = 0; i < sorted.size(); i++) {
            assertEquals(0, order.compare(sorted.get(i), again.get(i)), "the same rank at " + i);
        }
        // Which addresses tie is independent of the input order, and each tie group follows its input order.
        for (int i = 0; i + 1 < again.size(); i++) {
            if (order.compare(again.get(i), again.get(i + 1)) == 0) {
                assertTrue(shuffled.indexOf(again.get(i)) < shuffled.indexOf(again.get(i + 1)));
            }
        }
    }
}
