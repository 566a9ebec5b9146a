package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code random}: a random member, with probability proportional to its effective weight (nginx's
 * {@code random}); uniform when all weights are equal. Uses {@link ThreadLocalRandom}: no shared state,
 * no contention. A pick is one random number and, for unequal weights, one lookup in a precomputed
 * alias table (Walker, Vose): O(1). When the member drawn is not eligible, up to {@value #DRAWS} further
 * draws are made, then a weighted choice among the eligible members, O(n).
 */
public final class RandomScheduler implements Scheduler {
    static final int DRAWS = 8;

    @Override
    public String name() {
        return "random";
    }

    @Override
    public Picker newPicker(List<Member> members) {
        Member[] ms = Tables.weighted(members);
        if (ms.length == 0) {
            return Picker.EMPTY;
        }
        return new RandomPicker(ms, Tables.weightsOf(ms));
    }

    /** Draws members by weight; shared by {@code random} and {@code p2c}. */
    static final class Sampler {
        final Member[] ms;
        final int[] w;
        /** Cumulative weights, or {@code null} when all weights are equal. */
        private final long[] cumulative;
        private final long total;
        /** Walker's alias table (Vose's construction), or {@code null} when all weights are equal. */
        private final long[] threshold;
        private final int[] alias;

        Sampler(Member[] ms, int[] w) {
            this.ms = ms;
            this.w = w;
            boolean equal = true;
            long[] c = new long[ms.length];
            long t = 0;
            for (int i = 0; i < ms.length; i++) {
                t += w[i];
                c[i] = t;
                equal &= w[i] == w[0];
            }
            this.cumulative = equal ? null : c;
            this.total = t;
            this.threshold = equal ? null : new long[ms.length];
            this.alias = equal ? null : new int[ms.length];
            if (!equal) {
                buildAlias(w, t, threshold, alias);
            }
        }

        /**
         * Vose's alias method: column i keeps its own index with probability threshold[i] / 2^32 and
         * hands the rest to alias[i], so that every index ends up with weight / total of the draws.
         */
        private static void buildAlias(int[] w, long total, long[] threshold, int[] alias) {
            int n = w.length;
            long[] scaled = new long[n];
            int[] small = new int[n];
            int[] large = new int[n];
            int ns = 0;
            int nl = 0;
            for (int i = 0; i < n; i++) {
                scaled[i] = (long) w[i] * n;
                if (scaled[i] < total) {
                    small[ns++] = i;
                } else {
                    large[nl++] = i;
                }
            }
            while (ns > 0 && nl > 0) {
                int s = small[--ns];
                int l = large[--nl];
                threshold[s] = (long) ((double) scaled[s] / total * 4294967296.0);
                alias[s] = l;
                scaled[l] -= total - scaled[s];
                if (scaled[l] < total) {
                    small[ns++] = l;
                } else {
                    large[nl++] = l;
                }
            }
            // What is left is full (up to rounding): it always keeps its own index.
            while (ns > 0) {
                int i = small[--ns];
                threshold[i] = 1L << 32;
                alias[i] = i;
            }
            while (nl > 0) {
                int i = large[--nl];
                threshold[i] = 1L << 32;
                alias[i] = i;
            }
        }

        /** Whether weights differ, so that load comparisons must weigh them. */
        boolean weighted() {
            return cumulative != null;
        }

        /** A random index, by weight. */
        int draw() {
            long[] t = threshold;
            if (t == null) {
                return below(ms.length);
            }
            // One 64-bit random number: the high half picks the column, the low half the coin.
            long r = ThreadLocalRandom.current().nextLong();
            int i = (int) (((r >>> 32) * t.length) >>> 32);
            return (r & 0xFFFFFFFFL) < t[i] ? i : alias[i];
        }

        /** A random index other than {@code i}, by weight among the others (sampling without replacement). */
        int drawExcept(int i) {
            long[] c = cumulative;
            if (c == null) {
                int j = below(ms.length - 1);
                return j >= i ? j + 1 : j;
            }
            if (c.length == 2) {
                return 1 - i;
            }
            // Usually one alias draw will do; a dominant weight falls back to an exact draw from the rest.
            for (int k = 0; k < 4; k++) {
                int j = draw();
                if (j != i) {
                    return j;
                }
            }
            long x = below(total - w[i]);
            if (x >= c[i] - w[i]) {
                x += w[i];
            }
            return find(c, x);
        }

        /** The index whose cumulative-weight interval holds {@code x}. */
        private static int find(long[] c, long x) {
            int lo = 0;
            int hi = c.length - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (c[mid] <= x) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }
    }

    /**
     * A random number in {@code 0..bound-1}. Below 2^32 by a multiply and a shift of 32 random bits
     * (Lemire) instead of {@link ThreadLocalRandom#nextLong(long)}'s 64-bit division, which costs tens of
     * nanoseconds on some CPUs; the bias, at most {@code bound / 2^32} relative, is immaterial here.
     */
    static long below(long bound) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        if (bound <= 0xFFFFFFFFL) {
            return ((r.nextInt() & 0xFFFFFFFFL) * bound) >>> 32;
        }
        return r.nextLong(bound);
    }

    static int below(int bound) {
        return (int) (((ThreadLocalRandom.current().nextInt() & 0xFFFFFFFFL) * bound) >>> 32);
    }

    private static final class RandomPicker implements Picker {
        private final Sampler sampler;

        RandomPicker(Member[] ms, int[] w) {
            this.sampler = new Sampler(ms, w);
        }

        @Override
        public Member pick(PickContext ctx) {
            Sampler s = sampler;
            for (int d = 0; d <= DRAWS; d++) {
                Member m = s.ms[s.draw()];
                if (ctx.isEligible(m)) {
                    return m;
                }
            }
            return WeightedRoundRobinScheduler.weightedRandom(s.ms, s.w, ctx);
        }
    }
}
