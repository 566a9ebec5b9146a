package dev.lbkit.api.resolve;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.internal.DaemonExecutors;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a host name with the JDK's system resolver ({@link InetAddress#getAllByName}, which follows
 * {@code /etc/hosts}, {@code nsswitch} and the JVM's own address cache) and re-resolves it every
 * {@code interval}: one upstream per address, all on the same port and weight. The DNS-backed
 * resolver that honours TTLs is lb-dns's.
 *
 * <p>Lookups run on the resolver's executor (the application's, or one daemon thread it owns), never
 * on the thread that subscribes; the first starts when the first listener subscribes. Listeners are
 * called on that executor, one at a time, and only when the result changes: the same addresses in
 * another order are no change. A failed lookup is told once as {@link ResolutionResult#failed} (a
 * following pool keeps its last upstreams); further failures are not told until a lookup succeeds.
 *
 * <p>Thread-safe. Immutable configuration.
 */
public final class SystemResolver implements Resolver {
    /** The default re-resolution interval. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);

    private static final Logger logger = LoggerFactory.getLogger(SystemResolver.class);
    private static final Duration MAX_INTERVAL = Duration.ofDays(1);

    /** The lookup function, injectable so that tests can simulate changes and failures without DNS. */
    @FunctionalInterface
    public interface Lookup {
        /** All addresses of {@code host}; may block (it runs on the resolver's executor). */
        InetAddress[] lookup(String host) throws UnknownHostException;
    }

    private final String host;
    private final int port;
    private final int weight;
    private final Duration interval;
    private final Lookup lookup;
    private final ScheduledExecutorService executor;
    /** The application's executor, or null when this resolver owns {@link #executor}. */
    private final ScheduledExecutorService suppliedExecutor;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private final List<Subscription> subscriptions = new ArrayList<>();
    /** Guarded by lock. */
    private ResolutionResult latest;
    /** Guarded by lock. */
    private ScheduledFuture<?> task;
    /** Guarded by lock. */
    private boolean closed;

    private SystemResolver(Builder b) {
        this.host = b.host;
        this.port = b.port;
        this.weight = b.weight;
        this.interval = b.interval;
        this.lookup = b.lookup;
        this.suppliedExecutor = b.executor;
        this.executor = DaemonExecutors.supplyOrNew(b.executor, "resolver");
    }

    /** A builder for {@code host} on {@code port}. */
    public static Builder builder(String host, int port) {
        return new Builder(host, port);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public Duration interval() {
        return interval;
    }

    /** The latest result, if a lookup has completed. */
    public Optional<ResolutionResult> latest() {
        synchronized (lock) {
            return Optional.ofNullable(latest);
        }
    }

    /**
     * Adds a listener, told on the resolver's executor: the latest result at once if there is one, then
     * each change. The first subscription starts the periodic lookups (the first at once).
     *
     * @throws IllegalStateException if the resolver is closed
     */
    @Override
    public AutoCloseable subscribe(ResolverListener listener) {
        Objects.requireNonNull(listener, "listener");
        Subscription sub = new Subscription(listener);
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("resolver " + this + " is closed");
            }
            subscriptions.add(sub);
            if (task == null) {
                task = executor.scheduleWithFixedDelay(this::refreshQuietly, 0, interval.toNanos(), TimeUnit.NANOSECONDS);
            } else if (latest != null) {
                executor.execute(() -> {
                    synchronized (lock) {
                        if (!closed && latest != null) {
                            sub.tell(latest);
                        }
                    }
                });
            }
        }
        return () -> {
            synchronized (lock) {
                subscriptions.remove(sub);
            }
        };
    }

    /**
     * Looks the name up now, on the executor, and tells listeners if the result changed.
     *
     * @return completes with the resolver's latest result after this lookup
     */
    public CompletionStage<ResolutionResult> refresh() {
        try {
            return CompletableFuture.supplyAsync(this::resolve, executor);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("resolver " + this + " is closed", e));
        }
    }

    private void refreshQuietly() {
        try {
            resolve();
        } catch (RuntimeException e) {
            logger.warn("resolver {}: refresh failed", this, e);
        }
    }

    private ResolutionResult resolve() {
        ResolutionResult fresh;
        try {
            InetAddress[] addresses = lookup.lookup(host);
            Map<String, Upstream> byKey = new LinkedHashMap<>();
            for (InetAddress a : Objects.requireNonNull(addresses, "lookup returned null")) {
                // A literal address, so that the upstream's key is the address and not the shared name.
                InetAddress literal = InetAddress.getByAddress(a.getAddress());
                Upstream u = Upstream.builder(new InetSocketAddress(literal, port)).weight(weight).name(host).build();
                byKey.putIfAbsent(u.key(), u);
            }
            fresh = ResolutionResult.of(new ArrayList<>(byKey.values()));
        } catch (UnknownHostException | RuntimeException e) {
            logger.debug("resolver {}: lookup failed", this, e);
            fresh = ResolutionResult.failed(e);
        }
        synchronized (lock) {
            if (closed) {
                return latest != null ? latest : fresh;
            }
            if (latest == null || !sameSet(latest, fresh)) {
                latest = fresh;
            }
            for (Subscription sub : List.copyOf(subscriptions)) {
                sub.tell(latest);
            }
            return latest;
        }
    }

    /** Same success or failure and the same upstreams, in any order. */
    static boolean sameSet(ResolutionResult a, ResolutionResult b) {
        if (a.error().isPresent() != b.error().isPresent() || a.upstreams().size() != b.upstreams().size()) {
            return false;
        }
        Map<String, Upstream> byKey = new HashMap<>();
        for (Upstream u : a.upstreams()) {
            byKey.put(u.key(), u);
        }
        for (Upstream u : b.upstreams()) {
            if (!u.sameAs(byKey.get(u.key()))) {
                return false;
            }
        }
        return true;
    }

    /** Stops the lookups, drops every listener and shuts an owned executor down. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            subscriptions.clear();
            if (task != null) {
                task.cancel(false);
            }
        }
        DaemonExecutors.shutdownIfOwned(executor, suppliedExecutor);
    }

    @Override
    public String toString() {
        return "SystemResolver{" + host + ":" + port + "}";
    }

    /** One listener and what it was last told; guarded by the resolver's lock. */
    private static final class Subscription {
        final ResolverListener listener;
        ResolutionResult told;

        Subscription(ResolverListener listener) {
            this.listener = listener;
        }

        void tell(ResolutionResult result) {
            if (result == told) {
                return;
            }
            told = result;
            try {
                listener.onResult(result);
            } catch (RuntimeException e) {
                logger.warn("resolver listener {} failed", listener, e);
            }
        }
    }

    /**
     * Builds a {@link SystemResolver}. Not thread-safe. Defaults: {@code interval} 30 s, {@code weight} 1,
     * {@code lookup} {@link InetAddress#getAllByName}, an owned one-thread daemon executor.
     */
    public static final class Builder {
        private final String host;
        private final int port;
        private int weight = 1;
        private Duration interval = DEFAULT_INTERVAL;
        private Lookup lookup = InetAddress::getAllByName;
        private ScheduledExecutorService executor;

        private Builder(String host, int port) {
            this.host = Checks.notBlank(host, "host");
            this.port = Checks.port(port, "port");
        }

        /** Time between lookups, &gt; 0, at most a day. Default 30 s. */
        public Builder interval(Duration interval) {
            this.interval = Checks.positive(interval, MAX_INTERVAL, "interval");
            return this;
        }

        /** The weight of every upstream, 0..{@value Upstream#MAX_WEIGHT}. Default 1. */
        public Builder weight(int weight) {
            this.weight = Checks.inRange(weight, 0, Upstream.MAX_WEIGHT, "weight");
            return this;
        }

        /** The lookup function. Default {@link InetAddress#getAllByName}. */
        public Builder lookup(Lookup lookup) {
            this.lookup = Objects.requireNonNull(lookup, "lookup");
            return this;
        }

        /** The executor lookups and listeners run on; the application keeps ownership. Default: an owned daemon thread. */
        public Builder executor(ScheduledExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        public SystemResolver build() {
            return new SystemResolver(this);
        }
    }
}
