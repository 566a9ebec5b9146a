package dev.lbkit.api.resolve;

/**
 * Turns a name into upstreams and tells listeners when the set changes. A pool follows one with
 * {@link dev.lbkit.api.UpstreamPool#follow(Resolver)}.
 *
 * <p>Implementations are thread-safe. Listeners are called on the resolver's own thread, never on a
 * tier's I/O thread, and only when the result differs from the last one told (a first result is always
 * told). Lookups never block the caller of {@link #subscribe}.
 */
public interface Resolver extends AutoCloseable {

    /**
     * Adds a listener; starts resolving if this is the first. The listener is told the latest result at
     * once if there is one, then every change.
     *
     * @return closing it removes the listener
     */
    AutoCloseable subscribe(ResolverListener listener);

    /** Stops resolving and drops every listener. Idempotent. */
    @Override
    void close();
}
