package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.Schedulers;
import java.util.List;

/** Pools of loopback upstreams for scheduler tests. */
final class Fixtures {
    private Fixtures() {}

    /** A pool with {@code weights.length} upstreams 127.0.0.1:10000+i of the given weights. */
    static UpstreamPool pool(Scheduler scheduler, int... weights) {
        UpstreamPool.Builder b = UpstreamPool.builder().scheduler(scheduler);
        for (int i = 0; i < weights.length; i++) {
            b.add(upstream(i, weights[i]));
        }
        return b.build();
    }

    static UpstreamPool pool(String scheduler, int... weights) {
        return pool(Schedulers.get(scheduler), weights);
    }

    static Upstream upstream(int i, int weight) {
        return Upstream.builder("127.0.0.1", 10000 + i).weight(weight).build();
    }

    static int[] ones(int n) {
        int[] w = new int[n];
        java.util.Arrays.fill(w, 1);
        return w;
    }

    static List<Member> members(UpstreamPool pool) {
        return pool.snapshot().primaries();
    }

    /** A context at time 0 with no client, key or retries. */
    static PickContext ctx() {
        return new PickContext();
    }
}
