package dev.lbkit.l7.internal;

import dev.lbkit.api.Member;
import dev.lbkit.l7.UpstreamKeepAlive;
import dev.lbkit.transport.internal.Transport;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Idle keep-alive connections of one event loop, per upstream member, most recently used first (as
 * nginx's per-worker cache). Event-loop confined: every method runs on {@link #loop}.
 *
 * <p>The idle limit ({@link UpstreamKeepAlive#maxIdle()}) holds between batches of events rather than at
 * every release: the oldest connections over the limit are closed once the event loop has handled the
 * batch in which they were released. A request read in the same batch so takes a connection another
 * exchange just released instead of opening a new one (and the extra one is closed a moment later).
 * Under load with more requests in flight than the limit, closing at once made lbkit open a new
 * upstream connection for two requests in three; deferring it, for about one in twenty.
 */
final class UpstreamConnectionPool {
    final EventLoop loop;
    private final Map<Member, IdleList> idle = new IdentityHashMap<>();
    private final Runnable trim = this::trim;
    private boolean trimScheduled;

    /**
     * Idle connections to one member, most recently used first, with the group's idle limit and timeout.
     * The oldest is last, so one timer per list, set for the last one's expiry, closes them all in turn.
     */
    private final class IdleList extends ArrayDeque<UpstreamConnection> implements Runnable {
        int maxIdle;
        long idleTimeoutNanos;
        ScheduledFuture<?> expiry;

        IdleList(int maxIdle) {
            super(Math.min(maxIdle, 64) + 1);
            this.maxIdle = maxIdle;
        }

        /** Closes the connections idle for the timeout, and sets the timer for the next one. */
        @Override
        public void run() {
            expiry = null;
            long now = System.nanoTime();
            UpstreamConnection oldest;
            while ((oldest = peekLast()) != null && now - oldest.idleSince >= idleTimeoutNanos) {
                pollLast();
                oldest.channel.close();
            }
            if (oldest != null) {
                expiry = loop.schedule(this, oldest.idleSince + idleTimeoutNanos - now, TimeUnit.NANOSECONDS);
            }
        }
    }

    UpstreamConnectionPool(EventLoop loop) {
        this.loop = loop;
    }

    /** An idle, open connection to {@code member}, or null. */
    UpstreamConnection acquire(Member member) {
        IdleList q = idle.get(member);
        if (q == null) {
            return null;
        }
        UpstreamConnection c;
        while ((c = q.pollFirst()) != null) {
            if (c.channel.isActive()) {
                return c;
            }
            c.channel.close();
        }
        return null;
    }

    /**
     * Takes back a connection whose exchange ended cleanly; closes it if the pool is full. {@code now} is a
     * {@link System#nanoTime()} reading of the current event.
     */
    void release(UpstreamConnection c, UpstreamKeepAlive keepAlive, long now) {
        if (!idles(c, keepAlive, now)) {
            return;
        }
        IdleList q = idle.get(c.member);
        if (q == null) {
            q = new IdleList(keepAlive.maxIdle());
            idle.put(c.member, q);
        }
        q.maxIdle = keepAlive.maxIdle();
        q.idleTimeoutNanos = keepAlive.idleTimeout().toNanos();
        q.addFirst(c);
        if (q.size() > q.maxIdle && !trimScheduled) {
            trimScheduled = true;
            loop.execute(trim);
        }
        if (q.expiry == null) {
            q.expiry = loop.schedule(q, q.idleTimeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Makes a connection whose exchange ended cleanly idle, watched for the upstream closing it, if
     * {@code keepAlive} lets it be reused; closes it otherwise. Says whether it is idle now. {@code now} is
     * a {@link System#nanoTime()} reading of the current event.
     */
    static boolean idles(UpstreamConnection c, UpstreamKeepAlive keepAlive, long now) {
        c.user = null;
        if (keepAlive.maxIdle() == 0 || c.requests >= keepAlive.maxRequests() || c.member.isRemoved()
                || !c.channel.isActive()) {
            c.channel.close();
            return false;
        }
        c.idleSince = now;
        // Watch for the upstream closing the idle connection (it may have been paused for back-pressure).
        Transport.resumeReads(c.channel);
        return true;
    }

    /** Closes the oldest idle connections over each member's limit. */
    private void trim() {
        trimScheduled = false;
        List<UpstreamConnection> over = null;
        for (IdleList q : idle.values()) {
            while (q.size() > q.maxIdle) {
                if (over == null) {
                    over = new ArrayList<>();
                }
                over.add(q.pollLast());
            }
        }
        if (over != null) {
            for (UpstreamConnection c : over) {
                closeIdle(c);
            }
        }
    }

    void remove(UpstreamConnection c) {
        IdleList q = idle.get(c.member);
        if (q != null) {
            q.remove(c);
            if (q.isEmpty()) {
                idle.remove(c.member);
            }
        }
    }

    private static void closeIdle(UpstreamConnection c) {
        c.channel.close();
    }
}
