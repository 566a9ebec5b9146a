package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code wrr}: smooth weighted round robin as nginx does it (weights 5,1,1 give a a b a c a a), by
 * effective weight.
 *
 * <p>nginx's algorithm is run once per snapshot over one whole cycle and kept as an array, so that a
 * pick is one cursor step and one index (skipper #4124 and Armeria #1248 show what O(n) or
 * O(n·weight) per pick costs). Weights are first divided by their greatest common divisor; if the cycle
 * would still be longer than {@code max-cycle} entries (default {@value #DEFAULT_MAX_CYCLE}) they are
 * scaled down to fit, each staying at least 1, so shares then deviate slightly from the exact ratios.
 * Building costs O(cycle · members).
 *
 * <p>A member that is not eligible is skipped and the cursor moves on past it, so that over a cycle
 * the eligible members keep exactly their weights among themselves. After {@value #SCAN} ineligible
 * entries in a row (most of the weight is down) the pick falls back to a weighted random choice among
 * the eligible members, O(n).
 */
public final class WeightedRoundRobinScheduler implements Scheduler {
    /** Default for option {@code max-cycle}. */
    public static final int DEFAULT_MAX_CYCLE = 65536;
    static final int SCAN = 64;

    private final Cursors cursors = new Cursors();
    private final int maxCycle;

    public WeightedRoundRobinScheduler(int maxCycle) {
        this.maxCycle = maxCycle;
    }

    /**
     * The round robin a hash scheduler ({@code dh}, {@code mh}, {@code ring}) places picks with when
     * their key is missing ({@code PickContext.hashKeyMissing}): nginx's {@code hash} hands an empty key
     * to its round robin, which is this one. Default cycle; cursors of its own, per tier.
     */
    static WeightedRoundRobinScheduler forMissingKeys() {
        return new WeightedRoundRobinScheduler(DEFAULT_MAX_CYCLE);
    }

    @Override
    public String name() {
        return "wrr";
    }

    @Override
    public Picker newPicker(List<Member> members) {
        Member[] ms = Tables.weighted(members);
        if (ms.length == 0) {
            return Picker.EMPTY;
        }
        int[] w = Tables.capSum(Tables.reduce(Tables.weightsOf(ms)), maxCycle);
        return new WrrPicker(sequence(ms, w), ms, w, cursors.forTier(members));
    }

    /** One cycle of nginx's smooth weighted round robin over {@code ms} with weights {@code w}. */
    static Member[] sequence(Member[] ms, int[] w) {
        int n = ms.length;
        long total = Tables.sum(w);
        Member[] seq = new Member[(int) total];
        long[] current = new long[n];
        for (int t = 0; t < seq.length; t++) {
            int best = -1;
            for (int i = 0; i < n; i++) {
                current[i] += w[i];
                if (best < 0 || current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            seq[t] = ms[best];
        }
        return seq;
    }

    private static final class WrrPicker implements Picker {
        private final Member[] seq;
        private final Member[] ms;
        private final int[] w;
        private final AtomicInteger cursor;

        WrrPicker(Member[] seq, Member[] ms, int[] w, AtomicInteger cursor) {
            this.seq = seq;
            this.ms = ms;
            this.w = w;
            this.cursor = cursor;
        }

        @Override
        public Member pick(PickContext ctx) {
            Member[] seq = this.seq;
            int n = seq.length;
            int start = Cursors.next(cursor, n);
            Member m = seq[start];
            if (ctx.isEligible(m)) {
                return m;
            }
            int limit = Math.min(n, SCAN);
            for (int i = 1; i < limit; i++) {
                int j = start + i;
                m = seq[j >= n ? j - n : j];
                if (ctx.isEligible(m)) {
                    cursor.getAndAdd(i);
                    return m;
                }
            }
            return weightedRandom(ms, w, ctx);
        }
    }

    /** A random eligible member, chosen with probability proportional to its weight; O(n). */
    static Member weightedRandom(Member[] ms, int[] w, PickContext ctx) {
        long total = 0;
        for (int i = 0; i < ms.length; i++) {
            if (ctx.isEligible(ms[i])) {
                total += w[i];
            }
        }
        if (total == 0) {
            return null;
        }
        long r = ThreadLocalRandom.current().nextLong(total);
        Member last = null;
        for (int i = 0; i < ms.length; i++) {
            if (ctx.isEligible(ms[i])) {
                last = ms[i];
                r -= w[i];
                if (r < 0) {
                    return last;
                }
            }
        }
        // Eligibility changed between the two passes: any eligible member will do.
        return last;
    }
}
