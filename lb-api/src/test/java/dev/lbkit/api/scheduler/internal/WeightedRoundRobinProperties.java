package dev.lbkit.api.scheduler.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class WeightedRoundRobinProperties {

    @Test
    void weights511GiveNginxSequence() {
        UpstreamPool pool = Fixtures.pool("wrr", 5, 1, 1);
        List<Member> ms = Fixtures.members(pool);
        Member[] seq = WeightedRoundRobinScheduler.sequence(ms.toArray(new Member[0]), new int[] {5, 1, 1});
        StringBuilder sb = new StringBuilder();
        for (Member m : seq) {
            sb.append((char) ('a' + ms.indexOf(m)));
        }
        assertEquals("aabacaa", sb.toString());
    }

    @Property(tries = 200)
    void eachUpstreamGetsExactlyItsWeightPerCycle(@ForAll @Size(min = 1, max = 12) List<@IntRange(min = 1, max = 20) Integer> weights) {
        int[] w = weights.stream().mapToInt(Integer::intValue).toArray();
        UpstreamPool pool = Fixtures.pool("wrr", w);
        int[] reduced = Tables.reduce(w);
        int cycle = (int) Tables.sum(reduced);
        Map<Member, Integer> counts = new HashMap<>();
        PickContext ctx = Fixtures.ctx();
        for (int i = 0; i < cycle; i++) {
            counts.merge(pool.pick(ctx), 1, Integer::sum);
        }
        List<Member> ms = Fixtures.members(pool);
        for (int i = 0; i < w.length; i++) {
            assertEquals(reduced[i], counts.getOrDefault(ms.get(i), 0), "member " + i + " of weights " + weights);
        }
    }

    /**
     * Interleaving: after any t picks from the start of a cycle, member i is less than one pick ahead of
     * its share t·w_i/W and less than n−1 behind it. Proof: nginx's current weight of member i is
     * t·w_i − c_i·W; the member picked has the largest current weight, which is at least W/n &gt; 0 since
     * they sum to W, so after subtracting W every current weight stays above −W (less than one pick
     * ahead); the current weights sum to 0, so none exceeds (n−1)·W (less than n−1 picks behind). The
     * "behind" bound is not 1: weights 1,1,1,6,6 leave member 4 exactly one pick behind after 10 picks.
     */
    @Property(tries = 200)
    void sequenceInterleavesWithinOnePick(@ForAll @Size(min = 1, max = 12) List<@IntRange(min = 1, max = 20) Integer> weights) {
        int[] w = weights.stream().mapToInt(Integer::intValue).toArray();
        UpstreamPool pool = Fixtures.pool("wrr", w);
        Member[] ms = Fixtures.members(pool).toArray(new Member[0]);
        Member[] seq = WeightedRoundRobinScheduler.sequence(ms, w);
        long total = Tables.sum(w);
        int[] c = new int[ms.length];
        for (int t = 1; t <= seq.length; t++) {
            for (int i = 0; i < ms.length; i++) {
                if (seq[t - 1] == ms[i]) {
                    c[i]++;
                }
            }
            for (int i = 0; i < ms.length; i++) {
                double expected = (double) t * w[i] / total;
                assertTrue(c[i] - expected < 1.0 && expected - c[i] < Math.max(1, ms.length - 1),
                        "member " + i + " after " + t + " picks: " + c[i] + " vs " + expected + " for " + weights);
            }
        }
    }

    /** With a member down, the others keep exactly their weights among themselves over each cycle. */
    @Property(tries = 100)
    void downMemberSharesGoProportionallyToTheOthers(
            @ForAll @Size(min = 2, max = 8) List<@IntRange(min = 1, max = 10) Integer> weights,
            @ForAll @IntRange(min = 0, max = 7) int down) {
        int[] w = weights.stream().mapToInt(Integer::intValue).toArray();
        int d = down % w.length;
        UpstreamPool pool = Fixtures.pool("wrr", w);
        List<Member> ms = Fixtures.members(pool);
        // An active-check verdict does not rebuild the picker: the pick itself must skip the member.
        ms.get(d).checkDown(true, "test");
        int cycle = (int) Tables.sum(w);
        Map<Member, Integer> counts = new HashMap<>();
        PickContext ctx = Fixtures.ctx();
        int cycles = 4;
        int upWeight = cycle - w[d];
        for (int i = 0; i < upWeight * cycles; i++) {
            counts.merge(pool.pick(ctx), 1, Integer::sum);
        }
        for (int i = 0; i < w.length; i++) {
            int expected = i == d ? 0 : w[i] * cycles;
            int got = counts.getOrDefault(ms.get(i), 0);
            // Exact up to the cycle boundary where the run started: at most one weight's worth either way.
            assertTrue(Math.abs(got - expected) <= w[i], "member " + i + ": " + got + " vs " + expected + " for " + weights + " down " + d);
        }
    }

    @Test
    void hugeWeightsAreScaledToTheCycleLimit() {
        UpstreamPool pool = Fixtures.pool(new WeightedRoundRobinScheduler(1000), 65535, 65534, 1);
        PickContext ctx = Fixtures.ctx();
        Map<Member, Integer> counts = new HashMap<>();
        for (int i = 0; i < 10_000; i++) {
            counts.merge(pool.pick(ctx), 1, Integer::sum);
        }
        List<Member> ms = Fixtures.members(pool);
        assertTrue(Math.abs(counts.get(ms.get(0)) - counts.get(ms.get(1))) <= 20, counts.toString());
        assertTrue(counts.get(ms.get(2)) >= 1 && counts.get(ms.get(2)) <= 20, counts.toString());
    }
}
