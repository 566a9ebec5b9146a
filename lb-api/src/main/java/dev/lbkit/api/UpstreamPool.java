package dev.lbkit.api;

import dev.lbkit.api.health.HealthEvent;
import dev.lbkit.api.health.HealthPolicy;
import dev.lbkit.api.health.Outcome;
import dev.lbkit.api.resolve.Resolver;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.Schedulers;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A set of upstreams that changes at runtime, in two tiers (primary and backup, as nginx's
 * {@code backup}), with the {@link Scheduler} that spreads traffic over them and the
 * {@link HealthPolicy} that decides who may receive it. DNS, L4 and L7 tiers can share one pool and so
 * one health view.
 *
 * <p>Thread-safe. Changes (add, remove, edit, drain, mark down) are serialised under one lock, each
 * publishing a new immutable {@link PoolSnapshot} with freshly built pickers; {@link #pick} is
 * lock-free and allocation-free: one volatile read and the picker. Members keep their identity, counters
 * and health across edits, so work in flight is never disturbed; a removed member stays usable by
 * whoever holds it until they finish.
 */
public final class UpstreamPool implements AutoCloseable {
    private static final Logger logger = LoggerFactory.getLogger(UpstreamPool.class);

    private final Object lock = new Object();
    private final String name;
    private final Scheduler scheduler;
    private final HealthPolicy healthPolicy;
    private final Ticker ticker;
    private final List<PoolListener> listeners = new CopyOnWriteArrayList<>();
    /** Guarded by {@link #lock}; insertion order is pool order. */
    private final Map<String, Member> members = new LinkedHashMap<>();
    private int nextId;
    private volatile PoolSnapshot snapshot;
    private volatile boolean closed;

    private UpstreamPool(Builder b) {
        this.name = b.name;
        this.scheduler = b.scheduler != null ? b.scheduler : Schedulers.get("rr");
        this.healthPolicy = b.healthPolicy != null ? b.healthPolicy : HealthPolicy.none();
        this.ticker = b.ticker;
        synchronized (lock) {
            for (Upstream u : b.upstreams.values()) {
                addLocked(u);
            }
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A pool of the given upstreams with round robin and no health policy. */
    public static UpstreamPool of(Upstream... upstreams) {
        Builder b = builder();
        for (Upstream u : upstreams) {
            b.add(u);
        }
        return b.build();
    }

    /** The pool's name, for logs and stats. */
    public String name() {
        return name;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public HealthPolicy healthPolicy() {
        return healthPolicy;
    }

    public Ticker ticker() {
        return ticker;
    }

    /** The current snapshot: one volatile read. */
    public PoolSnapshot snapshot() {
        return snapshot;
    }

    /**
     * Picks a member for a new connection or request: from the primary tier, or from the backups when no
     * primary can be picked. Sets the context's time, skips members the context excludes, and asks the
     * health policy to {@linkplain HealthPolicy#admit admit} the choice.
     *
     * @return the member, or {@code null} when none is available in either tier (nginx's "no live
     *     upstreams"); {@code null} rather than {@code Optional} because this is the hot path
     */
    public Member pick(PickContext context) {
        long now = ticker.nanoTime();
        context.nanoTime(now);
        context.clearExcluded();
        PoolSnapshot s = snapshot;
        Member m = pickFrom(s.primaryPicker(), s, context, now);
        if (m == null) {
            m = pickFrom(s.backupPicker(), s, context, now);
            if (m == null) {
                healthPolicy.onExhausted(s, now);
            }
        }
        return m;
    }

    private Member pickFrom(Picker picker, PoolSnapshot s, PickContext context, long now) {
        for (;;) {
            Member m = picker.pick(context);
            if (m == null || healthPolicy.admit(m, s, now)) {
                return m;
            }
            // Each refusal excludes one more member, so this ends.
            context.exclude(m);
        }
    }

    /** Reports the outcome of one attempt on {@code member} to the health policy. */
    public void report(Member member, Outcome outcome) {
        Objects.requireNonNull(member, "member");
        Objects.requireNonNull(outcome, "outcome");
        healthPolicy.onOutcome(member, outcome, snapshot, ticker.nanoTime());
    }

    /** The member for {@code key} ({@code host:port}), if present. */
    public Optional<Member> member(String key) {
        Objects.requireNonNull(key, "key");
        for (Member m : snapshot.members()) {
            if (m.upstream().key().equals(key)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** The member for {@code upstream}'s key, if present. */
    public Optional<Member> member(Upstream upstream) {
        return member(Objects.requireNonNull(upstream, "upstream").key());
    }

    /**
     * Adds an upstream.
     *
     * @throws IllegalArgumentException if an upstream with the same key is already in the pool
     */
    public Member add(Upstream upstream) {
        Objects.requireNonNull(upstream, "upstream");
        Member m;
        synchronized (lock) {
            checkOpen();
            m = addLocked(upstream);
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
        return m;
    }

    /**
     * Removes the upstream with {@code key}. New traffic stops at once; work in flight finishes.
     *
     * @return whether it was present
     */
    public boolean remove(String key) {
        Objects.requireNonNull(key, "key");
        synchronized (lock) {
            Member m = members.remove(key);
            if (m == null) {
                return false;
            }
            m.markRemoved();
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
        return true;
    }

    /** Removes {@code upstream} (by key). */
    public boolean remove(Upstream upstream) {
        return remove(Objects.requireNonNull(upstream, "upstream").key());
    }

    /**
     * Replaces the upstream of the same key with {@code upstream} (new weight, limit, tier, name or
     * metadata), keeping its member, counters and health.
     *
     * @throws IllegalArgumentException if no upstream has that key
     */
    public Member update(Upstream upstream) {
        Objects.requireNonNull(upstream, "upstream");
        Member m;
        synchronized (lock) {
            m = memberLocked(upstream.key());
            replaceLocked(m, upstream);
        }
        healthPolicy.onMembershipChange(snapshot);
        return m;
    }

    /**
     * Sets the weight of the upstream with {@code key}; 0 drains it.
     *
     * @throws IllegalArgumentException if no upstream has that key, or the weight is out of range
     */
    public Member weight(String key, int weight) {
        Objects.requireNonNull(key, "key");
        Member m;
        synchronized (lock) {
            // Read and replace under the lock, so that an edit racing with this one is not undone.
            m = memberLocked(key);
            replaceLocked(m, m.upstream().toBuilder().weight(weight).build());
        }
        healthPolicy.onMembershipChange(snapshot);
        return m;
    }

    private Member memberLocked(String key) {
        Member m = members.get(key);
        if (m == null) {
            throw new IllegalArgumentException("no upstream " + key + " in pool " + name);
        }
        return m;
    }

    private void replaceLocked(Member m, Upstream upstream) {
        m.upstream(upstream);
        m.resetEffectiveWeight();
        publishLocked();
    }

    /** Drains the upstream with {@code key}: weight 0, no new traffic, work in flight continues. */
    public Member drain(String key) {
        return weight(key, 0);
    }

    /** Marks the upstream with {@code key} down (or up again): no new traffic while down. */
    public Member markDown(String key, boolean down) {
        Member m = require(key);
        synchronized (lock) {
            m.adminDown(down, ticker.nanoTime());
            publishLocked();
        }
        return m;
    }

    /**
     * Makes the pool hold exactly {@code upstreams}: adds the new ones, edits changed ones, removes the
     * absent ones; members that stay keep their identity. One snapshot is published for the whole change.
     *
     * @throws IllegalArgumentException if two of {@code upstreams} share a key
     */
    public void replaceAll(Collection<Upstream> upstreams) {
        Objects.requireNonNull(upstreams, "upstreams");
        Set<String> keys = new HashSet<>();
        for (Upstream u : upstreams) {
            if (!keys.add(Objects.requireNonNull(u, "upstream").key())) {
                throw new IllegalArgumentException("duplicate upstream " + u.key());
            }
        }
        synchronized (lock) {
            checkOpen();
            boolean changed = members.entrySet().removeIf(e -> {
                if (!keys.contains(e.getKey())) {
                    e.getValue().markRemoved();
                    return true;
                }
                return false;
            });
            for (Upstream u : upstreams) {
                Member m = members.get(u.key());
                if (m == null) {
                    addLocked(u);
                    changed = true;
                } else if (!m.upstream().sameAs(u)) {
                    m.upstream(u);
                    m.resetEffectiveWeight();
                    changed = true;
                }
            }
            if (!changed) {
                return;
            }
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
    }

    /**
     * Follows {@code resolver}: every successful result replaces the pool's membership (as
     * {@link #replaceAll}), including an empty one (the store says there is no upstream, as an xDS
     * control plane or an etcd prefix can). A failure keeps the last known membership, and so does a
     * {@linkplain dev.lbkit.api.resolve.ResolutionResult#isStale() stale} result, which carries it: a
     * store that goes away never empties a pool.
     *
     * @return closing it stops following
     */
    public AutoCloseable follow(Resolver resolver) {
        Objects.requireNonNull(resolver, "resolver");
        return resolver.subscribe(result -> {
            if (result.error().isPresent()) {
                logger.warn("pool {}: resolver {} failed, keeping {} upstreams: {}", name, resolver,
                        snapshot.size(), result.error().get().toString());
            } else {
                replaceAll(result.upstreams());
            }
        });
    }

    public void addListener(PoolListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(PoolListener listener) {
        listeners.remove(listener);
    }

    /** Closes the health policy (stops probes). The pool can still be read and picked from. */
    @Override
    public void close() {
        closed = true;
        healthPolicy.close();
    }

    /** Republishes the snapshot so that pickers are rebuilt (after an effective-weight change). */
    void rebuild() {
        synchronized (lock) {
            publishLocked();
        }
    }

    void fireHealth(HealthEvent event) {
        for (PoolListener l : listeners) {
            try {
                l.onHealthChange(event);
            } catch (RuntimeException e) {
                logger.warn("pool {}: listener {} failed", name, l, e);
            }
        }
    }

    private Member require(String key) {
        return member(key).orElseThrow(() -> new IllegalArgumentException("no upstream " + key + " in pool " + name));
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("pool " + name + " is closed");
        }
    }

    private Member addLocked(Upstream u) {
        if (members.containsKey(u.key())) {
            throw new IllegalArgumentException("duplicate upstream " + u.key() + " in pool " + name);
        }
        Member m = new Member(this, nextId++, u);
        members.put(u.key(), m);
        return m;
    }

    private void publishLocked() {
        List<Member> primaries = new ArrayList<>();
        List<Member> backups = new ArrayList<>();
        for (Member m : members.values()) {
            (m.upstream().isBackup() ? backups : primaries).add(m);
        }
        PoolSnapshot old = snapshot;
        PoolSnapshot s = new PoolSnapshot(old == null ? 1 : old.version() + 1, primaries, backups,
                scheduler.newPicker(java.util.Collections.unmodifiableList(primaries)),
                scheduler.newPicker(java.util.Collections.unmodifiableList(backups)));
        snapshot = s;
        for (PoolListener l : listeners) {
            try {
                l.onSnapshot(s);
            } catch (RuntimeException e) {
                logger.warn("pool {}: listener {} failed", name, l, e);
            }
        }
    }

    /**
     * Builds an {@link UpstreamPool}. Not thread-safe. Defaults: name {@code "pool"}, scheduler
     * {@code rr}, {@link HealthPolicy#none()}, {@link Ticker#system()}, no upstreams.
     */
    public static final class Builder {
        private String name = "pool";
        private Scheduler scheduler;
        private HealthPolicy healthPolicy;
        private Ticker ticker = Ticker.system();
        private final Map<String, Upstream> upstreams = new LinkedHashMap<>();

        private Builder() {}

        public Builder name(String name) {
            this.name = dev.lbkit.api.internal.Checks.notBlank(name, "name");
            return this;
        }

        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** The scheduler by registry name, such as {@code "wrr"} or {@code "mh:table-size=251"}. */
        public Builder scheduler(String spec) {
            return scheduler(Schedulers.parse(spec));
        }

        public Builder healthPolicy(HealthPolicy healthPolicy) {
            this.healthPolicy = Objects.requireNonNull(healthPolicy, "healthPolicy");
            return this;
        }

        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Adds an upstream.
         *
         * @throws IllegalArgumentException if one with the same key was added already
         */
        public Builder add(Upstream upstream) {
            Objects.requireNonNull(upstream, "upstream");
            if (upstreams.putIfAbsent(upstream.key(), upstream) != null) {
                throw new IllegalArgumentException("duplicate upstream " + upstream.key());
            }
            return this;
        }

        /** Adds {@code host:port} with weight 1. */
        public Builder add(String host, int port) {
            return add(Upstream.of(host, port));
        }

        public Builder addAll(Collection<Upstream> upstreams) {
            Objects.requireNonNull(upstreams, "upstreams").forEach(this::add);
            return this;
        }

        public UpstreamPool build() {
            return new UpstreamPool(this);
        }
    }
}
