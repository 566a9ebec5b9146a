package dev.lbkit.l7.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.HealthEvent;
import dev.lbkit.l7.QueueStats;
import dev.lbkit.l7.RequestQueue;
import dev.lbkit.l7.UpstreamGroup;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The requests of one upstream group waiting for a member below its connection limit, oldest first.
 * Members' connection counts are shared by every event loop, so one queue serves them all: any thread
 * may free a slot and {@link #wake()} the oldest waiter, whose turn then runs on its own event loop.
 *
 * <p>Thread-safe and lock-free. {@link #admitted} counts the waiters in the deque plus those whose turn
 * is on its way to their loop, so the bound holds while a turn is in transit; each admitted waiter is
 * let go exactly once, by whoever takes it out of the deque for good ({@link #remove}) or by its own
 * turn ({@link #handedOver}).
 */
final class GroupQueue implements PoolListener {
    final UpstreamGroup group;
    final RequestQueue config;
    private final UpstreamPool pool;
    private final ConcurrentLinkedDeque<Waiter> waiters = new ConcurrentLinkedDeque<>();
    private final AtomicInteger admitted = new AtomicInteger();
    private final LongAdder total = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder timedOut = new LongAdder();

    GroupQueue(UpstreamGroup group) {
        this.group = group;
        this.config = group.queue();
        this.pool = group.pool();
    }

    /** One waiting request; running it is the request's turn, on its connection's event loop. */
    static final class Waiter implements Runnable {
        final GroupQueue queue;
        final FrontendHandler frontend;
        /** Turns this waiter may give itself back after losing a free slot to someone else (no spinning). */
        int rewakes = 2;

        Waiter(GroupQueue queue, FrontendHandler frontend) {
            this.queue = queue;
            this.frontend = frontend;
        }

        @Override
        public void run() {
            frontend.queueTurn(this);
        }
    }

    /** Admits {@code w} at the end of the queue, or returns false when the queue is full. */
    boolean offer(Waiter w) {
        int max = config.maxQueued();
        for (;;) {
            int n = admitted.get();
            if (n >= max) {
                rejected.increment();
                return false;
            }
            if (admitted.compareAndSet(n, n + 1)) {
                break;
            }
        }
        total.increment();
        waiters.offerLast(w);
        return true;
    }

    /** Puts back, at the head, a waiter whose turn found no free member. */
    void requeue(Waiter w) {
        waiters.offerFirst(w);
    }

    /**
     * Takes {@code w} out of the queue (it timed out or its client left). False when its turn is already
     * on the way; that turn then lets it go.
     */
    boolean remove(Waiter w) {
        if (waiters.remove(w)) {
            admitted.decrementAndGet();
            return true;
        }
        return false;
    }

    /** A waiter's turn has run: it leaves the count. */
    void handedOver() {
        admitted.decrementAndGet();
    }

    /** Requests waiting now. */
    int size() {
        return admitted.get();
    }

    /** If someone waits and a member is free, sends the oldest waiter its turn. Any thread; no allocation. */
    void wake() {
        if (admitted.get() == 0 || !slotFree()) {
            return;
        }
        Waiter w = waiters.pollFirst();
        if (w == null) {
            return;
        }
        try {
            w.frontend.executor().execute(w);
        } catch (RejectedExecutionException e) {
            // The balancer is shutting down and the loop is gone; so is the waiting connection.
            admitted.decrementAndGet();
        }
    }

    /** Whether some member could take a request now. */
    boolean slotFree() {
        long now = pool.ticker().nanoTime();
        List<Member> all = pool.snapshot().members();
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).isAvailable(now)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether some member is held back by nothing but its connection limit: then waiting can help,
     * otherwise there is no live upstream and the request gets 502 as without a queue.
     */
    boolean limitedOnly() {
        long now = pool.ticker().nanoTime();
        List<Member> all = pool.snapshot().members();
        for (int i = 0; i < all.size(); i++) {
            Member m = all.get(i);
            Upstream u = m.upstream();
            int max = u.maxConnections();
            long until = m.ejectedUntil();
            if (max > 0 && m.active() >= max && u.weight() > 0 && !m.isAdminDown() && !m.isCheckDown()
                    && !m.isOverloaded() && !m.isRemoved() && (until == Member.NOT_EJECTED || now - until >= 0)) {
                return true;
            }
        }
        return false;
    }

    QueueStats stats() {
        return new QueueStats(admitted.get(), total.sum(), rejected.sum(), timedOut.sum());
    }

    /** Registers for pool changes that can free a slot (upstreams added, re-weighted, marked up). */
    void listen() {
        pool.addListener(this);
    }

    void unlisten() {
        pool.removeListener(this);
    }

    UpstreamPool pool() {
        return pool;
    }

    @Override
    public void onSnapshot(PoolSnapshot snapshot) {
        wake();
    }

    @Override
    public void onHealthChange(HealthEvent event) {
        if (event.available()) {
            wake();
        }
    }
}
