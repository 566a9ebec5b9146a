package dev.lbkit.l4.internal;

/**
 * The listener of one virtual service (TCP or UDP), as its {@code VirtualServer} drives it: it owns the
 * service's connection entries on their event loops.
 */
public interface Listener extends AutoCloseable {
    /**
     * IPVS's {@code expire_nodest_conn}: applies {@link ServiceState#nodestAction} for {@code d} to the
     * connection entries bound to it, each on its own event loop when the task gets there: expires them,
     * drops what their clients send, or (a destination again: added back, or its check up) forwards it
     * again. Returns at once.
     */
    void applyNodest(ServiceState.Dest d);

    /** Stops listening; blocks until done. */
    @Override
    void close();
}
