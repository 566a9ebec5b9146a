package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/** Addresses in listings are printed as ipvsadm's inet_ntop prints them. */
class InetNtopProperties {

    /** Eight groups, half of them zero, so that runs of zeros of every length and position come up. */
    @Provide
    Arbitrary<List<Integer>> groups() {
        Arbitrary<Integer> group = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.integers().between(1, 0xff)), Tuple.of(3, Arbitraries.integers().between(0, 0xffff)));
        return group.list().ofSize(8);
    }

    @Property(tries = 1000)
    void roundTripsAndIsTheShortestForm(@ForAll("groups") List<Integer> groups) throws UnknownHostException {
        byte[] bytes = new byte[16];
        for (int i = 0; i < 8; i++) {
            bytes[2 * i] = (byte) (groups.get(i) >> 8);
            bytes[2 * i + 1] = groups.get(i).byteValue();
        }
        String text = IpvsTable.ntop(Inet6Address.getByAddress(null, bytes, -1));
        assertArrayEquals(bytes, sixteen(InetAddress.getByName(text)), text);
        if (!text.contains(".")) {
            assertEquals(rfc5952(groups), text);
            assertTrue(text.length() <= hex(groups, 0, 0).length(), text);
        }
    }

    /**
     * RFC 5952's form, as glibc's inet_ntop chooses it: the longest run of two or more zero groups as
     * "::", the first on a tie (by run length: "::1:0:0:1:1:1", not the shorter "0:0:1::1:1:1"), every
     * group in lowercase hex without leading zeros. It is the shortest form but for such ties.
     */
    private static String rfc5952(List<Integer> groups) {
        int bestStart = 0;
        int bestLength = 0;
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && groups.get(j) == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        return bestLength >= 2 ? hex(groups, bestStart, bestStart + bestLength) : hex(groups, 0, 0);
    }

    /** The groups in hex, with those in [start, end) left out as "::" (none when start == end). */
    private static String hex(List<Integer> groups, int start, int end) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == start && start < end) {
                sb.append("::");
                i = end - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups.get(i)));
        }
        return sb.toString();
    }

    private static byte[] sixteen(InetAddress a) {
        if (a instanceof Inet4Address) {
            // Java parses ::ffff:a.b.c.d as the IPv4 address.
            byte[] v4 = a.getAddress();
            byte[] b = new byte[16];
            b[10] = (byte) 0xff;
            b[11] = (byte) 0xff;
            System.arraycopy(v4, 0, b, 12, 4);
            return b;
        }
        return a.getAddress();
    }

    @Example
    void printsLikeGlibcsInetNtop() throws UnknownHostException {
        assertEquals("::1", ntop("0:0:0:0:0:0:0:1"));
        assertEquals("::", ntop("0:0:0:0:0:0:0:0"));
        assertEquals("2001:db8::1", ntop("2001:0DB8:0:0:0:0:0:0001"));
        assertEquals("1:0:2:3:4:5:6:7", ntop("1:0:2:3:4:5:6:7"), "one zero group stays");
        assertEquals("2001:db8::1:0:0:1", ntop("2001:db8:0:0:1:0:0:1"), "the first run on a tie");
        assertEquals("2001:0:0:1::1", ntop("2001:0:0:1:0:0:0:1"), "the longest run");
        assertEquals("fe80::1", ntop("fe80::1%1"), "no scope");
        assertEquals("::1.2.3.4", ntop("::1.2.3.4"), "IPv4-compatible");
        assertEquals("::ffff:1.2.3.4", IpvsTable.ntop(Inet6Address.getByAddress(null,
                new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 1, 2, 3, 4}, -1)), "IPv4-mapped");
        assertEquals("127.0.0.1", ntop("127.0.0.1"));
    }

    private static String ntop(String literal) throws UnknownHostException {
        return IpvsTable.ntop(InetAddress.getByName(literal));
    }
}
