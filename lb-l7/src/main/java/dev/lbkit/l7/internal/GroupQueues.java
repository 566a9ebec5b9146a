package dev.lbkit.l7.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.l7.QueueStats;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The request queues of one balancer, one per routed {@link UpstreamGroup} whose queue is on, and the
 * index that tells a freed member's pool which queues to wake. Thread-safe: changes (routes replaced,
 * stop) are serialised; {@link #slotFreed} reads one volatile, immutable map and allocates nothing, and
 * with no queue configured it is a single emptiness check.
 */
final class GroupQueues implements Function<UpstreamGroup, GroupQueue> {
    /** Guarded by this. */
    private final Map<UpstreamGroup, GroupQueue> byGroup = new IdentityHashMap<>();
    private volatile Map<UpstreamPool, GroupQueue[]> byPool = Map.of();
    private boolean listening;
    private boolean closed;

    /** The queue of {@code group}, created on first use; null when the group has no queue. */
    @Override
    public synchronized GroupQueue apply(UpstreamGroup group) {
        if (!group.queue().enabled() || closed) {
            return null;
        }
        GroupQueue q = byGroup.get(group);
        if (q == null) {
            q = new GroupQueue(group);
            byGroup.put(group, q);
            if (listening) {
                q.listen();
            }
            index();
        }
        return q;
    }

    /**
     * After the routes changed: drops the queues of groups no route uses any more, once nobody waits in
     * them (the others go at a later change or at stop), so replacing routes leaks nothing.
     */
    synchronized void retain(List<Route> routes) {
        Set<UpstreamGroup> used = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Route r : routes) {
            used.add(r.group());
        }
        boolean changed = byGroup.values().removeIf(q -> {
            if (!used.contains(q.group) && q.size() == 0) {
                if (listening) {
                    q.unlisten();
                }
                return true;
            }
            return false;
        });
        if (changed) {
            index();
        }
    }

    private void index() {
        Map<UpstreamPool, List<GroupQueue>> m = new IdentityHashMap<>();
        for (GroupQueue q : byGroup.values()) {
            m.computeIfAbsent(q.pool(), p -> new ArrayList<>()).add(q);
        }
        Map<UpstreamPool, GroupQueue[]> out = new IdentityHashMap<>();
        m.forEach((p, l) -> out.put(p, l.toArray(new GroupQueue[0])));
        byPool = out;
    }

    /** A member's connection count went down: the queues of its pool may dispatch a waiter. Any thread. */
    void slotFreed(Member m) {
        Map<UpstreamPool, GroupQueue[]> idx = byPool;
        if (idx.isEmpty()) {
            return;
        }
        GroupQueue[] qs = idx.get(m.pool());
        if (qs != null) {
            for (GroupQueue q : qs) {
                q.wake();
            }
        }
    }

    /** Every queue's counters, by group name (groups of the same name add up). */
    synchronized Map<String, QueueStats> stats() {
        Map<String, QueueStats> out = new HashMap<>();
        for (GroupQueue q : byGroup.values()) {
            out.merge(q.group.name(), q.stats(), (a, b) -> new QueueStats(a.queued() + b.queued(),
                    a.totalQueued() + b.totalQueued(), a.rejected() + b.rejected(), a.timedOut() + b.timedOut()));
        }
        return out;
    }

    /**
     * Starts following the pools' changes (the balancer started): until then, and after {@link #close},
     * no pool holds a reference to this balancer.
     */
    synchronized void listen() {
        if (listening || closed) {
            return;
        }
        listening = true;
        for (GroupQueue q : byGroup.values()) {
            q.listen();
        }
    }

    /** Stops following the pools (the balancer stopped); stats stay readable. */
    synchronized void close() {
        if (listening) {
            for (GroupQueue q : byGroup.values()) {
                q.unlisten();
            }
        }
        listening = false;
        closed = true;
        byPool = Map.of();
    }
}
