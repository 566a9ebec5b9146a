package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A ticker reading of exactly Long.MIN_VALUE (wrap-around) is a time like any other, not "never". */
class ClockWrapTest {

    @Test
    void aFailureAtLongMinValueEjectsForFailTimeout() {
        ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - 300);
        PassiveHealthPolicy policy = PassiveHealthPolicy.builder().maxFails(1).failTimeout(Duration.ofNanos(10)).build();
        UpstreamPool pool = UpstreamPool.builder().ticker(ticker).healthPolicy(policy)
                .add(Upstream.of("127.0.0.1", 1000)).add(Upstream.builder("127.0.0.1", 2000).backup(true).build()).build();
        Member primary = pool.snapshot().members().get(0);
        ticker.advance(301);
        assertEquals(Long.MIN_VALUE, ticker.nanoTime());
        assertEquals(primary, pool.pick(new PickContext()));
        pool.report(primary, Outcome.TIMEOUT);
        assertFalse(primary.isAvailable(ticker.nanoTime()), "ejected right after max_fails failures");
        ticker.advance(10);
        assertFalse(primary.isAvailable(ticker.nanoTime()), "still within fail_timeout");
        ticker.advance(2);
        assertTrue(primary.isAvailable(ticker.nanoTime()), "fail_timeout has passed");
    }
}
