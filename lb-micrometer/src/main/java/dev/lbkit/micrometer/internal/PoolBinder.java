package dev.lbkit.micrometer.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.CheckStatus;
import dev.lbkit.api.health.HealthEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Binds one {@link UpstreamPool}: pool size and availability, and per upstream its weight, effective
 * weight, availability, connections, ejections and last active-check latency. Follows membership: meters
 * of a new upstream appear with the snapshot that adds it and are removed with the one that removes it.
 * Thread-safe; gauges read the members' volatile fields at scrape time.
 */
public final class PoolBinder implements PoolListener, AutoCloseable {
    private final MeterRegistry registry;
    private final UpstreamPool pool;
    private final ActiveHealthPolicy checks;
    private final Tags poolTags;
    private final List<Meter> poolMeters = new ArrayList<>();
    /** Guarded by this. */
    private final Map<Member, List<Meter>> memberMeters = new IdentityHashMap<>();
    /** Guarded by this. */
    private final Map<Member, Counter> ejections = new IdentityHashMap<>();
    private boolean closed;

    public PoolBinder(MeterRegistry registry, UpstreamPool pool, ActiveHealthPolicy checks) {
        this.registry = registry;
        this.pool = pool;
        this.checks = checks != null ? checks
                : pool.healthPolicy() instanceof ActiveHealthPolicy a ? a : null;
        this.poolTags = Tags.of("pool", pool.name());
        poolMeters.add(Gauge.builder("lbkit.pool.upstreams", pool, p -> p.snapshot().size()).tags(poolTags)
                .description("Upstreams in the pool, both tiers").register(registry));
        poolMeters.add(Gauge.builder("lbkit.pool.upstreams.available", pool,
                        p -> p.snapshot().available(p.ticker().nanoTime()).size()).tags(poolTags)
                .description("Upstreams that may receive new traffic now").register(registry));
        pool.addListener(this);
        onSnapshot(pool.snapshot());
    }

    @Override
    public synchronized void onSnapshot(PoolSnapshot snapshot) {
        if (closed) {
            return;
        }
        Map<Member, Boolean> present = new IdentityHashMap<>();
        for (Member m : snapshot.members()) {
            present.put(m, Boolean.TRUE);
            if (!memberMeters.containsKey(m)) {
                memberMeters.put(m, register(m));
            }
        }
        memberMeters.entrySet().removeIf(e -> {
            if (present.containsKey(e.getKey())) {
                return false;
            }
            e.getValue().forEach(registry::remove);
            ejections.remove(e.getKey());
            return true;
        });
    }

    @Override
    public synchronized void onHealthChange(HealthEvent event) {
        if (closed || event.available() || event.source().equals("admin") || event.source().equals("active")) {
            return;
        }
        for (Map.Entry<Member, Counter> e : ejections.entrySet()) {
            if (e.getKey().upstream().key().equals(event.upstream().key())) {
                e.getValue().increment();
            }
        }
    }

    private List<Meter> register(Member m) {
        Tags t = poolTags.and("upstream", m.upstream().key());
        List<Meter> l = new ArrayList<>();
        l.add(Gauge.builder("lbkit.upstream.weight", m, Member::weight).tags(t)
                .description("Configured weight; 0 while drained").register(registry));
        l.add(Gauge.builder("lbkit.upstream.effective.weight", m, Member::effectiveWeight).tags(t)
                .description("Weight the scheduler uses now (below the weight during slow start)").register(registry));
        l.add(Gauge.builder("lbkit.upstream.available", m, x -> x.isAvailable(pool.ticker().nanoTime()) ? 1 : 0).tags(t)
                .description("1 when the upstream may receive new traffic, else 0 (down, ejected, drained, in maintenance or full)")
                .register(registry));
        l.add(Gauge.builder("lbkit.upstream.connections.active", m, Member::active).tags(t)
                .description("Connections or requests in flight (IPVS ActiveConn)").register(registry));
        l.add(Gauge.builder("lbkit.upstream.connections.inactive", m, Member::inactive).tags(t)
                .description("IPVS InActConn: connections closing or recently closed").register(registry));
        Counter ej = Counter.builder("lbkit.upstream.ejections").tags(t)
                .description("Times a passive policy or outlier detection ejected the upstream").register(registry);
        ejections.put(m, ej);
        l.add(ej);
        if (checks != null) {
            l.add(Gauge.builder("lbkit.upstream.check.latency", m, x -> checkLatencySeconds(x)).tags(t)
                    .baseUnit("seconds").description("Latency of the last active health check, NaN before the first")
                    .register(registry));
            l.add(Gauge.builder("lbkit.upstream.check.up", m, x -> checks.status(x).map(s -> s.up() ? 1.0 : 0.0)
                            .orElse(Double.NaN)).tags(t)
                    .description("Active check verdict: 1 up, 0 down, NaN before the first check").register(registry));
        }
        return l;
    }

    private double checkLatencySeconds(Member m) {
        Optional<CheckStatus> s = checks.status(m);
        return s.isPresent() ? s.get().lastResult().latency().toNanos() / 1e9 : Double.NaN;
    }

    /** Stops following the pool and removes every meter this binder registered. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        pool.removeListener(this);
        poolMeters.forEach(registry::remove);
        memberMeters.values().forEach(l -> l.forEach(registry::remove));
        memberMeters.clear();
        ejections.clear();
    }
}
