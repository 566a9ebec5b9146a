package dev.lbkit.micrometer;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.internal.DaemonExecutors;
import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.LatencyHistogram;
import dev.lbkit.micrometer.internal.DnsBinder;
import dev.lbkit.micrometer.internal.HttpBinder;
import dev.lbkit.micrometer.internal.L4Binder;
import dev.lbkit.micrometer.internal.PoolBinder;
import dev.lbkit.micrometer.internal.SnapshotBinder;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
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
 * <p>Thread-safe. Pool meters are gauges read at scrape time and follow the pool's membership; they
 * hold the pool weakly (as Micrometer's gauges hold their object), so the registry never keeps a pool
 * alive: this instance does, until {@link #close()} removes the meters.
 * Balancers' counters come as snapshots, taken every refresh interval (default 1 s) by one daemon thread
 * and on {@link #refresh()}; their meters show the last snapshot.
 */
public final class LbkitMetrics implements AutoCloseable {
    private static final Logger logger = LoggerFactory.getLogger(LbkitMetrics.class);
    /** The default time between two snapshots of a balancer's counters. */
    public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(1);

    private final List<AutoCloseable> binders;
    private final List<SnapshotBinder<?>> snapshots;
    private final ScheduledExecutorService executor;
    private final ScheduledFuture<?> refresher;

    private LbkitMetrics(Builder b) {
        List<AutoCloseable> l = new ArrayList<>();
        List<SnapshotBinder<?>> sb = new ArrayList<>();
        try {
            for (Map.Entry<UpstreamPool, ActiveHealthPolicy> e : b.pools.entrySet()) {
                l.add(new PoolBinder(b.registry, e.getKey(), e.getValue()));
            }
            for (Function<MeterRegistry, SnapshotBinder<?>> f : b.tiers) {
                SnapshotBinder<?> x = f.apply(b.registry);
                l.add(x);
                sb.add(x);
            }
        } catch (RuntimeException e) {
            closeAll(l);
            throw e;
        }
        this.binders = l;
        this.snapshots = List.copyOf(sb);
        if (snapshots.isEmpty()) {
            executor = null;
            refresher = null;
        } else {
            executor = DaemonExecutors.newScheduler("metrics");
            long every = b.refreshInterval.toNanos();
            refresher = executor.scheduleWithFixedDelay(this::refreshQuietly, every, every, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Takes a fresh snapshot of every bound balancer now (the refresher does so every refresh interval).
     * Call it before a scrape for exact figures, as tests do.
     */
    public void refresh() {
        for (SnapshotBinder<?> s : snapshots) {
            s.refresh();
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            logger.warn("refreshing lbkit metrics failed", e);
        }
    }

    /** A builder binding to {@code registry}. */
    public static Builder builder(MeterRegistry registry) {
        return new Builder(registry);
    }

    /** Stops following pools and balancers and removes every meter this instance registered. Idempotent. */
    @Override
    public void close() {
        if (refresher != null) {
            refresher.cancel(false);
            executor.shutdownNow();
        }
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
        private final List<Function<MeterRegistry, SnapshotBinder<?>>> tiers = new ArrayList<>();
        private Duration refreshInterval = DEFAULT_REFRESH_INTERVAL;
        private List<Duration> latencyBuckets = LatencyHistogram.BOUNDS;

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

        /**
         * Binds an HTTP balancer as service {@code name}: per route and per upstream, requests, responses
         * by status class, failures, retries, bytes, requests in flight and latency timers (with the
         * {@linkplain #latencyBuckets latency buckets}); open client connections.
         */
        public Builder http(String name, HttpBalancer balancer) {
            Checks.notBlank(name, "name");
            Objects.requireNonNull(balancer, "balancer");
            tiers.add(r -> new HttpBinder(r, name, balancer, latencyBuckets));
            return this;
        }

        /**
         * Binds an L4 balancer as {@code name}: per virtual service and real server, connections,
         * packets and bytes each way, connection rates, active and inactive connections, weights, and
         * clients turned away by cause.
         */
        public Builder l4(String name, L4Balancer balancer) {
            Checks.notBlank(name, "name");
            Objects.requireNonNull(balancer, "balancer");
            tiers.add(r -> new L4Binder(r, name, balancer));
            return this;
        }

        /**
         * The histogram buckets of the HTTP latency timers (Prometheus {@code le} bounds), ascending.
         * Default: lb-l7's own bounds, 1 ms … 10 s, the only ones at which the counts are exact.
         */
        public Builder latencyBuckets(Duration... buckets) {
            List<Duration> l = List.of(buckets);
            if (l.isEmpty()) {
                throw new IllegalArgumentException("latencyBuckets needs at least one bucket");
            }
            for (int i = 0; i < l.size(); i++) {
                Checks.positive(l.get(i), "latencyBuckets[" + i + "]");
                if (i > 0 && l.get(i).compareTo(l.get(i - 1)) <= 0) {
                    throw new IllegalArgumentException("latencyBuckets must ascend, got " + l);
                }
            }
            this.latencyBuckets = l;
            return this;
        }

        /**
         * Binds a DNS balancer as service {@code name}: answers by served name and rcode, queries by
         * transport, forwarder and cache counters.
         */
        public Builder dns(String name, DnsBalancer dns) {
            Checks.notBlank(name, "name");
            Objects.requireNonNull(dns, "dns");
            tiers.add(r -> new DnsBinder(r, name, dns));
            return this;
        }

        /** Time between two snapshots of the balancers' counters; &gt; 0, default 1 s. */
        public Builder refreshInterval(Duration refreshInterval) {
            this.refreshInterval = Checks.positive(refreshInterval, "refreshInterval");
            return this;
        }

        /** Registers the meters and starts following. */
        public LbkitMetrics build() {
            return new LbkitMetrics(this);
        }
    }
}
