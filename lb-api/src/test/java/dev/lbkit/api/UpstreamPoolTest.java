package dev.lbkit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.scheduler.PickContext;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class UpstreamPoolTest {

    @Test
    void backupsServeOnlyWhenNoPrimaryIsAvailable() {
        UpstreamPool pool = UpstreamPool.builder()
                .add(Upstream.of("127.0.0.1", 8081))
                .add(Upstream.builder("127.0.0.1", 8082).backup(true).build())
                .build();
        PickContext ctx = new PickContext();
        for (int i = 0; i < 5; i++) {
            assertEquals(8081, pool.pick(ctx).upstream().port());
        }
        pool.markDown("127.0.0.1:8081", true);
        assertEquals(8082, pool.pick(ctx).upstream().port());
        pool.markDown("127.0.0.1:8082", true);
        assertNull(pool.pick(ctx));
    }

    @Test
    void editKeepsTheMemberAndItsCounters() {
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 8081));
        Member m = pool.member("127.0.0.1:8081").orElseThrow();
        m.incrementActive();
        Member edited = pool.weight("127.0.0.1:8081", 5);
        assertSame(m, edited);
        assertEquals(5, m.weight());
        assertEquals(1, m.active());
    }

    @Test
    void aWeightChangeRacingAnEditNeverUndoesTheEdit() throws InterruptedException {
        // weight() is a read-modify-write of the upstream; done outside the pool's lock, an edit landing
        // between the read and the write was silently reverted (about 1 round in 100 before the fix).
        String key = "127.0.0.1:1";
        for (int round = 0; round < 1000; round++) {
            UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
            CountDownLatch go = new CountDownLatch(1);
            Thread weigh = new Thread(() -> {
                awaitQuietly(go);
                pool.weight(key, 7);
            });
            Thread edit = new Thread(() -> {
                awaitQuietly(go);
                pool.update(Upstream.builder("127.0.0.1", 1).metadata("zone", "b").build());
            });
            weigh.start();
            edit.start();
            go.countDown();
            weigh.join();
            edit.join();
            // Either order keeps the edit's metadata; only its weight may be overwritten.
            assertEquals("b", pool.member(key).orElseThrow().upstream().metadata().get("zone"), "round " + round);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void drainedUpstreamGetsNoNewTraffic() {
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        pool.drain("127.0.0.1:1");
        PickContext ctx = new PickContext();
        for (int i = 0; i < 10; i++) {
            assertEquals(2, pool.pick(ctx).upstream().port());
        }
    }

    @Test
    void replaceAllKeepsIdentityOfRemainingMembers() {
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        Member two = pool.member("127.0.0.1:2").orElseThrow();
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        pool.replaceAll(List.of(Upstream.of("127.0.0.1", 2), Upstream.of("127.0.0.1", 3)));
        assertSame(two, pool.member("127.0.0.1:2").orElseThrow());
        assertTrue(one.isRemoved());
        assertEquals(2, pool.snapshot().size());
    }

    @Test
    void badInputIsRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Upstream.builder("127.0.0.1", 8081).weight(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Upstream.of("127.0.0.1", 70000));
        assertTrue(e.getMessage().contains("70000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> UpstreamPool.builder()
                .add(Upstream.of("127.0.0.1", 1)).add(Upstream.of("127.0.0.1", 1)));
        assertTrue(e.getMessage().contains("duplicate upstream 127.0.0.1:1"), e.getMessage());
        assertNull(UpstreamPool.builder().build().pick(new PickContext()));
    }
}
