package dev.lbkit.api.resolve;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A resolver the test drives: it tells its listeners what {@link #tell} is given, and nothing before. */
public final class ManualResolver implements Resolver {
    private final List<ResolverListener> listeners = new CopyOnWriteArrayList<>();

    /** Tells every listener {@code result}, on this thread. */
    public void tell(ResolutionResult result) {
        for (ResolverListener l : listeners) {
            l.onResult(result);
        }
    }

    @Override
    public AutoCloseable subscribe(ResolverListener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
