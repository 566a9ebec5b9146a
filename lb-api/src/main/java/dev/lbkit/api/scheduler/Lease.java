package dev.lbkit.api.scheduler;

/**
 * A hold, taken for one connection, on the scheduler state that placed it: the persistence template of
 * a {@link PersistentScheduler} that sent the connection to its member. As IPVS counts the connections a
 * template controls ({@code n_control}) and does not let it expire while any of them is in its
 * connection table, a held template does not expire; its timeout counts again from the release of its
 * last lease (or from its last use, whichever is later).
 *
 * <p>A tier gets a lease from {@link PickContext#lease()} after a pick and releases it exactly once,
 * with {@link #release(long)}, when the connection leaves its connection table. Tiers that never ask
 * for one are unaffected: a template then lives {@link PersistentScheduler#timeout()} after its last
 * use. Thread-safe, lock-free and allocation-free. Only lb-api's schedulers make leases.
 */
public abstract class Lease {
    Lease() {}

    /** Takes one hold; {@link PickContext#lease()} calls it. */
    abstract void acquire();

    /**
     * Gives back one hold taken by {@link PickContext#lease()}. Call exactly once per lease taken.
     *
     * @param nanoTime the pool's {@link dev.lbkit.api.Ticker} reading now
     */
    public abstract void release(long nanoTime);
}
