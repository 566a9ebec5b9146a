package dev.lbkit.api;

import dev.lbkit.api.health.HealthEvent;
import dev.lbkit.api.health.HealthPolicy;
import dev.lbkit.api.health.Outcome;
import dev.lbkit.api.resolve.Resolver;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.Schedulers;
import dev.lbkit.api.internal.Checks;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A set of upstreams that changes at runtime, in two tiers (primary and backup, as nginx's
 * {@code backup}), with the {@link Scheduler} that spreads traffic over them and the
 * {@link HealthPolicy} that decides who may receive it. DNS, L4 and L7 tiers can share one pool and so
 * one health view.
 *
 * <p>A pool may follow a store ({@link #follow} a resolver, or {@link #replaceAll} from the
 * application): then the store's membership and the operator's changes ({@link #add}, {@link #remove},
 * {@link #update}, {@link #weight}, {@link #drain}) are kept apart, and the pool holds the store's
 * membership with the operator's {@linkplain UpstreamOverride overrides} applied. The store's changes and
 * resyncs therefore never undo an operator's change; {@link #clearOverride} gives a key back to the
 * store. A pool that follows no store has no overrides: its changes are its membership.
 *
 * <p>Thread-safe. Changes (add, remove, edit, drain, mark down, store updates) are serialised under one
 * lock, each publishing a new immutable {@link PoolSnapshot} with freshly built pickers; {@link #pick} is
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
    /**
     * Guarded by {@link #lock}: the membership before overrides, the store's when {@link #followsStore},
     * else the pool's own (which its changes edit).
     */
    private Map<String, Upstream> base = new LinkedHashMap<>();
    /** Guarded by {@link #lock}; empty unless {@link #followsStore}. */
    private final Map<String, UpstreamOverride> overrides = new LinkedHashMap<>();
    /** Guarded by {@link #lock}. */
    private boolean followsStore;
    /** Guarded by {@link #lock}: the copies snapshots share, made again only after a change. */
    private Map<String, Upstream> storeView = Map.of();
    private Map<String, UpstreamOverride> overridesView = Map.of();
    private boolean viewsStale;
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
                base.put(u.key(), u);
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

    /**
     * Picks {@code preferred}, the member a client's persistence names (an L7 sticky cookie), when it may
     * keep that client ({@link PickContext#keepsClient}: up, even drained to weight 0; under its connection
     * limit; not tried), its tier is the one in use (a backup only while no primary can be picked) and the
     * health policy admits it; otherwise picks as {@link #pick(PickContext)}, without {@code preferred}
     * being favoured. Lock-free and allocation-free.
     *
     * @param preferred a member of this pool, or {@code null} (then the same as {@link #pick(PickContext)})
     * @return the member, or {@code null} as {@link #pick(PickContext)}
     */
    public Member pick(PickContext context, Member preferred) {
        if (preferred != null && preferred.pool() == this) {
            long now = ticker.nanoTime();
            context.nanoTime(now);
            context.clearExcluded();
            PoolSnapshot s = snapshot;
            if (context.keepsClient(preferred) && (!preferred.upstream().isBackup() || !primaryPickable(s, context))
                    && healthPolicy.admit(preferred, s, now)) {
                return preferred;
            }
        }
        return pick(context);
    }

    /** Whether some primary is eligible for {@code context}: the backup tier is not in use. */
    private static boolean primaryPickable(PoolSnapshot s, PickContext context) {
        List<Member> primaries = s.primaries();
        for (int i = 0, n = primaries.size(); i < n; i++) {
            if (context.isEligible(primaries.get(i))) {
                return true;
            }
        }
        return false;
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
     * Adds an upstream. On a pool that follows a store, an {@link UpstreamOverride.Kind#ADDED} override:
     * it stays whatever the store lists, until {@linkplain #clearOverride cleared}.
     *
     * @throws IllegalArgumentException if an upstream with the same key is already in the pool
     */
    public Member add(Upstream upstream) {
        Objects.requireNonNull(upstream, "upstream");
        Member m;
        synchronized (lock) {
            checkOpen();
            String key = upstream.key();
            if (members.containsKey(key)) {
                throw new IllegalArgumentException("duplicate upstream " + key + " in pool " + name);
            }
            recordAddLocked(upstream);
            applyLocked(key);
            m = members.get(key);
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
        return m;
    }

    /**
     * Removes the upstream with {@code key}. New traffic stops at once; work in flight finishes. On a pool
     * that follows a store, an upstream the store lists gets a {@link UpstreamOverride.Kind#REMOVED}
     * override (it stays out while the store lists it, until {@linkplain #clearOverride cleared}); one that
     * only the operator added just goes.
     *
     * @return whether it was present
     */
    public boolean remove(String key) {
        Objects.requireNonNull(key, "key");
        synchronized (lock) {
            if (!members.containsKey(key)) {
                return false;
            }
            if (!followsStore) {
                base.remove(key);
            } else if (base.containsKey(key)) {
                putOverrideLocked(key, UpstreamOverride.removed());
            } else {
                removeOverrideLocked(key);
            }
            applyLocked(key);
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
     * Adds back a member that was removed from this pool, with {@code upstream} as its value, as IPVS
     * takes a destination back from its trash ({@code ipvsadm -d} then {@code -a}): the member keeps its
     * identity and its counts of work in flight ({@link Member#active()}, {@link Member#inactive()}), so
     * that what it took before the removal is counted on it again and still finishes on it; its overload
     * flag stays too. Its health starts afresh, as an added member's: not marked down, not checked down,
     * not ejected, full effective weight.
     *
     * @param member   a member removed from this pool
     * @param upstream its value from now on; must have the member's key
     * @throws IllegalArgumentException if {@code member} is not a removed member of this pool,
     *     {@code upstream} has another key, or an upstream with that key is in the pool
     */
    public Member restore(Member member, Upstream upstream) {
        Objects.requireNonNull(member, "member");
        Objects.requireNonNull(upstream, "upstream");
        if (member.pool() != this) {
            throw new IllegalArgumentException(member + " is not a member of pool " + name);
        }
        if (!member.upstream().key().equals(upstream.key())) {
            throw new IllegalArgumentException("cannot restore " + member.upstream().key() + " as " + upstream.key());
        }
        synchronized (lock) {
            checkOpen();
            if (!member.isRemoved()) {
                throw new IllegalArgumentException(member + " was not removed from pool " + name);
            }
            if (members.containsKey(upstream.key())) {
                throw new IllegalArgumentException("duplicate upstream " + upstream.key() + " in pool " + name);
            }
            // Recorded as an add (an ADDED override on a pool that follows a store), so that the next
            // store update or operator change keeps the member instead of dropping it.
            recordAddLocked(upstream);
            member.upstream(upstream);
            member.restored();
            members.put(upstream.key(), member);
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
        return member;
    }

    /**
     * Replaces the upstream of the same key with {@code upstream} (new weight, limit, tier, name or
     * metadata), keeping its member, counters and health. On a pool that follows a store, an
     * {@link UpstreamOverride.Kind#EDITED} override (the value of an {@code ADDED} one changes instead);
     * an update that changes nothing records none. Publishes a snapshot either way.
     *
     * @throws IllegalArgumentException if no upstream has that key
     */
    public Member update(Upstream upstream) {
        Objects.requireNonNull(upstream, "upstream");
        Member m;
        synchronized (lock) {
            String key = upstream.key();
            m = memberLocked(key);
            if (!m.upstream().sameAs(upstream)) {
                if (!followsStore) {
                    base.put(key, upstream);
                } else {
                    UpstreamOverride o = overrides.get(key);
                    putOverrideLocked(key, o != null && o.kind() == UpstreamOverride.Kind.ADDED
                            ? UpstreamOverride.added(upstream) : UpstreamOverride.edited(upstream));
                }
                applyLocked(key);
            }
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
        return m;
    }

    /**
     * Sets the weight of the upstream with {@code key}; 0 drains it (as {@link #drain}, keeping the weight
     * for {@link #undrain}). On a pool that follows a store, a {@link UpstreamOverride.Kind#WEIGHT}
     * override: the operator's weight wins over the store's until {@linkplain #clearOverride cleared} (an
     * {@code ADDED} or {@code EDITED} override's value takes the weight instead).
     *
     * @throws IllegalArgumentException if no upstream has that key, or the weight is out of range
     */
    public Member weight(String key, int weight) {
        Objects.requireNonNull(key, "key");
        Checks.inRange(weight, 0, Upstream.MAX_WEIGHT, "weight");
        Member m;
        synchronized (lock) {
            // Read and replace under the lock, so that an edit racing with this one is not undone.
            m = memberLocked(key);
            int before = m.weight();
            // A drain of the store's own weight keeps nothing: undrain clears it, and the store's weight,
            // as it is then, applies again.
            boolean storesWeight = followsStore && !overrides.containsKey(key);
            weightLocked(key, weight);
            if (weight == 0 && before != 0 && !storesWeight) {
                m.weightBeforeDrain(before);
            }
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
        return m;
    }

    private void weightLocked(String key, int weight) {
        if (!followsStore) {
            base.put(key, members.get(key).upstream().toBuilder().weight(weight).build());
        } else {
            UpstreamOverride o = overrides.get(key);
            putOverrideLocked(key, o == null ? UpstreamOverride.weight(weight) : o.withWeight(weight));
        }
        applyLocked(key);
    }

    /**
     * Gives a drained upstream ({@code key}) its weight back, as HAProxy's {@code state ready} does:
     * the {@linkplain Member#weightBeforeDrain() weight before the drain} when the pool kept one; on a pool
     * that follows a store, a drain of the store's weight is cleared, so that the store's weight (as it is
     * now) applies again, and a weight 0 that the store itself gives stays; otherwise weight 1. An
     * upstream that is not drained is left as it is. {@linkplain #markDown Admin down} is not touched.
     *
     * @throws IllegalArgumentException if no upstream has that key
     */
    public Member undrain(String key) {
        Objects.requireNonNull(key, "key");
        Member m;
        synchronized (lock) {
            m = memberLocked(key);
            if (m.weight() != 0) {
                return m;
            }
            OptionalInt saved = m.weightBeforeDrain();
            UpstreamOverride o = overrides.get(key);
            if (saved.isPresent()) {
                weightLocked(key, saved.getAsInt());
            } else if (followsStore && o == null) {
                return m;
            } else if (o != null && o.kind() == UpstreamOverride.Kind.WEIGHT) {
                removeOverrideLocked(key);
                applyLocked(key);
            } else {
                weightLocked(key, 1);
            }
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
        return m;
    }

    /**
     * Drops the operator's override of {@code key}, giving it back to the store: the store's upstream of
     * that key is in force again (an upstream the operator removed comes back if the store lists it, one
     * the operator added goes unless the store lists it, a weight or an edit gives way to the store's).
     * {@linkplain #markDown Admin down} is no override and stays.
     *
     * @return whether there was an override (never on a pool that follows no store)
     */
    public boolean clearOverride(String key) {
        Objects.requireNonNull(key, "key");
        synchronized (lock) {
            checkOpen();
            if (!overrides.containsKey(key)) {
                return false;
            }
            removeOverrideLocked(key);
            Member m = members.get(key);
            if (m != null) {
                // The weight a drain kept was the operator's, which is gone with the override.
                m.weightBeforeDrain(-1);
            }
            applyLocked(key);
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
        return true;
    }

    private Member memberLocked(String key) {
        Member m = members.get(key);
        if (m == null) {
            throw new IllegalArgumentException("no upstream " + key + " in pool " + name);
        }
        return m;
    }

    /**
     * Drains the upstream with {@code key}: weight 0, no new traffic, work in flight continues. As
     * {@link #weight weight(key, 0)}, so on a pool that follows a store the drain stays in force when the
     * store lists the upstream again, until the operator sets another weight, {@linkplain #undrain
     * undrains} or clears the override. The weight it had (unless it was the store's) is kept on the member
     * ({@link Member#weightBeforeDrain()}) for {@link #undrain}, across the store's changes and resyncs,
     * for as long as the member stays drained; draining a drained upstream keeps the first weight.
     */
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
     * The store's membership is now exactly {@code upstreams}, and the pool holds it with the operator's
     * {@linkplain UpstreamOverride overrides} applied: new upstreams are added, changed ones edited, absent
     * ones removed, and members that stay keep their identity. {@code WEIGHT} and {@code EDITED} overrides
     * of upstreams the store no longer lists end with them; {@code ADDED} and {@code REMOVED} ones stay.
     * One snapshot is published for the whole change, none when nothing changed. From the first call on,
     * the pool follows a store.
     *
     * @throws IllegalArgumentException if two of {@code upstreams} share a key
     */
    public void replaceAll(Collection<Upstream> upstreams) {
        Objects.requireNonNull(upstreams, "upstreams");
        Map<String, Upstream> store = new LinkedHashMap<>();
        for (Upstream u : upstreams) {
            if (store.put(Objects.requireNonNull(u, "upstream").key(), u) != null) {
                throw new IllegalArgumentException("duplicate upstream " + u.key());
            }
        }
        synchronized (lock) {
            checkOpen();
            boolean changed = !followsStore || !sameMembership(base, store);
            followsStore = true;
            base = store;
            if (overrides.entrySet().removeIf(e -> e.getValue().endsWithTheStores() && !store.containsKey(e.getKey()))) {
                changed = true;
            }
            // Present members first (removed or edited), so that new ones join in the store's order.
            for (String key : new ArrayList<>(members.keySet())) {
                changed |= applyLocked(key);
            }
            for (String key : store.keySet()) {
                changed |= applyLocked(key);
            }
            for (String key : overrides.keySet()) {
                changed |= applyLocked(key);
            }
            viewsStale = true;
            if (!changed) {
                return;
            }
            publishLocked();
        }
        healthPolicy.onMembershipChange(snapshot);
    }

    /** Whether {@code a} and {@code b} list the same upstreams, in the same order. */
    private static boolean sameMembership(Map<String, Upstream> a, Map<String, Upstream> b) {
        if (a.size() != b.size()) {
            return false;
        }
        Iterator<Upstream> other = b.values().iterator();
        for (Upstream u : a.values()) {
            if (!u.sameAs(other.next())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Follows {@code resolver}: every successful result is the store's new membership (as
     * {@link #replaceAll}), including an empty one (the store says there is no upstream, as an xDS
     * control plane or an etcd prefix can). A failure keeps the last known membership, and so does a
     * {@linkplain dev.lbkit.api.resolve.ResolutionResult#isStale() stale} result, which carries it: a
     * store that goes away never empties a pool. From this call on, the pool follows a store: the
     * operator's changes are kept as overrides, and until the store's first result the pool's membership
     * stands for the store's.
     *
     * @return closing it stops following
     */
    public AutoCloseable follow(Resolver resolver) {
        Objects.requireNonNull(resolver, "resolver");
        synchronized (lock) {
            if (!followsStore) {
                followsStore = true;
                viewsStale = true;
                publishLocked();
            }
        }
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

    /**
     * Publishes a new snapshot with the same members and pickers built anew by the scheduler, for when
     * what the scheduler builds changed while the membership did not: a member's effective weight (slow
     * start), or a scheduler that delegates to another one that was replaced (lb-l4's {@code ipvsadm -E}).
     * Listeners see the snapshot; the health policy is not told, as no member came or went. Picks in
     * flight finish on the old pickers. Thread-safe; works on a closed pool too.
     */
    public void rebuildPickers() {
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
        Member m = new Member(this, nextId++, u);
        members.put(u.key(), m);
        return m;
    }

    /** The membership side of {@link #add} and {@link #restore}: the operator's add of {@code upstream}. */
    private void recordAddLocked(Upstream upstream) {
        if (followsStore) {
            putOverrideLocked(upstream.key(), UpstreamOverride.added(upstream));
        } else {
            base.put(upstream.key(), upstream);
        }
    }

    private void putOverrideLocked(String key, UpstreamOverride o) {
        overrides.put(key, o);
        viewsStale = true;
    }

    private void removeOverrideLocked(String key) {
        if (overrides.remove(key) != null) {
            viewsStale = true;
        }
    }

    /**
     * Makes the member of {@code key} hold what the base membership and the overrides say: added, edited,
     * removed or left alone.
     *
     * @return whether the membership changed
     */
    private boolean applyLocked(String key) {
        Upstream listed = base.get(key);
        UpstreamOverride o = overrides.get(key);
        Upstream want = o == null ? listed : o.apply(listed);
        Member m = members.get(key);
        if (want == null) {
            if (m == null) {
                return false;
            }
            members.remove(key);
            m.markRemoved();
            return true;
        }
        if (m == null) {
            addLocked(want);
            return true;
        }
        if (m.upstream().sameAs(want)) {
            return false;
        }
        m.upstream(want);
        m.resetEffectiveWeight();
        if (want.weight() != 0) {
            // Not drained any more: there is nothing to give back.
            m.weightBeforeDrain(-1);
        }
        return true;
    }

    private void publishLocked() {
        List<Member> primaries = new ArrayList<>();
        List<Member> backups = new ArrayList<>();
        for (Member m : members.values()) {
            (m.upstream().isBackup() ? backups : primaries).add(m);
        }
        if (viewsStale) {
            storeView = followsStore ? Collections.unmodifiableMap(new LinkedHashMap<>(base)) : Map.of();
            overridesView = Collections.unmodifiableMap(new LinkedHashMap<>(overrides));
            viewsStale = false;
        }
        PoolSnapshot old = snapshot;
        PoolSnapshot s = new PoolSnapshot(old == null ? 1 : old.version() + 1, primaries, backups,
                scheduler.newPicker(Collections.unmodifiableList(primaries)),
                scheduler.newPicker(Collections.unmodifiableList(backups)), followsStore, storeView, overridesView);
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
            this.name = Checks.notBlank(name, "name");
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
