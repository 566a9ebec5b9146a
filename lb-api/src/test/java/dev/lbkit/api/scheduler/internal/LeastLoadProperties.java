package dev.lbkit.api.scheduler.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lbkit.api.Member;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import java.math.BigInteger;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * For any load vector, lc, wlc, sed and nq pick the member their IPVS formula says: the least score,
 * the first in pool order on a tie, never a member that is down. The reference below computes the
 * scores as exact fractions, independently of the schedulers' cross-multiplication.
 */
class LeastLoadProperties {

    /** One upstream's state for the property: weight, active, inactive, down. */
    static final class Load {
        final int weight;
        final int active;
        final int inactive;
        final boolean down;

        Load(int weight, int active, int inactive, boolean down) {
            this.weight = weight;
            this.active = active;
            this.inactive = inactive;
            this.down = down;
        }
    }

    @Property(tries = 200)
    void lcPicksLeastOverhead(@ForAll @Size(min = 1, max = 10) List<@IntRange(min = 0, max = 5) Integer> weights,
            @ForAll @Size(min = 10, max = 10) List<@IntRange(min = 0, max = 40) Integer> active,
            @ForAll @Size(min = 10, max = 10) List<@IntRange(min = 0, max = 600) Integer> inactive,
            @ForAll @Size(min = 10, max = 10) List<Boolean> down) {
        check("lc", weights, active, inactive, down);
    }

    @Property(tries = 200)
    void wlcPicksLeastOverheadPerWeight(@ForAll @Size(min = 1, max = 10) List<@IntRange(min = 0, max = 5) Integer> weights,
            @ForAll @Size(min = 10, max = 10) List<@IntRange(min = 0, max = 40) Integer> active,
            @ForAll @Size(min = 10, max = 10) List<@IntRange(min = 0, max = 600) Integer> inactive,
            @ForAll @Size(min = 10, max = 10) List<Boolean> down) {
        check("wlc", weights, active, inactive, down);
    }

    @Property(tries = 200)
    void sedPicksLeastExpectedDelay(@ForAll @Size(min = 1, max = 10) List<@IntRange(min = 0, max = 5) Integer> weights,
            @ForAll @Size(min = 10, max = 10) List<@IntRange(min = 0, max = 40) Integer> active,
            @ForAll @Size(min = 10, max = 10) List<@IntRange(min = 0, max = 600) Integer> inactive,
            @ForAll @Size(min = 10, max = 10) List<Boolean> down) {
        check("sed", weights, active, inactive, down);
    }

    @Property(tries = 200)
    void nqPicksAnIdleMemberElseSed(@ForAll @Size(min = 1, max = 10) List<@IntRange(min = 0, max = 5) Integer> weights,
            @ForAll @Size(min = 10, max = 10) List<@IntRange(min = 0, max = 3) Integer> active,
            @ForAll @Size(min = 10, max = 10) List<@IntRange(min = 0, max = 600) Integer> inactive,
            @ForAll @Size(min = 10, max = 10) List<Boolean> down) {
        check("nq", weights, active, inactive, down);
    }

    @Test
    void wlcFollowsIpvsExample() {
        // Weights 3 and 1; 3 and 1 active: 768/3 = 256 ties 256/1, so the first wins; one more on the
        // first tips it to the second.
        UpstreamPool pool = Fixtures.pool("wlc", 3, 1);
        List<Member> ms = Fixtures.members(pool);
        load(ms.get(0), 3, 0);
        load(ms.get(1), 1, 0);
        assertSame(ms.get(0), pool.pick(Fixtures.ctx()));
        ms.get(0).incrementActive();
        assertSame(ms.get(1), pool.pick(Fixtures.ctx()));
    }

    private static void check(String name, List<Integer> weights, List<Integer> active, List<Integer> inactive, List<Boolean> down) {
        int n = weights.size();
        int[] w = weights.stream().mapToInt(Integer::intValue).toArray();
        UpstreamPool pool = Fixtures.pool(name, w);
        List<Member> ms = Fixtures.members(pool);
        for (int i = 0; i < n; i++) {
            load(ms.get(i), active.get(i), inactive.get(i));
            if (down.get(i)) {
                ms.get(i).checkDown(true, "test");
            }
        }
        int expected = -1;
        BigInteger[] best = null;
        for (int i = 0; i < n; i++) {
            if (w[i] == 0 || down.get(i)) {
                continue;
            }
            if (name.equals("nq") && active.get(i) == 0) {
                expected = i;
                break;
            }
            BigInteger[] score = score(name, w[i], active.get(i), inactive.get(i));
            if (best == null || less(score, best)) {
                best = score;
                expected = i;
            }
        }
        PickContext ctx = Fixtures.ctx();
        Member got = pool.pick(ctx);
        if (expected < 0) {
            assertEquals(null, got);
        } else {
            assertSame(ms.get(expected), got, name + " weights " + weights + " active " + active.subList(0, n)
                    + " inactive " + inactive.subList(0, n) + " down " + down.subList(0, n) + " picked " + ms.indexOf(got));
        }
    }

    /** The score as a fraction {numerator, denominator}. */
    private static BigInteger[] score(String name, int weight, int active, int inactive) {
        BigInteger overhead = BigInteger.valueOf(active * 256L + inactive);
        switch (name) {
            case "lc":
                return new BigInteger[] {overhead, BigInteger.ONE};
            case "wlc":
                return new BigInteger[] {overhead, BigInteger.valueOf(weight)};
            default:
                return new BigInteger[] {BigInteger.valueOf(active + 1L), BigInteger.valueOf(weight)};
        }
    }

    private static boolean less(BigInteger[] a, BigInteger[] b) {
        return a[0].multiply(b[1]).compareTo(b[0].multiply(a[1])) < 0;
    }

    private static void load(Member m, int active, int inactive) {
        for (int i = 0; i < active; i++) {
            m.incrementActive();
        }
        for (int i = 0; i < inactive; i++) {
            m.incrementInactive();
        }
    }
}
