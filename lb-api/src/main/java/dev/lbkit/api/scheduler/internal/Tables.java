package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import java.util.ArrayList;
import java.util.List;

/** Helpers the built-in pickers share: weight reduction, range reduction, deterministic fall-through. */
final class Tables {
    /**
     * How many further table entries or ring points a hash picker tries when the chosen member is not
     * eligible, before it scans the members; nginx's {@code hash} tries 20 points before it gives up.
     */
    static final int PROBES = 20;

    private Tables() {}

    /** The members that may ever be picked in this snapshot: effective weight above 0. */
    static Member[] weighted(List<Member> members) {
        List<Member> out = new ArrayList<>(members.size());
        for (Member m : members) {
            if (m.effectiveWeight() > 0) {
                out.add(m);
            }
        }
        return out.toArray(new Member[0]);
    }

    /** The effective weights of {@code ms}, as read once while building a picker. */
    static int[] weightsOf(Member[] ms) {
        int[] w = new int[ms.length];
        for (int i = 0; i < ms.length; i++) {
            w[i] = Math.max(1, ms[i].effectiveWeight());
        }
        return w;
    }

    static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** Divides every weight by their greatest common divisor: weights 10,20 become 1,2. */
    static int[] reduce(int[] weights) {
        int g = 0;
        for (int w : weights) {
            g = gcd(w, g);
        }
        int[] out = weights.clone();
        if (g > 1) {
            for (int i = 0; i < out.length; i++) {
                out[i] /= g;
            }
        }
        return out;
    }

    static long sum(int[] weights) {
        long s = 0;
        for (int w : weights) {
            s += w;
        }
        return s;
    }

    /**
     * Scales weights down so that they sum to about {@code limit}, each staying at least 1; the shares
     * then deviate from the exact ratios by less than one part in the scaled weight. Unchanged when
     * they already fit.
     */
    static int[] capSum(int[] weights, long limit) {
        long s = sum(weights);
        if (s <= limit) {
            return weights;
        }
        int[] out = new int[weights.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (int) Math.max(1, weights[i] * limit / s);
        }
        return out;
    }

    /** Maps a 64-bit hash onto {@code 0..n-1} evenly with a multiply instead of a division (Lemire). */
    static int range(long hash, int n) {
        return (int) (((hash >>> 32) * n) >>> 32);
    }

    /**
     * The first eligible member at or after {@code start}, cyclically, or {@code null}: the last,
     * deterministic resort of every picker, O(n).
     */
    static Member scan(Member[] ms, int start, PickContext ctx) {
        int n = ms.length;
        for (int i = 0; i < n; i++) {
            int j = start + i;
            Member m = ms[j >= n ? j - n : j];
            if (ctx.isEligible(m)) {
                return m;
            }
        }
        return null;
    }
}
