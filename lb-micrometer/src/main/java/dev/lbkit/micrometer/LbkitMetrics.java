package dev.lbkit.micrometer;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.micrometer.internal.PoolBinder;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds lbkit pools and balancers to a Micrometer {@link MeterRegistry}. Meter names follow Micrometer's
 * conventions under {@code lbkit.} (a Prometheus registry renders {@code lbkit.upstream.weight} as
 * {@code lbkit_upstream_weight}); tags are bounded: pool, upstream ({@code host:port}), route, service,
 * status class, never a URL or a client address. lb-micrometer's README lists every meter.
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * LbkitMetrics metrics = LbkitMetrics.builder(registry).pool(pool).build();
 * ...
 * metrics.close();   // removes the meters
 * }</pre>
 *
 * <p>Thread-safe. Pool meters are gauges read at scrape time and follow the pool's membership.
 */
public final class LbkitMetrics implements AutoCloseable {
    private static final Logger logger = LoggerFactory.getLogger(LbkitMetrics.class);
    private final List<AutoCloseable> binders;

    private LbkitMetrics(Builder b) {
        List<AutoCloseable> l = new ArrayList<>();
        try {
            for (Map.Entry<UpstreamPool, ActiveHealthPolicy> e : b.pools.entrySet()) {
                l.add(new PoolBinder(b.registry, e.getKey(), e.getValue()));
            }
        } catch (RuntimeException e) {
            closeAll(l);
            throw e;
        }
        this.binders = l;
    }

    /** A builder binding to {@code registry}. */
    public static Builder builder(MeterRegistry registry) {
        return new Builder(registry);
    }

    /** Stops following pools and balancers and removes every meter this instance registered. Idempotent. */
    @Override
    public void close() {
        closeAll(binders);
    }

    private static void closeAll(List<AutoCloseable> l) {
        for (AutoCloseable c : l) {
            try {
                c.close();
            } catch (Exception e) {
                logger.warn("closing metrics binder {} failed", c, e);
            }
        }
    }

    /** Builds and binds an {@link LbkitMetrics}. Not thread-safe. Defaults: nothing bound. */
    public static final class Builder {
        private final MeterRegistry registry;
        private final Map<UpstreamPool, ActiveHealthPolicy> pools = new LinkedHashMap<>();

        private Builder(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
        }

        /** Binds a pool; its {@link ActiveHealthPolicy}, if it is the pool's policy, adds the check meters. */
        public Builder pool(UpstreamPool pool) {
            pools.putIfAbsent(Objects.requireNonNull(pool, "pool"), null);
            return this;
        }

        /** Binds a pool whose active checks are {@code checks} (for a composed health policy). */
        public Builder pool(UpstreamPool pool, ActiveHealthPolicy checks) {
            pools.put(Objects.requireNonNull(pool, "pool"), Objects.requireNonNull(checks, "checks"));
            return this;
        }

        /** Registers the meters and starts following. */
        public LbkitMetrics build() {
            return new LbkitMetrics(this);
        }
    }
}
