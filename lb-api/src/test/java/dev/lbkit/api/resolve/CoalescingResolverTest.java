package dev.lbkit.api.resolve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CoalescingResolverTest {

    /** A resolver driven by hand, standing for a store. */
    static final class Manual extends CoalescingResolver {
        volatile boolean started;
        volatile boolean stopped;

        Manual(Duration delay) {
            super("manual", delay);
        }

        @Override
        protected void start() {
            started = true;
        }

        @Override
        protected void stop() {
            stopped = true;
        }
    }

    private static Upstream up(int port) {
        return Upstream.of("127.0.0.1", port);
    }

    @Test
    void nothingIsToldBeforeTheFirstCompleteRead() throws Exception {
        try (Manual r = new Manual(Duration.ofMillis(10))) {
            LinkedBlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
            r.subscribe(told::add);
            r.put("a", up(1));
            assertEquals(null, told.poll(100, TimeUnit.MILLISECONDS));
            assertFalse(r.whenReady().isDone());
            assertTrue(r.started);
            r.resync(Map.of("a", up(1), "b", up(2)));
            r.whenReady().get(1, TimeUnit.SECONDS);
            assertEquals(List.of(up(1), up(2)), told.poll(1, TimeUnit.SECONDS).upstreams());
        }
    }

    @Test
    void aBurstOfChangesIsToldOnceAfterTheDelay() throws Exception {
        try (Manual r = new Manual(Duration.ofMillis(200))) {
            LinkedBlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
            r.subscribe(told::add);
            r.resync(Map.of());
            assertEquals(List.of(), told.poll(1, TimeUnit.SECONDS).upstreams());
            long start = System.nanoTime();
            for (int i = 1; i <= 100; i++) {
                r.put("id" + (1000 + i), up(i));
            }
            r.remove("id1050");
            ResolutionResult burst = told.poll(2, TimeUnit.SECONDS);
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(99, burst.upstreams().size());
            assertTrue(tookMillis >= 190, "told after " + tookMillis + " ms, before the 200 ms delay");
            assertEquals(null, told.poll(300, TimeUnit.MILLISECONDS), "one result for the whole burst");
            assertEquals(2, r.publishedResults());
        }
    }

    @Test
    void resultsAreOrderedByIdAndTheFirstIdWinsAnAddress() throws Exception {
        try (Manual r = new Manual(Duration.ZERO)) {
            LinkedBlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
            r.subscribe(told::add);
            r.resync(Map.of("c", up(3), "a", up(1), "b", Upstream.builder("127.0.0.1", 3).weight(9).build()));
            List<Upstream> got = told.poll(1, TimeUnit.SECONDS).upstreams();
            assertEquals(List.of(up(1), up(3)), got);
            assertEquals(9, got.get(1).weight());
        }
    }

    @Test
    void losingTheStoreKeepsTheMembershipAsStaleUntilResync() throws Exception {
        try (Manual r = new Manual(Duration.ZERO); UpstreamPool pool = UpstreamPool.builder().build()) {
            LinkedBlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
            pool.follow(r);
            r.subscribe(told::add);
            r.resync(Map.of("a", up(1), "b", up(2)));
            told.poll(1, TimeUnit.SECONDS);
            r.stale(new IOException("connection refused"));
            r.stale(new IOException("again"));
            ResolutionResult stale = told.poll(1, TimeUnit.SECONDS);
            assertTrue(stale.isStale());
            assertTrue(r.isStale());
            assertEquals(List.of(up(1), up(2)), stale.upstreams());
            assertEquals(null, told.poll(100, TimeUnit.MILLISECONDS), "a second loss tells nothing new");
            assertEquals(2, pool.snapshot().size());
            r.resync(Map.of("b", up(2)));
            ResolutionResult fresh = told.poll(1, TimeUnit.SECONDS);
            assertFalse(fresh.isStale());
            assertFalse(r.isStale());
            assertEquals(List.of(up(2)), fresh.upstreams());
            waitFor(() -> pool.snapshot().size() == 1);
        }
    }

    @Test
    void aLateSubscriberIsToldTheStaleMembership() throws Exception {
        try (Manual r = new Manual(Duration.ZERO); UpstreamPool pool = UpstreamPool.builder().build()) {
            LinkedBlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
            r.subscribe(told::add);
            r.resync(Map.of("a", up(1)));
            r.stale(new IOException("gone"));
            pool.follow(r);
            waitFor(() -> pool.snapshot().size() == 1);
        }
    }

    @Test
    void badEntriesAreCountedAndLoggedOncePerValue() throws Exception {
        try (Manual r = new Manual(Duration.ZERO)) {
            LinkedBlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
            r.subscribe(told::add);
            r.resync(Map.of("a", up(1), "b", up(2)));
            told.poll(1, TimeUnit.SECONDS);
            r.reject("b", "garbage", "not JSON");
            r.reject("b", "garbage", "not JSON");
            assertEquals(List.of(up(1)), told.poll(1, TimeUnit.SECONDS).upstreams(), "the bad id stops standing for b");
            assertEquals(1, r.rejectedEntries());
            r.reject("b", "other garbage", "not JSON");
            assertEquals(2, r.rejectedEntries());
            r.put("b", up(2));
            assertEquals(List.of(up(1), up(2)), told.poll(1, TimeUnit.SECONDS).upstreams());
        }
    }

    @Test
    void aBadEntryDeletedWhileTheStoreWasAwayIsForgottenByTheNextRead() throws Exception {
        try (Manual r = new Manual(Duration.ZERO)) {
            r.subscribe(x -> { });
            r.reject("b", "garbage", "not JSON");
            r.resync(Map.of("a", up(1)));
            assertEquals(1, r.rejectedEntries(), "the bad entry of the first read");
            r.reject("c", "more garbage", "not JSON");
            assertEquals(2, r.rejectedEntries());
            r.stale(new IOException("gone"));
            // b and c are deleted while the store is away: the read after it has neither.
            r.resync(Map.of("a", up(1)));
            r.reject("b", "garbage", "not JSON");
            r.reject("c", "more garbage", "not JSON");
            assertEquals(4, r.rejectedEntries(), "written again, they are new bad entries, as if the deletions had been seen");
            r.stale(new IOException("gone again"));
            // Still there at the next read: the same bad entries, not counted again.
            r.reject("b", "garbage", "not JSON");
            r.reject("c", "more garbage", "not JSON");
            r.resync(Map.of("a", up(1)));
            assertEquals(4, r.rejectedEntries());
        }
    }

    @Test
    void aFailedFirstReadIsToldAsAFailureAndCloseStops() throws Exception {
        Manual r = new Manual(Duration.ZERO);
        LinkedBlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
        r.subscribe(told::add);
        r.stale(new IOException("refused"));
        assertTrue(told.poll(1, TimeUnit.SECONDS).error().isPresent());
        assertFalse(r.isStale(), "nothing known, so nothing stale");
        r.close();
        assertTrue(r.stopped);
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(5);
        }
    }
}
