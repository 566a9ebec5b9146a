package dev.lbkit.api.resolve;

import dev.lbkit.api.Upstream;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A resolver that always gives the same upstreams: the fixed list of a configuration file. It never
 * changes, so each listener is told once, at once, on the thread that subscribes (there is no lookup to
 * wait for).
 *
 * <p>Thread-safe and immutable (apart from being closed).
 */
public final class StaticResolver implements Resolver {
    private final ResolutionResult result;
    private volatile boolean closed;

    private StaticResolver(List<Upstream> upstreams) {
        Set<String> keys = new HashSet<>();
        for (Upstream u : upstreams) {
            if (!keys.add(Objects.requireNonNull(u, "upstream").key())) {
                throw new IllegalArgumentException("duplicate upstream " + u.key());
            }
        }
        this.result = ResolutionResult.of(upstreams);
    }

    /**
     * A resolver of {@code upstreams}, in that order.
     *
     * @throws IllegalArgumentException if two share a key
     */
    public static StaticResolver of(Upstream... upstreams) {
        return of(List.of(Objects.requireNonNull(upstreams, "upstreams")));
    }

    /** As {@link #of(Upstream...)}. */
    public static StaticResolver of(List<Upstream> upstreams) {
        return new StaticResolver(Objects.requireNonNull(upstreams, "upstreams"));
    }

    /** The one result this resolver gives. */
    public ResolutionResult result() {
        return result;
    }

    /** Tells {@code listener} the list at once, on this thread. */
    @Override
    public AutoCloseable subscribe(ResolverListener listener) {
        Objects.requireNonNull(listener, "listener");
        if (closed) {
            throw new IllegalStateException("resolver is closed");
        }
        listener.onResult(result);
        // Nothing will ever be told again, so there is nothing to unsubscribe from.
        return () -> { };
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "StaticResolver" + result.upstreams();
    }
}
