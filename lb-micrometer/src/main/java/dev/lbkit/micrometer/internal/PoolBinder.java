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
 * Thread-safe; gauges read the members' volatile fields at scrape time. Gauges hold the pool and its
 * members weakly, as Micrometer's gauges do: only this binder (and so {@link dev.lbkit.micrometer.LbkitMetrics})
 * holds the pool, never the registry.
 */
public final class PoolBinder implements PoolListener, AutoCloseable {
    private final MeterRegistry registry;
    private final UpstreamPool pool;
    private final ActiveHealthPolicy checks;
    private final Tags poolTags;
    private final List<Meter> poolMeters = new ArrayList<>();
    /** Guarded by this. */
    private final Map<Member, MemberMeters> memberMeters = new IdentityHashMap<>();
    private boolean closed;

    /**
     * What one member's meters are. The binder holds {@code checked} (a gauge only holds its object
     * weakly), so it lives as long as the binder, which the pool holds as a listener.
     */
    private record MemberMeters(List<Meter> meters, Counter ejections, CheckedMember checked) {}

    /** A member and the active checks that judge it: the check gauges' object. */
    private record CheckedMember(Member member, ActiveHealthPolicy checks) {}

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
            e.getValue().meters().forEach(registry::remove);
            return true;
        });
    }

    @Override
    public synchronized void onHealthChange(HealthEvent event) {
        if (closed || event.available() || event.source().equals("admin") || event.source().equals("active")) {
            return;
        }
        for (Map.Entry<Member, MemberMeters> e : memberMeters.entrySet()) {
            if (e.getKey().upstream().key().equals(event.upstream().key())) {
                e.getValue().ejections().increment();
            }
        }
    }

    /**
     * Registers {@code m}'s meters. Their functions capture nothing (no binder, pool or policy): a gauge
     * holds its object weakly so that it can be collected, and a capturing function would keep the pool
     * reachable from the registry after the pool and the metrics are dropped.
     */
    private MemberMeters register(Member m) {
        Tags t = poolTags.and("upstream", m.upstream().key());
        List<Meter> l = new ArrayList<>();
        l.add(Gauge.builder("lbkit.upstream.weight", m, Member::weight).tags(t)
                .description("Configured weight; 0 while drained").register(registry));
        l.add(Gauge.builder("lbkit.upstream.effective.weight", m, Member::effectiveWeight).tags(t)
                .description("Weight the scheduler uses now (below the weight during slow start)").register(registry));
        l.add(Gauge.builder("lbkit.upstream.available", m, x -> x.isAvailable(x.pool().ticker().nanoTime()) ? 1 : 0).tags(t)
                .description("1 when the upstream may receive new traffic, else 0 (down, ejected, drained, in maintenance or full)")
                .register(registry));
        l.add(Gauge.builder("lbkit.upstream.connections.active", m, Member::active).tags(t)
                .description("Connections or requests in flight (IPVS ActiveConn)").register(registry));
        l.add(Gauge.builder("lbkit.upstream.connections.inactive", m, Member::inactive).tags(t)
                .description("IPVS InActConn: connections closing or recently closed").register(registry));
        Counter ej = Counter.builder("lbkit.upstream.ejections").tags(t)
                .description("Times a passive policy or outlier detection ejected the upstream").register(registry);
        l.add(ej);
        CheckedMember checked = null;
        if (checks != null) {
            checked = new CheckedMember(m, checks);
            l.add(Gauge.builder("lbkit.upstream.check.latency", checked, PoolBinder::checkLatencySeconds).tags(t)
                    .baseUnit("seconds").description("Latency of the last active health check, NaN before the first")
                    .register(registry));
            l.add(Gauge.builder("lbkit.upstream.check.up", checked, PoolBinder::checkUp).tags(t)
                    .description("Active check verdict: 1 up, 0 down, NaN before the first check").register(registry));
        }
        return new MemberMeters(List.copyOf(l), ej, checked);
    }

    private static double checkLatencySeconds(CheckedMember c) {
        Optional<CheckStatus> s = c.checks().status(c.member());
        return s.isPresent() ? s.get().lastResult().latency().toNanos() / 1e9 : Double.NaN;
    }

    private static double checkUp(CheckedMember c) {
        return c.checks().status(c.member()).map(s -> s.up() ? 1.0 : 0.0).orElse(Double.NaN);
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
        memberMeters.values().forEach(mm -> mm.meters().forEach(registry::remove));
        memberMeters.clear();
    }
}
