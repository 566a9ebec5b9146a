package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PassiveHealthPolicyTest {
    private static final Duration TEN_S = Duration.ofSeconds(10);

    private final ManualTicker ticker = new ManualTicker(42);
    private final PickContext ctx = new PickContext();

    private UpstreamPool pool(PassiveHealthPolicy policy, Upstream... upstreams) {
        UpstreamPool.Builder b = UpstreamPool.builder().ticker(ticker).healthPolicy(policy);
        for (Upstream u : upstreams) {
            b.add(u);
        }
        return b.build();
    }

    @Test
    void defaultsAreNginxs() {
        PassiveHealthPolicy p = PassiveHealthPolicy.nginxDefaults();
        assertEquals(1, p.maxFails());
        assertEquals(TEN_S, p.failTimeout());
        assertEquals(PassiveHealthPolicy.WindowMode.NGINX, p.windowMode());
    }

    /** The seed's nginx run: max_fails=7 fail_timeout=10s, a backup; the 8th request skips backend 1. */
    @Test
    void sevenFailuresSendTheEighthRequestStraightToTheBackup() {
        UpstreamPool pool = pool(PassiveHealthPolicy.builder().maxFails(7).failTimeout(TEN_S).build(),
                Upstream.of("127.0.0.1", 8081), Upstream.builder("127.0.0.1", 8082).backup(true).build());
        for (int i = 0; i < 7; i++) {
            Member m = pool.pick(ctx.reset());
            assertEquals(8081, m.upstream().port(), "request " + (i + 1));
            ticker.advance(Duration.ofSeconds(1)); // proxy_read_timeout 1s
            pool.report(m, Outcome.TIMEOUT);
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(8082, pool.pick(ctx.reset()).upstream().port());
        }
        // Ten seconds after the 7th failure nginx still skips it (now - checked <= fail_timeout) ...
        ticker.advance(TEN_S);
        assertEquals(8082, pool.pick(ctx.reset()).upstream().port());
        // ... and one nanosecond later lets one request through.
        ticker.advance(1);
        assertEquals(8081, pool.pick(ctx.reset()).upstream().port());
    }

    @Test
    void afterTheTimeoutExactlyOneRequestProbesAndItsOutcomeDecides() {
        UpstreamPool pool = pool(PassiveHealthPolicy.builder().maxFails(2).failTimeout(TEN_S).build(),
                Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        pool.report(one, Outcome.CONNECT_FAILURE);
        assertTrue(one.isAvailable(ticker.nanoTime()), "one failure of max_fails=2");
        pool.report(one, Outcome.CONNECT_FAILURE);
        assertFalse(one.isAvailable(ticker.nanoTime()));
        ticker.advance(TEN_S.plusNanos(1));

        int probes = 0;
        Member probe = null;
        for (int i = 0; i < 10; i++) {
            Member m = pool.pick(ctx.reset());
            if (m == one) {
                probes++;
                probe = m;
            }
        }
        assertEquals(1, probes, "exactly one probe while it is in flight");
        // The probe fails: one failure is enough again (fails is still >= max_fails).
        pool.report(probe, Outcome.TIMEOUT);
        assertFalse(one.isAvailable(ticker.nanoTime()));
        assertEquals(3, ((PassiveHealthPolicy) pool.healthPolicy()).failures(one));

        ticker.advance(TEN_S.plusNanos(1));
        assertSame(one, pickUntil(pool, one));
        pool.report(one, Outcome.SUCCESS);
        assertEquals(0, ((PassiveHealthPolicy) pool.healthPolicy()).failures(one));
        assertEquals(Member.NOT_EJECTED, one.ejectedUntil());
        // Fully back: one failure no longer ejects it.
        pool.report(one, Outcome.TIMEOUT);
        assertTrue(one.isAvailable(ticker.nanoTime()));
    }

    @Test
    void failTimeoutIsAQuietPeriodNotARollingWindow() {
        PassiveHealthPolicy policy = PassiveHealthPolicy.builder().maxFails(3).failTimeout(TEN_S).build();
        UpstreamPool pool = pool(policy, Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        // A failure every 9 s, with successes in between: a rolling window would never hold 3 of them.
        for (int i = 0; i < 3; i++) {
            pool.report(one, Outcome.CONNECT_FAILURE);
            ticker.advance(Duration.ofSeconds(9));
            pool.pick(ctx.reset());
            pool.pick(ctx.reset());
            pool.report(one, Outcome.SUCCESS);
        }
        assertEquals(3, policy.failures(one));
        assertFalse(one.isAvailable(ticker.nanoTime()), "3 failures, none followed by a quiet fail_timeout");
    }

    @Test
    void aSuccessResetsOnlyAfterAPickMoreThanFailTimeoutAfterTheLastFailure() {
        PassiveHealthPolicy policy = PassiveHealthPolicy.builder().maxFails(3).failTimeout(TEN_S).build();
        UpstreamPool pool = pool(policy, Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        pool.report(one, Outcome.CONNECT_FAILURE);
        pool.report(one, Outcome.SUCCESS);
        assertEquals(1, policy.failures(one), "success within fail_timeout of the failure");
        ticker.advance(TEN_S.plusNanos(1));
        pool.report(one, Outcome.SUCCESS);
        assertEquals(1, policy.failures(one), "no pick since: checked is still the failure's time");
        pickUntil(pool, one);
        pool.report(one, Outcome.SUCCESS);
        assertEquals(0, policy.failures(one));
    }

    @Test
    void maxFailsZeroNeverEjects() {
        UpstreamPool pool = pool(PassiveHealthPolicy.builder().maxFails(0).build(),
                Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        for (int i = 0; i < 100; i++) {
            pool.report(one, Outcome.CONNECT_FAILURE);
        }
        assertTrue(one.isAvailable(ticker.nanoTime()));
        assertEquals(0, ((PassiveHealthPolicy) pool.healthPolicy()).failures(one));
    }

    @Test
    void aSingleUpstreamWithoutBackupIsNeverMarkedUnavailable() {
        UpstreamPool pool = pool(PassiveHealthPolicy.nginxDefaults(), Upstream.of("127.0.0.1", 1));
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        for (int i = 0; i < 5; i++) {
            assertSame(one, pool.pick(ctx.reset()));
            pool.report(one, Outcome.CONNECT_FAILURE);
        }
        assertTrue(one.isAvailable(ticker.nanoTime()));
    }

    @Test
    void anEjectionIsLiftedWhenThePoolShrinksToOneUpstream() {
        UpstreamPool pool = pool(PassiveHealthPolicy.nginxDefaults(), Upstream.of("127.0.0.1", 1),
                Upstream.of("127.0.0.1", 2));
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        pool.report(one, Outcome.CONNECT_FAILURE);
        assertFalse(one.isAvailable(ticker.nanoTime()));
        pool.remove("127.0.0.1:2");
        assertTrue(one.isAvailable(ticker.nanoTime()));
        assertSame(one, pool.pick(ctx.reset()));
    }

    @Test
    void whenNoUpstreamIsLeftEveryCountIsResetSoTheNextRequestTriesAgain() {
        PassiveHealthPolicy policy = PassiveHealthPolicy.nginxDefaults();
        UpstreamPool pool = pool(policy, Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2),
                Upstream.builder("127.0.0.1", 3).backup(true).build());
        for (Member m : pool.snapshot().members()) {
            pool.report(m, Outcome.CONNECT_FAILURE);
        }
        assertNull(pool.pick(ctx.reset()), "nginx: 502 no live upstreams");
        for (Member m : pool.snapshot().members()) {
            assertEquals(0, policy.failures(m));
            assertTrue(m.isAvailable(ticker.nanoTime()));
        }
        assertEquals(false, pool.pick(ctx.reset()).upstream().isBackup());
    }

    @Test
    void listenersSeeTheEjectionAndTheRecovery() {
        UpstreamPool pool = pool(PassiveHealthPolicy.nginxDefaults(), Upstream.of("127.0.0.1", 1),
                Upstream.of("127.0.0.1", 2));
        List<HealthEvent> events = new CopyOnWriteArrayList<>();
        pool.addListener(new PoolListener() {
            @Override
            public void onHealthChange(HealthEvent event) {
                events.add(event);
            }
        });
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        pool.report(one, Outcome.CONNECT_FAILURE);
        assertEquals(1, events.size());
        HealthEvent down = events.get(0);
        assertFalse(down.available());
        assertEquals("passive", down.source());
        assertEquals(one.upstream(), down.upstream());
        assertEquals(ticker.nanoTime(), down.nanoTime());
        ticker.advance(TEN_S.plusNanos(1));
        pickUntil(pool, one);
        assertEquals(1, events.size(), "moving the deadline for the probe is not a transition");
        pool.report(one, Outcome.SUCCESS);
        assertEquals(2, events.size());
        assertTrue(events.get(1).available());
    }

    @Test
    void racingPickersLetExactlyOneProbeThrough() throws Exception {
        for (int round = 0; round < 20; round++) {
            UpstreamPool pool = pool(PassiveHealthPolicy.nginxDefaults(), Upstream.of("127.0.0.1", 1),
                    Upstream.of("127.0.0.1", 2));
            Member one = pool.member("127.0.0.1:1").orElseThrow();
            pool.report(one, Outcome.CONNECT_FAILURE);
            ticker.advance(TEN_S.plusNanos(1));
            int threads = 4;
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(threads);
            AtomicInteger probes = new AtomicInteger();
            for (int t = 0; t < threads; t++) {
                Thread th = new Thread(() -> {
                    PickContext c = new PickContext();
                    try {
                        go.await();
                        for (int i = 0; i < 50; i++) {
                            if (pool.pick(c.reset()) == one) {
                                probes.incrementAndGet();
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        done.countDown();
                    }
                });
                th.start();
            }
            go.countDown();
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertEquals(1, probes.get(), "round " + round);
        }
    }

    /** Lock-free updates from many threads leave each member's deadline matching the policy's state. */
    @Test
    void racingOutcomesAndPicksSettleOnTheDeadlineTheStateImplies() throws Exception {
        for (PassiveHealthPolicy.WindowMode mode : PassiveHealthPolicy.WindowMode.values()) {
            PassiveHealthPolicy policy = PassiveHealthPolicy.builder().maxFails(2).failTimeout(Duration.ofNanos(50))
                    .windowMode(mode).build();
            UpstreamPool pool = pool(policy, Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2),
                    Upstream.of("127.0.0.1", 3));
            List<Member> members = pool.snapshot().members();
            int threads = 4;
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                int seed = t;
                new Thread(() -> {
                    java.util.Random random = new java.util.Random(seed);
                    PickContext c = new PickContext();
                    try {
                        go.await();
                        for (int i = 0; i < 20_000; i++) {
                            int r = random.nextInt(10);
                            if (r < 3) {
                                pool.pick(c.reset());
                            } else if (r < 6) {
                                pool.report(members.get(random.nextInt(3)), Outcome.CONNECT_FAILURE);
                            } else if (r < 9) {
                                pool.report(members.get(random.nextInt(3)), Outcome.SUCCESS);
                            } else {
                                ticker.advance(random.nextInt(20));
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        done.countDown();
                    }
                }).start();
            }
            go.countDown();
            assertTrue(done.await(15, TimeUnit.SECONDS));
            long now = ticker.nanoTime();
            for (Member m : members) {
                long implied = policy.impliedEjection(m, now);
                long actual = m.ejectedUntil();
                if (mode == PassiveHealthPolicy.WindowMode.NGINX || implied != Member.NOT_EJECTED) {
                    assertEquals(implied, actual, mode + " " + m);
                } else {
                    // Sliding: an ended ejection is cleared lazily, by the next outcome.
                    assertTrue(actual == Member.NOT_EJECTED || now - actual >= 0, mode + " " + m);
                }
            }
        }
    }

    /** The outcome and pick paths allocate nothing once a member has a state (no transitions here). */
    @Test
    void outcomesAndPicksDoNotAllocate() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        org.junit.jupiter.api.Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
        for (PassiveHealthPolicy.WindowMode mode : PassiveHealthPolicy.WindowMode.values()) {
            PassiveHealthPolicy policy = PassiveHealthPolicy.builder().maxFails(PassiveHealthPolicy.MAX_MAX_FAILS)
                    .failTimeout(Duration.ofSeconds(10)).windowMode(mode).build();
            UpstreamPool pool = pool(policy, Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
            Member one = pool.member("127.0.0.1:1").orElseThrow();
            Member two = pool.member("127.0.0.1:2").orElseThrow();
            Runnable work = () -> {
                for (int i = 0; i < 5_000; i++) {
                    pool.pick(ctx.reset());
                    pool.report(one, Outcome.TIMEOUT);
                    pool.report(two, Outcome.SUCCESS);
                    pool.report(one, Outcome.SUCCESS);
                }
            };
            for (int i = 0; i < 10; i++) {
                work.run(); // warm up
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            work.run();
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            // A few hundred bytes of JIT or accounting noise are not per-operation allocation.
            assertTrue(allocated < 1_000, mode + ": 20,000 operations allocated " + allocated + " bytes");
        }
    }

    @Test
    void slidingWindowNeedsMaxFailsFreshFailuresAfterComingBack() {
        PassiveHealthPolicy policy = PassiveHealthPolicy.builder().maxFails(2).failTimeout(TEN_S)
                .windowMode(PassiveHealthPolicy.WindowMode.SLIDING).build();
        UpstreamPool pool = pool(policy, Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        pool.report(one, Outcome.CONNECT_FAILURE);
        ticker.advance(Duration.ofSeconds(4));
        pool.report(one, Outcome.CONNECT_FAILURE);
        assertFalse(one.isAvailable(ticker.nanoTime()));
        // The first failure leaves the window 10 s after it: back for everyone, no single probe.
        ticker.advance(Duration.ofSeconds(6).plusNanos(1));
        assertTrue(one.isAvailable(ticker.nanoTime()));
        int ones = 0;
        for (int i = 0; i < 10; i++) {
            if (pool.pick(ctx.reset()) == one) {
                ones++;
            }
        }
        assertEquals(5, ones);
        // One more failure: the second old one is still inside the window, so two are: ejected again.
        pool.report(one, Outcome.CONNECT_FAILURE);
        assertFalse(one.isAvailable(ticker.nanoTime()));
        // 4 s later the older of the two leaves the window: back, and the next success ends the ejection.
        ticker.advance(Duration.ofSeconds(4));
        pool.report(one, Outcome.SUCCESS);
        assertTrue(one.isAvailable(ticker.nanoTime()));
        assertEquals(Member.NOT_EJECTED, one.ejectedUntil(), "the success cleared the ended ejection");
    }

    @Test
    void badOptionsAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PassiveHealthPolicy.builder().maxFails(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PassiveHealthPolicy.builder().failTimeout(Duration.ZERO));
        assertTrue(e.getMessage().contains("failTimeout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PassiveHealthPolicy.builder().failTimeout(Duration.ofDays(400)));
        assertTrue(e.getMessage().contains("PT9600H"), e.getMessage());
    }

    private Member pickUntil(UpstreamPool pool, Member wanted) {
        for (int i = 0; i < 10; i++) {
            if (pool.pick(ctx.reset()) == wanted) {
                return wanted;
            }
        }
        throw new AssertionError(wanted + " was not picked");
    }
}
