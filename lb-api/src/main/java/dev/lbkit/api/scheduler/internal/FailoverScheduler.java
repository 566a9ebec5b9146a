package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * {@code fo}: the eligible member of highest effective weight, ties to the first in pool order (IPVS
 * {@code fo}). All traffic goes to one member until it fails; then to the next by weight. The order is
 * sorted once per snapshot; a pick is O(1) while the preferred member is up, O(n) at worst.
 */
public final class FailoverScheduler implements Scheduler {

    @Override
    public String name() {
        return "fo";
    }

    @Override
    public Picker newPicker(List<Member> members) {
        Member[] ms = Tables.weighted(members);
        if (ms.length == 0) {
            return Picker.EMPTY;
        }
        int[] w = Tables.weightsOf(ms);
        Integer[] order = new Integer[ms.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // A stable sort keeps pool order among equal weights.
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> w[i]).reversed());
        Member[] byWeight = new Member[ms.length];
        for (int i = 0; i < order.length; i++) {
            byWeight[i] = ms[order[i]];
        }
        return ctx -> first(byWeight, ctx);
    }

    private static Member first(Member[] ms, PickContext ctx) {
        for (Member m : ms) {
            if (ctx.isEligible(m)) {
                return m;
            }
        }
        return null;
    }
}
