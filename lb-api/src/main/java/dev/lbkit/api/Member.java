package dev.lbkit.api;

import dev.lbkit.api.health.HealthEvent;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An upstream's place in one {@link UpstreamPool}: its current {@link Upstream} value plus the live
 * state that schedulers read on every pick (load and availability) and that tiers and health policies
 * write.
 *
 * <p>The live state is here rather than on {@link Upstream} so that upstreams stay immutable values
 * (shareable, comparable, safe as map keys) while the few fields a pick reads sit on one object that
 * survives edits: changing an upstream's weight replaces {@link #upstream()} but keeps its member, its
 * counters and its health, so connections and requests in flight are not disturbed.
 *
 * <p>Thread-safe and lock-free: every read is a volatile read, every counter an atomic. Members are
 * created only by their pool; identity is object identity.
 */
public final class Member {
    /** {@link #ejectedUntil()} when the member is not ejected. */
    public static final long NOT_EJECTED = Long.MIN_VALUE;

    private final UpstreamPool pool;
    private final int id;
    private volatile Upstream upstream;
    private volatile int effectiveWeight;
    private volatile boolean adminDown;
    private volatile boolean checkDown;
    private volatile boolean overloaded;
    private volatile boolean removed;
    /** Written under the pool's lock: the weight before the pool drained the member, or -1. */
    private volatile int weightBeforeDrain = -1;
    private final AtomicLong ejectedUntil = new AtomicLong(NOT_EJECTED);
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger inactive = new AtomicInteger();

    Member(UpstreamPool pool, int id, Upstream upstream) {
        this.pool = pool;
        this.id = id;
        this.upstream = upstream;
        this.effectiveWeight = upstream.weight();
    }

    /** The current value of this member's upstream (it changes when the pool edits it). */
    public Upstream upstream() {
        return upstream;
    }

    void upstream(Upstream upstream) {
        this.upstream = upstream;
    }

    /** A small integer, unique within the pool for the member's lifetime; handy as an array index. */
    public int id() {
        return id;
    }

    /** The configured weight of the current upstream. */
    public int weight() {
        return upstream.weight();
    }

    /**
     * The weight schedulers use: the configured weight, lowered while the upstream ramps up after a
     * recovery (slow start). Never above {@link #weight()}.
     */
    public int effectiveWeight() {
        int w = upstream.weight();
        int e = effectiveWeight;
        return e < w ? e : w;
    }

    /**
     * Sets the effective weight (for slow-start policies) and has the pool rebuild its pickers so that
     * weighted schedulers see it. Clamped to 0..{@link #weight()}.
     */
    public void effectiveWeight(int weight) {
        int w = Math.max(0, Math.min(weight, upstream.weight()));
        if (w != effectiveWeight) {
            effectiveWeight = w;
            pool.rebuildPickers();
        }
    }

    void resetEffectiveWeight() {
        effectiveWeight = upstream.weight();
    }

    /**
     * Whether the member may be given new traffic at {@code nanoTime}: not marked down by an operator
     * or an active check, not ejected by a passive policy, not drained (weight 0), not overloaded, not
     * at its connection limit, and still in the pool. Lock-free and allocation-free.
     */
    public boolean isAvailable(long nanoTime) {
        return !overloaded && upstream.weight() != 0 && isUp(nanoTime) && !isAtConnectionLimit();
    }

    /**
     * Whether the member is up at {@code nanoTime}: not marked down by an operator or an active check,
     * not ejected by a passive policy, and still in the pool. Unlike {@link #isAvailable}, it says
     * nothing of the weight (0 quiesces a member that is up), the overload flag or the connection limit:
     * it is what IPVS calls an available destination, which a persistence template keeps its clients on
     * ({@link dev.lbkit.api.scheduler.PersistentScheduler}). Lock-free and allocation-free.
     */
    public boolean isUp(long nanoTime) {
        if (adminDown || checkDown || removed) {
            return false;
        }
        long until = ejectedUntil.get();
        return until == NOT_EJECTED || nanoTime - until >= 0;
    }

    /** Whether the upstream has a connection limit ({@link Upstream#maxConnections()}) and that many are active. */
    public boolean isAtConnectionLimit() {
        int max = upstream.maxConnections();
        return max > 0 && active.get() >= max;
    }

    /** Whether an operator marked the member down ({@link UpstreamPool#markDown}). */
    public boolean isAdminDown() {
        return adminDown;
    }

    void adminDown(boolean down, long nanoTime) {
        if (adminDown != down) {
            adminDown = down;
            fire(!down, "admin", down ? "marked down" : "marked up", nanoTime);
        }
    }

    /**
     * The weight the member's upstream had when its pool drained it ({@link UpstreamPool#drain}, or
     * {@link UpstreamPool#weight} 0), which {@link UpstreamPool#undrain} gives back. The pool keeps it for
     * as long as the member stays drained, whoever drained it and whoever asks. Empty when the member is
     * not drained, when its drain replaced the weight of a store the pool follows (undrain gives the
     * store's back) and when its weight is 0 for another reason (the store's, an update's, an add's).
     */
    public OptionalInt weightBeforeDrain() {
        int w = weightBeforeDrain;
        return w < 0 ? OptionalInt.empty() : OptionalInt.of(w);
    }

    /** Sets (or, with -1, forgets) the weight before a drain; under the pool's lock. */
    void weightBeforeDrain(int weight) {
        this.weightBeforeDrain = weight;
    }

    /** Whether the member has left its pool. Tiers holding a member from an old pick may still finish with it. */
    public boolean isRemoved() {
        return removed;
    }

    void markRemoved() {
        removed = true;
    }

    /**
     * Back in the pool after a removal ({@link UpstreamPool#restore}): up again, as an added member is
     * (not marked down, not checked down, not ejected, full effective weight); the counters stay.
     */
    void restored() {
        adminDown = false;
        checkDown = false;
        ejectedUntil.set(NOT_EJECTED);
        resetEffectiveWeight();
        weightBeforeDrain = -1;
        removed = false;
    }

    /** Whether an active health check holds the member down. */
    public boolean isCheckDown() {
        return checkDown;
    }

    /**
     * Sets the active-check verdict. Tells the pool's listeners when it changes.
     *
     * @param reason short text for the event, such as {@code "connect refused"}
     */
    public void checkDown(boolean down, String reason) {
        if (checkDown != down) {
            checkDown = down;
            fire(!down, "active", reason, pool.ticker().nanoTime());
        }
    }

    /** Whether an overload guard (IPVS upper/lower thresholds) currently holds the member back. */
    public boolean isOverloaded() {
        return overloaded;
    }

    /** Sets or clears the overload flag (IPVS {@code IP_VS_DEST_F_OVERLOAD}); no event is sent. */
    public void overloaded(boolean overloaded) {
        this.overloaded = overloaded;
    }

    /**
     * The {@link Ticker} reading until which a passive policy ejected the member, or
     * {@link #NOT_EJECTED}.
     */
    public long ejectedUntil() {
        return ejectedUntil.get();
    }

    /**
     * Atomically sets the ejection deadline if it is still {@code expected}, so that racing threads agree
     * on one outcome (for example which request becomes the probe after a timeout). Sends no event.
     */
    public boolean compareAndSetEjectedUntil(long expected, long until) {
        return ejectedUntil.compareAndSet(expected, until);
    }

    /** Ejects the member until the given ticker reading and tells listeners. */
    public void eject(long untilNanoTime, String source, String reason) {
        ejectedUntil.set(untilNanoTime);
        fire(false, source, reason, pool.ticker().nanoTime());
    }

    /** Ends an ejection and tells listeners if there was one. */
    public void clearEjection(String source, String reason) {
        if (ejectedUntil.getAndSet(NOT_EJECTED) != NOT_EJECTED) {
            fire(true, source, reason, pool.ticker().nanoTime());
        }
    }

    /** Connections or requests in flight on this member (IPVS ActiveConn; nginx's per-peer conns). */
    public int active() {
        return active.get();
    }

    /** IPVS InActConn: connections closed recently or not yet established, as the L4 tier counts them. */
    public int inactive() {
        return inactive.get();
    }

    /** Counts one more connection or request in flight. Call {@link #decrementActive()} exactly once after. */
    public int incrementActive() {
        return active.incrementAndGet();
    }

    public int decrementActive() {
        return active.decrementAndGet();
    }

    public int incrementInactive() {
        return inactive.incrementAndGet();
    }

    public int decrementInactive() {
        return inactive.decrementAndGet();
    }

    /** The pool this member belongs to. */
    public UpstreamPool pool() {
        return pool;
    }

    private void fire(boolean available, String source, String reason, long nanoTime) {
        pool.fireHealth(new HealthEvent(upstream, available, source, reason, nanoTime));
    }

    @Override
    public String toString() {
        return "Member{" + upstream.key() + ", weight=" + upstream.weight() + ", active=" + active.get()
                + ", inactive=" + inactive.get() + "}";
    }
}
