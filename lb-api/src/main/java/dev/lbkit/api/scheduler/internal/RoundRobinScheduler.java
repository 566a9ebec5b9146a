package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code rr}: each available member in turn, ignoring weights (IPVS {@code rr}). The cursor lives on
 * the scheduler, survives picker rebuilds and starts at a random index, so that many balancers started
 * together, or a deploy that rebuilds pickers, do not all hit the first member (gRPC-java #4462).
 */
public final class RoundRobinScheduler implements Scheduler {
    private final AtomicInteger cursor = new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 16));

    @Override
    public String name() {
        return "rr";
    }

    @Override
    public Picker newPicker(List<Member> members) {
        if (members.isEmpty()) {
            return Picker.EMPTY;
        }
        Member[] ms = members.toArray(new Member[0]);
        return context -> {
            int n = ms.length;
            // Masking keeps the index non-negative when the counter wraps.
            int start = (cursor.getAndIncrement() & Integer.MAX_VALUE) % n;
            for (int i = 0; i < n; i++) {
                Member m = ms[(start + i) % n];
                if (context.isEligible(m)) {
                    return m;
                }
            }
            return null;
        };
    }
}
