package dev.lbkit.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What every built-in picker (and the persistence wrapper) promises: no allocation, no dead picks under churn. */
class PickerContractTest {

    static List<String> schedulers() {
        List<String> names = new ArrayList<>(SchedulersTest.BUILT_INS);
        // A 1 ms timeout so that clients keep moving onto new upstreams during the churn test.
        names.add("rr:persist=PT0.001S");
        names.add("mh:persist=PT0.001S,persist-v4-prefix=24");
        return names;
    }

    private static InetAddress[] clients(int n) throws UnknownHostException {
        InetAddress[] out = new InetAddress[n];
        for (int i = 0; i < n; i++) {
            out[i] = InetAddress.getByAddress(new byte[] {127, 1, (byte) (i >> 4), (byte) i});
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("schedulers")
    void pickAllocatesNothing(String scheduler) throws UnknownHostException {
        UpstreamPool.Builder b = UpstreamPool.builder().scheduler(scheduler);
        for (int i = 0; i < 16; i++) {
            b.add(Upstream.builder("127.0.0.1", 30000 + i).weight(1 + i % 3).build());
        }
        UpstreamPool pool = b.build();
        pool.snapshot().primaries().get(3).checkDown(true, "exercise the fall-through paths too");
        InetAddress[] clients = clients(64);
        PickContext ctx = new PickContext();
        Runnable picks = () -> {
            for (int i = 0; i < 10_000; i++) {
                ctx.reset().hashKey(i * 0x9E3779B97F4A7C15L).clientAddress(clients[i & 63]);
                if (i % 3 == 0) {
                    // A request without the key its tier hashes: the hash schedulers' round robin.
                    ctx.hashKeyMissing();
                }
                if (pool.pick(ctx) == null) {
                    throw new AssertionError("no pick");
                }
            }
        };
        long bytes = Allocation.measure(picks);
        assertTrue(bytes < 1024, scheduler + ": 10,000 picks allocated " + bytes + " bytes");
    }

    /**
     * Pickers race a thread that adds upstreams and kills them for good (remove, admin mark-down,
     * active-check down, ejection). The mutator stamps each kill with a counter after the kill returned;
     * a picker reads the counter before it picks. A pick of a member whose stamp is at most that
     * reading is a member that was dead before the pick began: never allowed. A pick may still return a
     * member killed while it ran (stamp above the reading); that is the honest limit of any lock-free
     * pick. Eight upstreams are never touched, so every pick must find one.
     */
    @ParameterizedTest
    @MethodSource("schedulers")
    void churnNeverYieldsARemovedOrUnavailableUpstream(String scheduler) throws Exception {
        UpstreamPool.Builder b = UpstreamPool.builder().scheduler(scheduler);
        for (int i = 0; i < 8; i++) {
            b.add(Upstream.of("127.0.0.1", 31000 + i));
        }
        UpstreamPool pool = b.build();
        AtomicLong epoch = new AtomicLong();
        Map<Member, Long> deadAt = new ConcurrentHashMap<>();
        Map<Member, Boolean> churn = new ConcurrentHashMap<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong churnPicks = new AtomicLong();
        AtomicLong totalPicks = new AtomicLong();
        // At least 250 ms and 20 kills, at most 3 s (the pickers may starve the mutator on a busy machine).
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(3);
        long minimum = start + TimeUnit.MILLISECONDS.toNanos(250);
        AtomicReference<Boolean> stop = new AtomicReference<>(Boolean.FALSE);
        InetAddress[] clients = clients(256);
        int pickers = 3;
        CountDownLatch done = new CountDownLatch(pickers);
        for (int t = 0; t < pickers; t++) {
            Thread th = new Thread(() -> {
                PickContext ctx = new PickContext();
                ThreadLocalRandom r = ThreadLocalRandom.current();
                try {
                    while (!stop.get() && failure.get() == null) {
                        ctx.reset().hashKey(r.nextLong()).clientAddress(clients[r.nextInt(clients.length)]);
                        if (r.nextInt(3) == 0) {
                            ctx.hashKeyMissing();
                        }
                        long seen = epoch.get();
                        Member m = pool.pick(ctx);
                        totalPicks.incrementAndGet();
                        if (m == null) {
                            throw new AssertionError("no upstream although eight were always up");
                        }
                        Long dead = deadAt.get(m);
                        if (dead != null && dead <= seen) {
                            throw new AssertionError(m + " picked after it was killed (" + dead + " <= " + seen + ")");
                        }
                        if (churn.containsKey(m)) {
                            churnPicks.incrementAndGet();
                        }
                        // Load changes the least-load schedulers' choices.
                        m.incrementActive();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            }, "picker-" + t);
            th.start();
        }
        ArrayDeque<Member> live = new ArrayDeque<>();
        ArrayDeque<Member> dead = new ArrayDeque<>();
        int port = 40000;
        int kills = 0;
        while (failure.get() == null && System.nanoTime() < deadline && (System.nanoTime() < minimum || kills < 20)) {
            // Churn members weigh more, so fo and the weighted schedulers prefer them.
            Member added = pool.add(Upstream.builder("127.0.0.2", port++).weight(3).build());
            churn.put(added, Boolean.TRUE);
            live.add(added);
            if (live.size() > 6) {
                Member victim = live.poll();
                switch (kills++ % 4) {
                    case 0:
                        pool.remove(victim.upstream());
                        break;
                    case 1:
                        pool.markDown(victim.upstream().key(), true);
                        break;
                    case 2:
                        victim.checkDown(true, "churn");
                        break;
                    default:
                        victim.eject(System.nanoTime() + Duration.ofHours(1).toNanos(), "test", "churn");
                        break;
                }
                deadAt.put(victim, epoch.incrementAndGet());
                dead.add(victim);
                if (dead.size() > 6) {
                    pool.remove(dead.poll().upstream());
                }
            }
            Thread.sleep(0, 200_000);
        }
        stop.set(Boolean.TRUE);
        assertTrue(done.await(10, TimeUnit.SECONDS));
        if (failure.get() != null) {
            throw new AssertionError(scheduler, failure.get());
        }
        assertTrue(kills >= 20, "mutator made " + kills + " kills");
        assertTrue(churnPicks.get() > 0, scheduler + ": no pick of a churned upstream in " + totalPicks.get());
        assertEquals(0, pool.snapshot().members().stream().filter(Member::isRemoved).count());
    }
}
