package dev.lbkit.l4.internal;

import dev.lbkit.api.scheduler.Lease;
import dev.lbkit.l4.IpvsConnections;
import dev.lbkit.l4.NodestConn;
import dev.lbkit.l4.Protocol;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The TCP connection table of one virtual service, for {@code ipvsadm -lnc}: per event loop, the live
 * connections (an intrusive list through {@link TcpConnection}, so registering allocates nothing) and the
 * closed ones still counted for the tcpfin timeout (a queue in expiry order, since every one waits the
 * same timeout). Each loop's part is touched only on that loop; a snapshot runs one task per loop.
 */
public final class ConnectionTable {
    /** How long a snapshot waits for one event loop before it leaves that loop's entries out. */
    private static final long LOOP_WAIT_SECONDS = 5;

    private final Map<EventLoop, Loop> loops = new ConcurrentHashMap<>();

    /** The part of the table that belongs to {@code loop}; create on first use. */
    Loop loop(EventLoop loop) {
        Loop l = loops.get(loop);
        return l != null ? l : loops.computeIfAbsent(loop, Loop::new);
    }

    /** One event loop's connections; confined to that loop. */
    static final class Loop {
        final EventLoop eventLoop;
        TcpConnection head;
        int live;
        final ArrayDeque<Closed> closed = new ArrayDeque<>();
        private final Runnable expire = this::expire;
        /** The one timer of this loop's closed entries, set for the oldest one's expiry; null when none. */
        private ScheduledFuture<?> expiry;

        Loop(EventLoop eventLoop) {
            this.eventLoop = eventLoop;
        }

        /**
         * Keeps {@code c} counted as inactive (and listed) until the tcpfin timeout has passed since it
         * closed. One timer serves the whole queue, which is in closing order: a closed connection costs
         * a queue entry, not a scheduled task.
         */
        void addClosed(Closed c) {
            closed.addLast(c);
            if (expiry == null) {
                expiry = eventLoop.schedule(expire, c.state.timeouts().tcpFin().toNanos(), TimeUnit.NANOSECONDS);
            }
        }

        /** Unbinds the entries whose tcpfin timeout has passed, then sets the timer for the next one. */
        private void expire() {
            expiry = null;
            long now = System.nanoTime();
            Closed c;
            while ((c = closed.peekFirst()) != null) {
                long left = c.closedAt + c.state.timeouts().tcpFin().toNanos() - now;
                if (left > 0) {
                    expiry = eventLoop.schedule(expire, left, TimeUnit.NANOSECONDS);
                    return;
                }
                closed.pollFirst();
                c.state.unbindInactive(c.dest, c.lease);
            }
        }

        /**
         * IPVS's {@code expire_nodest_conn}: resets the live connections bound to {@code d} and forgets its
         * closed ones, each entry leaving the table (and unbinding from {@code d}) at once. Runs on the loop.
         */
        void expireNodest(ServiceState.Dest d) {
            List<TcpConnection> bound = new ArrayList<>();
            for (TcpConnection c = head; c != null; c = c.tableNext) {
                if (c.boundTo(d)) {
                    bound.add(c);
                }
            }
            // Collected first: a reset closes the connection, which unlinks it from the list.
            bound.forEach(TcpConnection::expireNodest);
            for (Iterator<Closed> it = closed.iterator(); it.hasNext();) {
                Closed c = it.next();
                if (c.dest == d) {
                    it.remove();
                    c.state.unbindInactive(c.dest, c.lease);
                }
            }
        }

        /**
         * IPVS's {@code expire_nodest_conn = 0} ({@code drop}) or its end: the live connections bound to
         * {@code d} stop or resume taking what their clients send. Runs on the loop.
         */
        void dropNodest(ServiceState.Dest d, boolean drop) {
            for (TcpConnection c = head; c != null; c = c.tableNext) {
                if (c.boundTo(d)) {
                    c.dropFromClient(drop);
                }
            }
        }

        void add(TcpConnection c) {
            c.tableNext = head;
            if (head != null) {
                head.tablePrev = c;
            }
            head = c;
            live++;
        }

        void remove(TcpConnection c) {
            if (c.tablePrev != null) {
                c.tablePrev.tableNext = c.tableNext;
            } else if (head == c) {
                head = c.tableNext;
            } else {
                return;
            }
            if (c.tableNext != null) {
                c.tableNext.tablePrev = c.tablePrev;
            }
            c.tablePrev = null;
            c.tableNext = null;
            live--;
        }

        /** Reads this loop's entries; runs on the loop. */
        void collect(long now, Duration tcpFin, int limit, List<IpvsConnections.Entry> out) {
            for (TcpConnection c = head; c != null && out.size() < limit; c = c.tableNext) {
                IpvsConnections.Entry e = c.entry(now);
                if (e != null) {
                    out.add(e);
                }
            }
            for (Closed c : closed) {
                if (out.size() >= limit) {
                    break;
                }
                out.add(c.entry(now, tcpFin));
            }
        }

        int size() {
            return live + closed.size();
        }
    }

    /**
     * A closed connection kept counted as inactive for the tcpfin timeout (IPVS keeps the entry). At
     * thousands of new connections per second these pile up for two minutes, so an entry is one small
     * object: an IPv4 source is packed into a long rather than kept as the four objects of an
     * {@link InetSocketAddress}, and the virtual address is the service's own when it is the same.
     */
    static final class Closed {
        private static final long NO_IPV4 = -1;
        private final ServiceState state;
        private final ServiceState.Dest dest;
        /** The lease the connection held on its persistence template, released when this entry goes; or null. */
        private final Lease lease;
        /** IPv4 address (high 32 bits of 48) and port of the source, or {@link #NO_IPV4}. */
        private final long source4;
        /** The source when it is not an IPv4 address, else null. */
        private final InetSocketAddress source;
        /** The virtual address when it differs from the service's own (a wildcard listener), else null. */
        private final InetSocketAddress virtual;
        private final long closedAt;

        Closed(ServiceState state, ServiceState.Dest dest, Lease lease, InetSocketAddress source,
                InetSocketAddress virtual, long closedAt) {
            this.state = state;
            this.dest = dest;
            this.lease = lease;
            if (source.getAddress() instanceof Inet4Address) {
                byte[] a = source.getAddress().getAddress();
                long ip = (a[0] & 0xffL) << 24 | (a[1] & 0xffL) << 16 | (a[2] & 0xffL) << 8 | (a[3] & 0xffL);
                this.source4 = ip << 16 | source.getPort();
                this.source = null;
            } else {
                this.source4 = NO_IPV4;
                this.source = source;
            }
            this.virtual = virtual.equals(state.localAddress()) ? null : virtual;
            this.closedAt = closedAt;
        }

        private InetSocketAddress source() {
            if (source != null) {
                return source;
            }
            long ip = source4 >>> 16;
            byte[] a = {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip};
            try {
                return new InetSocketAddress(InetAddress.getByAddress(a), (int) (source4 & 0xffff));
            } catch (UnknownHostException e) {
                throw new AssertionError("four bytes are an IPv4 address", e);
            }
        }

        IpvsConnections.Entry entry(long now, Duration tcpFin) {
            return new IpvsConnections.Entry(Protocol.TCP, IpvsConnections.State.TIME_WAIT,
                    remaining(tcpFin.toNanos(), now - closedAt), source(),
                    virtual != null ? virtual : state.localAddress(), dest.member().upstream().address());
        }
    }

    /** Time left of {@code timeoutNanos} after {@code elapsedNanos}, never negative. */
    static Duration remaining(long timeoutNanos, long elapsedNanos) {
        return Duration.ofNanos(Math.max(0, timeoutNanos - elapsedNanos));
    }

    /**
     * {@link ServiceState#nodestAction} for {@code d}, as it is when each loop's task runs, on every loop:
     * {@link Loop#expireNodest} or {@link Loop#dropNodest}.
     */
    void applyNodest(ServiceState state, ServiceState.Dest d) {
        for (Loop l : loops.values()) {
            later(l.eventLoop, () -> {
                NodestConn action = state.nodestAction(d);
                if (action == NodestConn.EXPIRE) {
                    l.expireNodest(d);
                } else {
                    l.dropNodest(d, action == NodestConn.DROP);
                }
            });
        }
    }

    /** Runs {@code task} on {@code loop} later; not at all when the loop is shutting down (it closes everything). */
    static void later(EventLoop loop, Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // Shutting down: every connection is being closed anyway.
        }
    }

    /** One loop's entries and how many it holds. */
    private record Part(List<IpvsConnections.Entry> entries, int size) {}

    /**
     * Reads every loop's entries, at most {@code limit} in all, adding them to {@code out}; returns how
     * many entries the table holds. Blocks until each loop ran its task (a loop that does not answer
     * within a few seconds, e.g. one shutting down, is left out).
     */
    int snapshot(Duration tcpFin, int limit, List<IpvsConnections.Entry> out) {
        int total = 0;
        for (Loop l : loops.values()) {
            int room = limit - out.size();
            Part part = onLoop(l.eventLoop, () -> {
                List<IpvsConnections.Entry> p = new ArrayList<>();
                l.collect(System.nanoTime(), tcpFin, room, p);
                return new Part(p, l.size());
            });
            if (part != null) {
                out.addAll(part.entries());
                total += part.size();
            }
        }
        return total;
    }

    /**
     * Runs {@code read} on {@code loop} (at once when called there) and returns its result; {@code null}
     * when the loop rejects it (shutting down) or does not answer within a few seconds.
     */
    static <T> T onLoop(EventLoop loop, Callable<T> read) {
        try {
            return loop.inEventLoop() ? read.call() : loop.submit(read).get(LOOP_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            return null;
        }
    }
}
