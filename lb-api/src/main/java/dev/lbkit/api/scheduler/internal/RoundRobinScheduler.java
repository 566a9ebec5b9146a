package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code rr}: each available member in turn, ignoring weights other than 0 (IPVS {@code rr}). The
 * cursor lives on the scheduler, one per tier, survives picker rebuilds and starts at a random index.
 *
 * <p>When members are skipped because they are not eligible, the cursor moves past them to the member
 * picked, as IPVS continues from the last member picked; otherwise the member after a down one would
 * get its turn as well as its own (a double share). A pick is O(1) while members are up, O(n) at worst.
 */
public final class RoundRobinScheduler implements Scheduler {
    private final Cursors cursors = new Cursors();

    @Override
    public String name() {
        return "rr";
    }

    @Override
    public Picker newPicker(List<Member> members) {
        if (members.isEmpty()) {
            return Picker.EMPTY;
        }
        return new RoundRobinPicker(members.toArray(new Member[0]), cursors.forTier(members));
    }

    private static final class RoundRobinPicker implements Picker {
        private final Member[] ms;
        private final AtomicInteger cursor;

        RoundRobinPicker(Member[] ms, AtomicInteger cursor) {
            this.ms = ms;
            this.cursor = cursor;
        }

        @Override
        public Member pick(PickContext ctx) {
            Member[] ms = this.ms;
            int n = ms.length;
            int start = Cursors.next(cursor, n);
            Member m = ms[start];
            if (ctx.isEligible(m)) {
                return m;
            }
            for (int i = 1; i < n; i++) {
                int j = start + i;
                m = ms[j >= n ? j - n : j];
                if (ctx.isEligible(m)) {
                    cursor.getAndAdd(i);
                    return m;
                }
            }
            return null;
        }
    }
}
