package dev.lbkit.l7.internal;

import dev.lbkit.api.Member;
import dev.lbkit.l7.UpstreamKeepAlive;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Idle keep-alive connections of one event loop, per upstream member, most recently used first (as
 * nginx's per-worker cache). Event-loop confined: every method runs on {@link #loop}.
 */
final class UpstreamConnectionPool {
    final EventLoop loop;
    private final Map<Member, ArrayDeque<UpstreamConnection>> idle = new IdentityHashMap<>();

    UpstreamConnectionPool(EventLoop loop) {
        this.loop = loop;
    }

    /** An idle, open connection to {@code member}, or null. */
    UpstreamConnection acquire(Member member) {
        ArrayDeque<UpstreamConnection> q = idle.get(member);
        if (q == null) {
            return null;
        }
        UpstreamConnection c;
        while ((c = q.pollFirst()) != null) {
            if (c.idleTimeout != null) {
                c.idleTimeout.cancel(false);
                c.idleTimeout = null;
            }
            if (c.channel.isActive()) {
                return c;
            }
            c.channel.close();
        }
        return null;
    }

    /** Takes back a connection whose exchange ended cleanly; closes it if the pool is full. */
    void release(UpstreamConnection c, UpstreamKeepAlive keepAlive) {
        c.user = null;
        if (keepAlive.maxIdle() == 0 || c.requests >= keepAlive.maxRequests() || c.member.isRemoved()
                || !c.channel.isActive()) {
            c.channel.close();
            return;
        }
        ArrayDeque<UpstreamConnection> q = idle.computeIfAbsent(c.member, m -> new ArrayDeque<>());
        if (q.size() >= keepAlive.maxIdle()) {
            UpstreamConnection oldest = q.pollLast();
            if (oldest != null) {
                closeIdle(oldest);
            }
        }
        q.addFirst(c);
        c.idleTimeout = loop.schedule(() -> {
            c.idleTimeout = null;
            remove(c);
            c.channel.close();
        }, keepAlive.idleTimeout().toNanos(), TimeUnit.NANOSECONDS);
        // Watch for the upstream closing the idle connection (it may have been paused for back-pressure).
        if (!c.channel.config().isAutoRead()) {
            c.channel.config().setAutoRead(true);
        }
    }

    void remove(UpstreamConnection c) {
        ArrayDeque<UpstreamConnection> q = idle.get(c.member);
        if (q != null) {
            q.remove(c);
            if (q.isEmpty()) {
                idle.remove(c.member);
            }
        }
    }

    /** Closes every idle connection (shutdown). */
    void closeAll() {
        List<UpstreamConnection> all = new ArrayList<>();
        for (ArrayDeque<UpstreamConnection> q : idle.values()) {
            all.addAll(q);
        }
        idle.clear();
        for (UpstreamConnection c : all) {
            closeIdle(c);
        }
    }

    private static void closeIdle(UpstreamConnection c) {
        if (c.idleTimeout != null) {
            c.idleTimeout.cancel(false);
            c.idleTimeout = null;
        }
        c.channel.close();
    }
}
