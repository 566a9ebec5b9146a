package dev.lbkit.bench;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.resolve.CoalescingResolver;
import dev.lbkit.api.scheduler.PickContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Discovery's cost to a balancer, with 1,000 upstreams followed through the mechanism every store resolver
 * shares ({@link CoalescingResolver}, default 20 ms coalescing delay):
 * <ul>
 *   <li>{@code changeReachesPool}: from a store notification (one edited entry handed to the resolver, as
 *       the etcd watch, the ZooKeeper cache or an EDS response do) until the pool has published the
 *       change. Sample mode, so JMH reports p99. Target: under 100 ms.
 *   <li>{@code pickFollowed} against {@code pickStatic}: a pick from a followed pool costs what a pick from
 *       a static pool of the same upstreams costs (the pick path never touches the resolver).
 * </ul>
 * Run: {@code java -jar lb-bench/target/lb-bench.jar DiscoveryBench}.
 */
@State(Scope.Benchmark)
public class DiscoveryBench {

    /** The store side of the benchmark: hands entries to the shared mechanism as a store client would. */
    static final class Feed extends CoalescingResolver {
        Feed() {
            super("bench", DEFAULT_COALESCE_DELAY);
        }

        @Override
        protected void start() {
            // Fed by the benchmark.
        }

        @Override
        protected void stop() {
            // Nothing opened.
        }

        void load(Map<String, Upstream> all) {
            resync(all);
        }

        void change(String id, Upstream u) {
            put(id, u);
        }
    }

    @Param({"1000"})
    int upstreams;

    private Feed feed;
    private UpstreamPool followed;
    private UpstreamPool staticPool;
    private List<Upstream> list;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        list = new ArrayList<>(upstreams);
        Map<String, Upstream> all = new HashMap<>();
        for (int i = 0; i < upstreams; i++) {
            Upstream u = Upstream.of("127.0.0.1", 10000 + i);
            list.add(u);
            all.put(id(i), u);
        }
        feed = new Feed();
        followed = UpstreamPool.builder().name("followed").build();
        followed.follow(feed);
        feed.load(all);
        feed.whenReady().get(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (followed.snapshot().size() != upstreams && System.nanoTime() < deadline) {
            LockSupport.parkNanos(100_000);
        }
        staticPool = UpstreamPool.builder().name("static").addAll(list).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        feed.close();
        followed.close();
        staticPool.close();
    }

    private static String id(int i) {
        return String.format("u%05d", i);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Member changeReachesPool() {
        int i = next++ % upstreams;
        Upstream u = list.get(i);
        Upstream edited = u.toBuilder().weight(u.weight() == 1 ? 2 : 1).build();
        list.set(i, edited);
        long version = followed.snapshot().version();
        feed.change(id(i), edited);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (followed.snapshot().version() == version) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("change not in the pool within 1 s");
            }
            LockSupport.parkNanos(20_000);
        }
        return followed.member(edited).orElseThrow();
    }

    /** One pick context per benchmark thread, as a tier keeps one per connection or request. */
    @State(Scope.Thread)
    public static class Picking {
        final PickContext context = new PickContext();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Member pickStatic(Picking p) {
        return staticPool.pick(p.context);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Member pickFollowed(Picking p) {
        return followed.pick(p.context);
    }

}
