package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OutlierDetectionPolicyTest {
    private final ManualTicker ticker = new ManualTicker(-7);

    private UpstreamPool pool(OutlierDetectionPolicy policy, int size) {
        UpstreamPool.Builder b = UpstreamPool.builder().ticker(ticker).healthPolicy(policy);
        for (int i = 1; i <= size; i++) {
            b.add(Upstream.of("127.0.0.1", i));
        }
        return b.build();
    }

    private static void fail(UpstreamPool pool, Member m, int times) {
        for (int i = 0; i < times; i++) {
            pool.report(m, Outcome.ERROR_STATUS);
        }
    }

    /** How long {@code m} stays ejected from now, measured by stepping the ticker in whole seconds. */
    private long ejectedSeconds(Member m) {
        long start = ticker.nanoTime();
        long until = m.ejectedUntil();
        assertTrue(until != Member.NOT_EJECTED && start - until < 0, m + " is not ejected");
        return Duration.ofNanos(until - start).toSeconds();
    }

    @Test
    void defaultsAreEnvoys() {
        OutlierDetectionPolicy p = OutlierDetectionPolicy.envoyDefaults();
        assertEquals(5, p.consecutiveFailures());
        assertEquals(Duration.ofSeconds(30), p.baseEjectionTime());
        assertEquals(Duration.ofSeconds(300), p.maxEjectionTime());
        assertEquals(10, p.maxEjectionPercent());
        assertEquals(Duration.ofSeconds(10), p.interval());
    }

    @Test
    void fiveFailuresInARowEjectForThirtySecondsAndASuccessBreaksTheRun() {
        OutlierDetectionPolicy policy = OutlierDetectionPolicy.envoyDefaults();
        UpstreamPool pool = pool(policy, 3);
        Member m = pool.snapshot().members().get(0);
        fail(pool, m, 4);
        pool.report(m, Outcome.SUCCESS);
        fail(pool, m, 4);
        assertTrue(m.isAvailable(ticker.nanoTime()));
        assertEquals(4, policy.consecutiveFailures(m));
        fail(pool, m, 1);
        assertFalse(m.isAvailable(ticker.nanoTime()));
        assertEquals(30, ejectedSeconds(m));
        ticker.advance(Duration.ofSeconds(30));
        assertTrue(m.isAvailable(ticker.nanoTime()), "ejection over, no probe phase");
    }

    @Test
    void ejectionTimeGrowsWithEachEjectionUpToTheMaximum() {
        OutlierDetectionPolicy policy = OutlierDetectionPolicy.builder().consecutiveFailures(1)
                .maxEjectionPercent(100).build();
        UpstreamPool pool = pool(policy, 2);
        Member m = pool.snapshot().members().get(0);
        long[] expected = {30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300};
        for (long seconds : expected) {
            fail(pool, m, 1);
            assertEquals(seconds, ejectedSeconds(m));
            // Fail again right as the ejection ends: no time un-ejected, no decay.
            ticker.advance(Duration.ofSeconds(seconds));
        }
        assertEquals(expected.length, policy.ejections(m));
    }

    @Test
    void ejectionTimeReachesAMaximumThatIsNotAMultipleOfTheBase() {
        // Envoy increments the backoff while backoff * base < max + base, so the ejection time reaches
        // max_ejection_time even when it is not a multiple of base_ejection_time.
        OutlierDetectionPolicy policy = OutlierDetectionPolicy.builder().consecutiveFailures(1)
                .maxEjectionPercent(100).maxEjectionTime(Duration.ofSeconds(100)).build();
        UpstreamPool pool = pool(policy, 2);
        Member m = pool.snapshot().members().get(0);
        for (long seconds : new long[] {30, 60, 90, 100, 100}) {
            fail(pool, m, 1);
            assertEquals(seconds, ejectedSeconds(m));
            ticker.advance(Duration.ofSeconds(seconds));
        }
    }

    @Test
    void aRunOfFailuresTheCapKeepsRefusingSaturatesInsteadOfWrapping() {
        // An upstream refused by max_ejection_percent keeps counting; 2^31 failures must not wrap the run
        // to a negative count, which would keep it from being ejected once the cap allows it.
        AtomicInteger run = new AtomicInteger(Integer.MAX_VALUE - 1);
        assertEquals(Integer.MAX_VALUE, OutlierDetectionPolicy.countFailure(run));
        assertEquals(Integer.MAX_VALUE, OutlierDetectionPolicy.countFailure(run));
        assertEquals(Integer.MAX_VALUE, run.get());
        assertEquals(1, OutlierDetectionPolicy.countFailure(new AtomicInteger()));
    }

    @Test
    void theMultiplierDecaysByOnePerIntervalSpentUnejected() {
        OutlierDetectionPolicy policy = OutlierDetectionPolicy.builder().consecutiveFailures(1)
                .maxEjectionPercent(100).build();
        UpstreamPool pool = pool(policy, 2);
        Member m = pool.snapshot().members().get(0);
        fail(pool, m, 1);
        ticker.advance(Duration.ofSeconds(30));
        fail(pool, m, 1);
        ticker.advance(Duration.ofSeconds(60));
        fail(pool, m, 1);
        assertEquals(90, ejectedSeconds(m));
        ticker.advance(Duration.ofSeconds(90));
        pool.report(m, Outcome.SUCCESS);
        // 25 s healthy: two whole intervals of 10 s: multiplier 3 -> 1, and the next ejection makes it 2.
        ticker.advance(Duration.ofSeconds(25));
        fail(pool, m, 1);
        assertEquals(60, ejectedSeconds(m));
        ticker.advance(Duration.ofSeconds(60 + 600));
        fail(pool, m, 1);
        assertEquals(30, ejectedSeconds(m), "long healthy: back to the base time");
    }

    @Test
    void atMostTheConfiguredShareIsEjectedButOneAlwaysMayBe() {
        OutlierDetectionPolicy policy = OutlierDetectionPolicy.builder().consecutiveFailures(1).build();
        UpstreamPool pool = pool(policy, 3);
        List<Member> ms = pool.snapshot().members();
        fail(pool, ms.get(0), 1);
        assertFalse(ms.get(0).isAvailable(ticker.nanoTime()), "10% of 3 rounds down to 0, but one may always go");
        fail(pool, ms.get(1), 3);
        assertTrue(ms.get(1).isAvailable(ticker.nanoTime()), "a second would be 67% > 10%");
        ticker.advance(Duration.ofSeconds(30));
        fail(pool, ms.get(1), 1);
        assertFalse(ms.get(1).isAvailable(ticker.nanoTime()), "the refused one tries again once room is made");

        OutlierDetectionPolicy half = OutlierDetectionPolicy.builder().consecutiveFailures(1)
                .maxEjectionPercent(50).build();
        UpstreamPool four = pool(half, 4);
        for (Member m : four.snapshot().members()) {
            fail(four, m, 1);
        }
        assertEquals(2, four.snapshot().available(ticker.nanoTime()).size());
    }

    @Test
    void listenersSeeTheEjectionAndTheFirstSuccessAfterIt() {
        UpstreamPool pool = pool(OutlierDetectionPolicy.builder().consecutiveFailures(2).build(), 2);
        List<HealthEvent> events = new CopyOnWriteArrayList<>();
        pool.addListener(new PoolListener() {
            @Override
            public void onHealthChange(HealthEvent event) {
                events.add(event);
            }
        });
        Member m = pool.snapshot().members().get(0);
        fail(pool, m, 2);
        assertEquals(1, events.size());
        assertEquals("outlier", events.get(0).source());
        assertFalse(events.get(0).available());
        assertTrue(events.get(0).reason().contains("PT30S"), events.get(0).reason());
        pool.report(m, Outcome.SUCCESS);
        assertEquals(1, events.size(), "a late success during the ejection changes nothing");
        ticker.advance(Duration.ofSeconds(30));
        pool.report(m, Outcome.SUCCESS);
        assertEquals(2, events.size());
        assertTrue(events.get(1).available());
        assertEquals(Member.NOT_EJECTED, m.ejectedUntil());
    }

    @Test
    void failuresOfRequestsInFlightDuringTheEjectionAreNotCounted() {
        OutlierDetectionPolicy policy = OutlierDetectionPolicy.builder().consecutiveFailures(2).build();
        UpstreamPool pool = pool(policy, 2);
        Member m = pool.snapshot().members().get(0);
        fail(pool, m, 2);
        fail(pool, m, 5);
        assertEquals(0, policy.consecutiveFailures(m));
        ticker.advance(Duration.ofSeconds(30));
        fail(pool, m, 1);
        assertTrue(m.isAvailable(ticker.nanoTime()));
    }

    @Test
    void badOptionsAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OutlierDetectionPolicy.builder().maxEjectionPercent(101));
        assertTrue(e.getMessage().contains("101"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> OutlierDetectionPolicy.builder().consecutiveFailures(0));
        assertTrue(e.getMessage().contains("consecutiveFailures"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OutlierDetectionPolicy.builder()
                .baseEjectionTime(Duration.ofSeconds(60)).maxEjectionTime(Duration.ofSeconds(30)).build());
        assertTrue(e.getMessage().contains("PT30S"), e.getMessage());
    }
}
