package dev.lbkit.bench;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one {@link Picker#pick} for every built-in scheduler (and {@code rr} with client
 * persistence) over 2, 16 and 256 upstreams of weights 1, 2, 3, 1, 2, 3 …, all available, each with
 * a fixed random 0..7 active connections.
 *
 * <p>Each invocation sets a new hash key and client address from precomputed arrays of 1024 (so hash
 * schedulers do not see one key over and over, and persistence sees 1024 clients that all hit after
 * the first round) on one reused {@link PickContext}, then picks from the pool's current primary
 * picker: what a tier does per connection or request, minus reading the ticker.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SchedulerPickBenchmark {
    /** The scheduler spec, as {@code UpstreamPool.Builder#scheduler(String)} takes it. */
    @Param({"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh", "ring", "random", "p2c", "fo", "rr:persist=300"})
    public String scheduler;

    @Param({"2", "16", "256"})
    public int size;

    private static final int KEYS = 1024;

    private UpstreamPool pool;
    private Picker picker;
    private final PickContext context = new PickContext();
    private final long[] keys = new long[KEYS];
    private final InetAddress[] clients = new InetAddress[KEYS];
    private int next;

    @Setup
    public void setUp() throws UnknownHostException {
        UpstreamPool.Builder b = UpstreamPool.builder().scheduler(scheduler);
        for (int i = 0; i < size; i++) {
            b.add(Upstream.builder("127.0.0.1", 10000 + i).weight(1 + i % 3).build());
        }
        pool = b.build();
        picker = pool.snapshot().primaryPicker();
        SplittableRandom random = new SplittableRandom(42);
        // A fixed, uneven load, so that least-load comparisons are not all ties.
        for (Member m : pool.snapshot().members()) {
            for (int k = random.nextInt(8); k > 0; k--) {
                m.incrementActive();
            }
        }
        for (int i = 0; i < KEYS; i++) {
            keys[i] = random.nextLong();
            clients[i] = InetAddress.getByAddress(new byte[] {127, 1, (byte) (i >> 8), (byte) i});
        }
        context.nanoTime(System.nanoTime());
    }

    @Benchmark
    public Member pick() {
        int i = next++ & (KEYS - 1);
        return picker.pick(context.hashKey(keys[i]).clientAddress(clients[i]));
    }

    /** The pool the picker came from, for the smoke test. */
    public UpstreamPool pool() {
        return pool;
    }
}
