package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code p2c}: power of two choices on least load, as nginx's {@code random two least_conn} and Envoy's
 * least request. Two distinct eligible members are drawn at random and the one with fewer
 * {@linkplain Member#active() active} connections or requests wins; ties go to the first drawn.
 *
 * <p>With equal weights the draws are uniform and active counts are compared; with unequal weights, as
 * nginx does, the draws follow effective weight and {@code active / weight} is compared (by
 * cross-multiplication). Up to {@value #DRAWS} draws are made to find two distinct eligible members;
 * if only one is found it is returned; if none, the first eligible member from a random position, O(n).
 * O(1) otherwise, no shared state.
 */
public final class PowerOfTwoScheduler implements Scheduler {
    static final int DRAWS = 20;

    @Override
    public String name() {
        return "p2c";
    }

    @Override
    public Picker newPicker(List<Member> members) {
        Member[] ms = Tables.weighted(members);
        if (ms.length == 0) {
            return Picker.EMPTY;
        }
        return new P2cPicker(new RandomScheduler.Sampler(ms, Tables.weightsOf(ms)));
    }

    /**
     * The less loaded of two members, {@code a} on a tie: by active count, or by active count per unit
     * of effective weight when {@code weighted}.
     */
    static Member lessLoaded(Member a, Member b, boolean weighted) {
        if (!weighted) {
            return b.active() < a.active() ? b : a;
        }
        long wa = Math.max(1, a.effectiveWeight());
        long wb = Math.max(1, b.effectiveWeight());
        return (long) b.active() * wa < (long) a.active() * wb ? b : a;
    }

    private static final class P2cPicker implements Picker {
        private final RandomScheduler.Sampler sampler;

        P2cPicker(RandomScheduler.Sampler sampler) {
            this.sampler = sampler;
        }

        @Override
        public Member pick(PickContext ctx) {
            RandomScheduler.Sampler s = sampler;
            Member[] ms = s.ms;
            if (ms.length == 1) {
                return ctx.isEligible(ms[0]) ? ms[0] : null;
            }
            Member a = null;
            Member b = null;
            if (!s.weighted()) {
                // Two distinct indexes from one pass: the usual case costs two random numbers.
                ThreadLocalRandom r = ThreadLocalRandom.current();
                int i = r.nextInt(ms.length);
                int j = r.nextInt(ms.length - 1);
                Member x = ms[i];
                Member y = ms[j >= i ? j + 1 : j];
                if (ctx.isEligible(x)) {
                    a = x;
                }
                if (ctx.isEligible(y)) {
                    if (a == null) {
                        a = y;
                    } else {
                        b = y;
                    }
                }
            }
            for (int d = 0; b == null && d < DRAWS; d++) {
                Member m = ms[s.draw()];
                if (m != a && ctx.isEligible(m)) {
                    if (a == null) {
                        a = m;
                    } else {
                        b = m;
                    }
                }
            }
            if (a == null) {
                return Tables.scan(ms, ThreadLocalRandom.current().nextInt(ms.length), ctx);
            }
            return b == null ? a : lessLoaded(a, b, s.weighted());
        }
    }
}
