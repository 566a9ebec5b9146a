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
 * no contention. A pick is one random number and, for unequal weights, a binary search over
 * precomputed cumulative weights. When the member drawn is not eligible, up to {@value #DRAWS} further
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
        }

        /** Whether weights differ, so that load comparisons must weigh them. */
        boolean weighted() {
            return cumulative != null;
        }

        /** A random index, by weight. */
        int draw() {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            long[] c = cumulative;
            if (c == null) {
                return r.nextInt(ms.length);
            }
            long x = r.nextLong(total);
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

        /** A random index other than {@code i}, by weight among the others (sampling without replacement). */
        int drawExcept(int i) {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            long[] c = cumulative;
            if (c == null) {
                int j = r.nextInt(ms.length - 1);
                return j >= i ? j + 1 : j;
            }
            long x = r.nextLong(total - w[i]);
            if (x >= c[i] - w[i]) {
                x += w[i];
            }
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
