package dev.lbkit.l4.internal;

/**
 * The listener of one virtual service (TCP or UDP), as its {@code VirtualServer} drives it: it owns the
 * service's connection entries on their event loops.
 */
public interface Listener extends AutoCloseable {
    /**
     * IPVS's {@code expire_nodest_conn}: expires the connection entries bound to {@code removed}, each on
     * its own event loop, unless {@code removed} is a destination again by then (added back, or its check
     * up: {@link ServiceState#isNoDestination}). Returns at once.
     */
    void expireNodest(ServiceState.Dest removed);

    /** Stops listening; blocks until done. */
    @Override
    void close();
}
