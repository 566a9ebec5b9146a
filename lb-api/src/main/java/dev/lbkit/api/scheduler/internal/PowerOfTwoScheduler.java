package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.List;

/**
 * {@code p2c}: power of two choices on least load, as nginx's {@code random two least_conn} and Envoy's
 * least request. Two distinct eligible members are drawn at random and the one with fewer
 * {@linkplain Member#active() active} connections or requests wins; ties go to the first drawn.
 *
 * <p>With equal weights the draws are uniform and active counts are compared; with unequal weights, as
 * nginx does, the draws follow effective weight and {@code active / weight} is compared (by
 * cross-multiplication). The second sample is drawn from the members other than the first, so the two
 * are always distinct. Up to {@value #DRAWS} draws are made for each eligible sample; if only the first
 * is found it is returned; if none, the first eligible member from a random position, O(n). O(1)
 * otherwise, no shared state.
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
            int i = s.draw();
            Member a = ms[i];
            for (int d = 0; !ctx.isEligible(a); d++) {
                if (d == DRAWS) {
                    return Tables.scan(ms, RandomScheduler.below(ms.length), ctx);
                }
                i = s.draw();
                a = ms[i];
            }
            // The second sample is drawn from the others, so the two are always distinct.
            for (int d = 0; d < DRAWS; d++) {
                Member b = ms[s.drawExcept(i)];
                if (ctx.isEligible(b)) {
                    return lessLoaded(a, b, s.weighted());
                }
            }
            return a;
        }
    }
}
