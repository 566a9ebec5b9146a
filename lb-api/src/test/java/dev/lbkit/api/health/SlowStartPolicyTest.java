package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SlowStartPolicyTest {
    private static final Duration WINDOW = Duration.ofSeconds(100);

    private final ManualTicker ticker = new ManualTicker(5);

    private SlowStartPolicy manual() {
        return SlowStartPolicy.builder().window(WINDOW).updateInterval(Duration.ofHours(1)).build();
    }

    private UpstreamPool pool(HealthPolicy policy) {
        return UpstreamPool.builder().ticker(ticker).healthPolicy(policy)
                .add(Upstream.builder("127.0.0.1", 1).weight(10).build())
                .add(Upstream.builder("127.0.0.1", 2).weight(10).build())
                .build();
    }

    @Test
    void offByDefault() {
        SlowStartPolicy p = SlowStartPolicy.builder().build();
        assertEquals(Duration.ZERO, p.window());
        assertEquals(Duration.ofSeconds(1), p.updateInterval());
        UpstreamPool pool = pool(p);
        Member m = pool.member("127.0.0.1:1").orElseThrow();
        pool.markDown("127.0.0.1:1", true);
        pool.markDown("127.0.0.1:1", false);
        p.updateWeights();
        assertEquals(10, m.effectiveWeight());
        pool.close();
    }

    @Test
    void anUpstreamThatComesBackRampsLinearlyOverTheWindow() {
        SlowStartPolicy slow = manual();
        UpstreamPool pool = pool(slow);
        Member m = pool.member("127.0.0.1:1").orElseThrow();
        try {
            assertEquals(10, m.effectiveWeight(), "members present at attach time do not ramp");
            pool.markDown("127.0.0.1:1", true);
            slow.updateWeights();
            pool.markDown("127.0.0.1:1", false);
            slow.updateWeights();
            assertTrue(slow.isRamping(m));
            assertEquals(1, m.effectiveWeight());
            long versionBefore = pool.snapshot().version();
            ticker.advance(Duration.ofSeconds(25));
            slow.updateWeights();
            assertEquals(3, m.effectiveWeight(), "ceil(10 x 25%)");
            assertTrue(pool.snapshot().version() > versionBefore, "pickers were rebuilt for the new weight");
            ticker.advance(Duration.ofSeconds(50));
            slow.updateWeights();
            assertEquals(8, m.effectiveWeight());
            ticker.advance(Duration.ofSeconds(25));
            slow.updateWeights();
            assertEquals(10, m.effectiveWeight());
            assertFalse(slow.isRamping(m));
        } finally {
            pool.close();
        }
    }

    @Test
    void anActiveCheckComebackRampsAndAGoingDownRestartsTheRamp() {
        SlowStartPolicy slow = manual();
        UpstreamPool pool = pool(slow);
        Member m = pool.member("127.0.0.1:1").orElseThrow();
        m.checkDown(true, "test");
        slow.updateWeights();
        m.checkDown(false, "test");
        slow.updateWeights();
        ticker.advance(Duration.ofSeconds(60));
        slow.updateWeights();
        assertEquals(6, m.effectiveWeight());
        m.eject(ticker.nanoTime() + 10, "passive", "test");
        slow.updateWeights();
        assertFalse(slow.isRamping(m));
        ticker.advance(10);
        slow.updateWeights();
        assertTrue(slow.isRamping(m), "the ejection ended: a new ramp");
        assertEquals(1, m.effectiveWeight());
        pool.close();
        assertEquals(10, m.effectiveWeight(), "closing gives ramping upstreams their full weight");
    }

    @Test
    void newcomersRampAndPoolEditsDoNotCutARampShort() {
        SlowStartPolicy slow = manual();
        UpstreamPool pool = pool(slow);
        Member added = pool.add(Upstream.builder("127.0.0.1", 3).weight(4).build());
        assertEquals(1, added.effectiveWeight(), "the newcomer starts at 1 at once");
        ticker.advance(Duration.ofSeconds(50));
        slow.updateWeights();
        assertEquals(2, added.effectiveWeight());
        // An edit resets the effective weight in the pool; the policy puts the ramp's value back.
        pool.update(Upstream.builder("127.0.0.1", 3).weight(8).build());
        assertEquals(4, added.effectiveWeight());
        pool.close();
    }

    @Test
    void weightsAreUpdatedByThemselvesOnTheExecutor() throws Exception {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            SlowStartPolicy slow = SlowStartPolicy.builder().window(WINDOW).updateInterval(Duration.ofMillis(10))
                    .executor(executor).build();
            UpstreamPool pool = pool(slow);
            AtomicInteger snapshots = new AtomicInteger();
            pool.addListener(new PoolListener() {
                @Override
                public void onSnapshot(PoolSnapshot snapshot) {
                    snapshots.incrementAndGet();
                }
            });
            Member m = pool.add(Upstream.builder("127.0.0.1", 3).weight(10).build());
            assertEquals(1, m.effectiveWeight());
            int before = snapshots.get();
            ticker.advance(WINDOW);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            // The weight is set before the pickers are rebuilt: wait for both.
            while ((m.effectiveWeight() != 10 || snapshots.get() <= before) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(10, m.effectiveWeight());
            assertTrue(snapshots.get() > before, "the timer's update rebuilt the pickers");
            pool.close();
            assertFalse(executor.isShutdown());
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void badOptionsAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SlowStartPolicy.builder().window(Duration.ofSeconds(-3)));
        assertTrue(e.getMessage().contains("PT-3S"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SlowStartPolicy.builder().updateInterval(Duration.ZERO));
        assertTrue(e.getMessage().contains("updateInterval"), e.getMessage());
    }
}
