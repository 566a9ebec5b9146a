package dev.lbkit.micrometer.internal;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Binds a balancer whose counters come as immutable snapshots: {@link #refresh} takes one snapshot,
 * keeps it for the meters to read, registers meters for keys seen for the first time (a new route,
 * upstream, name or rcode), removes those of keys gone from the snapshot (a removed real server) and
 * feeds timers. Meters read the last snapshot, so a scrape sees values at most one refresh interval old
 * and every meter of one scrape agrees with the others.
 *
 * <p>Thread-safe: refreshes are serialised; meters read a volatile field.
 *
 * @param <S> the snapshot type
 */
public abstract class SnapshotBinder<S> implements AutoCloseable {
    protected final MeterRegistry registry;
    private final Map<String, Meter> meters = new HashMap<>();
    private Set<String> declared = new HashSet<>();
    private volatile S latest;
    private boolean closed;

    protected SnapshotBinder(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Takes a snapshot of the balancer's counters. */
    protected abstract S take();

    /**
     * Declares every meter {@code snapshot} needs (through {@link #counter}, {@link #gauge} and
     * {@link #keep}; declaring an existing one is cheap) and feeds timers. Meters not declared are removed.
     * Called under this binder's lock.
     */
    protected abstract void update(S snapshot, S previous);

    /** The last snapshot, {@code null} before the first refresh. */
    protected final S latest() {
        return latest;
    }

    /** Takes a snapshot and brings the meters up to date. */
    public final synchronized void refresh() {
        if (closed) {
            return;
        }
        S s = take();
        S prev = latest;
        latest = s;
        declared = new HashSet<>();
        update(s, prev);
        meters.entrySet().removeIf(e -> {
            if (declared.contains(e.getKey())) {
                return false;
            }
            registry.remove(e.getValue());
            return true;
        });
    }

    /** A counter that reads {@code f} of the latest snapshot, registered once per name and tags. */
    protected final void counter(String name, Tags tags, String description, String unit, ToDoubleFunction<S> f) {
        String id = name + tags;
        declared.add(id);
        if (!meters.containsKey(id)) {
            meters.put(id, FunctionCounter.builder(name, this, b -> {
                S s = b.latest;
                return s == null ? 0 : f.applyAsDouble(s);
            }).tags(tags).description(description).baseUnit(unit).register(registry));
        }
    }

    /** A gauge that reads {@code f} of the latest snapshot, registered once per name and tags. */
    protected final void gauge(String name, Tags tags, String description, String unit, ToDoubleFunction<S> f) {
        String id = name + tags;
        declared.add(id);
        if (!meters.containsKey(id)) {
            meters.put(id, Gauge.builder(name, this, b -> {
                S s = b.latest;
                return s == null ? Double.NaN : f.applyAsDouble(s);
            }).tags(tags).description(description).baseUnit(unit).strongReference(true).register(registry));
        }
    }

    /**
     * Declares a meter registered elsewhere (a timer): the one kept under {@code id}, created by
     * {@code create} the first time.
     */
    @SuppressWarnings("unchecked")
    protected final <M extends Meter> M keep(String id, java.util.function.Supplier<M> create) {
        declared.add(id);
        return (M) meters.computeIfAbsent(id, k -> create.get());
    }

    /** Removes every meter this binder registered. */
    @Override
    public synchronized void close() {
        closed = true;
        List<Meter> l = new ArrayList<>(meters.values());
        meters.clear();
        l.forEach(registry::remove);
    }
}
