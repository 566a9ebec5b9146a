package dev.lbkit.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.internal.DaemonExecutors;
import dev.lbkit.api.resolve.UpstreamEntry;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedding service's announcement of itself as an upstream under an etcd prefix, in the form
 * {@link EtcdResolver} follows: the key {@code <prefix>/<id>} holding the {@link UpstreamEntry}, attached
 * to a lease that this registration keeps alive. If the process dies, the lease expires after its
 * {@linkplain Builder#ttl TTL} and etcd deletes the key; if the lease is lost while the process lives (etcd
 * was away longer than the TTL), a new lease is granted and the key written again.
 *
 * <p>A graceful stop ({@link #close()}) drains first: weight 0 is published, so balancers send no new
 * traffic while work in flight finishes during the {@linkplain Builder#drainTime drain time}; then the key
 * is deleted and the lease revoked.
 *
 * <pre>{@code
 * EtcdRegistration me = EtcdRegistration.builder(etcd, "/lbkit/web", Upstream.of("127.0.0.1", 8081))
 *         .ttl(Duration.ofSeconds(10))
 *         .register();
 * // ... serve ...
 * me.close(); // drains for 5 s, then leaves
 * }</pre>
 *
 * <p>Thread-safe. The client stays the caller's.
 */
public final class EtcdRegistration implements AutoCloseable {
    private static final Logger logger = LoggerFactory.getLogger(EtcdRegistration.class);

    private final Client client;
    private final ByteSequence key;
    private final String keyText;
    private final Duration ttl;
    private final Duration drainTime;
    private final Duration requestTimeout;
    private final Duration retryInterval;
    private final ScheduledExecutorService executor;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private Upstream upstream;
    /** Guarded by {@link #lock}. */
    private long leaseId;
    /** Guarded by {@link #lock}. */
    private CloseableClient keepAlive;
    /** Guarded by {@link #lock}. */
    private boolean closed;

    private EtcdRegistration(Builder b) {
        this.client = b.client;
        this.keyText = b.prefix + "/" + (b.id != null ? b.id : b.upstream.key());
        this.key = ByteSequence.from(keyText, UTF_8);
        this.upstream = b.upstream;
        this.ttl = b.ttl;
        this.drainTime = b.drainTime;
        this.requestTimeout = b.requestTimeout;
        this.retryInterval = b.retryInterval;
        this.executor = DaemonExecutors.newScheduler("etcd-registration");
    }

    /** A builder announcing {@code upstream} under {@code prefix} through {@code client}. */
    public static Builder builder(Client client, String prefix, Upstream upstream) {
        return new Builder(client, prefix, upstream);
    }

    /** The key this registration writes, {@code <prefix>/<id>}. */
    public String key() {
        return keyText;
    }

    /** The upstream as currently announced (weight 0 once drained). */
    public Upstream upstream() {
        synchronized (lock) {
            return upstream;
        }
    }

    /**
     * Publishes weight 0: balancers following the prefix stop sending new traffic here; work in flight
     * continues. Blocks until etcd has the change.
     *
     * @throws EtcdUnavailableException if etcd does not take the change within the request timeout
     */
    public void drain() {
        long lease;
        Upstream drained;
        synchronized (lock) {
            upstream = upstream.toBuilder().weight(0).build();
            drained = upstream;
            lease = leaseId;
        }
        await(client.getKVClient().put(key, value(drained), PutOption.builder().withLeaseId(lease).build()), "drain");
    }

    /**
     * Leaves gracefully: {@linkplain #drain() drains}, waits the drain time, deletes the key and revokes
     * the lease. Blocks for the drain time. Idempotent; if etcd cannot be reached, the lease expires by
     * itself after its TTL.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            // From now on a lost lease is not replaced: the registration is leaving.
            closed = true;
        }
        try {
            drain();
            Thread.sleep(drainTime.toMillis());
        } catch (EtcdUnavailableException e) {
            logger.warn("registration {}: could not drain: {}", keyText, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long lease;
        synchronized (lock) {
            lease = leaseId;
            if (keepAlive != null) {
                keepAlive.close();
            }
        }
        executor.shutdownNow();
        try {
            await(client.getKVClient().delete(key), "delete");
            await(client.getLeaseClient().revoke(lease), "revoke lease");
        } catch (EtcdUnavailableException e) {
            logger.warn("registration {}: left without deleting, the lease expires in {}: {}", keyText, ttl,
                    e.getMessage());
        }
    }

    private void register() {
        long lease = await(client.getLeaseClient().grant(ttl.toSeconds()), "grant lease").getID();
        Upstream u;
        synchronized (lock) {
            u = upstream;
        }
        await(client.getKVClient().put(key, value(u), PutOption.builder().withLeaseId(lease).build()), "put");
        synchronized (lock) {
            if (closed) {
                return;
            }
            leaseId = lease;
            if (keepAlive != null) {
                keepAlive.close();
            }
            keepAlive = client.getLeaseClient().keepAlive(lease, new StreamObserver<LeaseKeepAliveResponse>() {
                @Override
                public void onNext(LeaseKeepAliveResponse response) {
                    // Renewed.
                }

                @Override
                public void onError(Throwable t) {
                    leaseLost(lease, t);
                }

                @Override
                public void onCompleted() {
                    leaseLost(lease, new IllegalStateException("keep-alive ended"));
                }
            });
        }
        logger.info("registration {}: registered {} with lease {} (ttl {})", keyText, u, lease, ttl);
    }

    private void leaseLost(long lease, Throwable cause) {
        synchronized (lock) {
            if (closed || lease != leaseId) {
                return;
            }
        }
        logger.warn("registration {}: lease {} lost, registering again: {}", keyText, lease, cause.toString());
        executor.execute(this::retryRegister);
    }

    private void retryRegister() {
        try {
            register();
        } catch (EtcdUnavailableException e) {
            synchronized (lock) {
                if (closed) {
                    return;
                }
            }
            logger.warn("registration {}: etcd unavailable, retrying in {}: {}", keyText, retryInterval, e.getMessage());
            executor.schedule(this::retryRegister, retryInterval.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private static ByteSequence value(Upstream u) {
        return ByteSequence.from(UpstreamEntry.toJson(u), UTF_8);
    }

    private <T> T await(java.util.concurrent.CompletableFuture<T> future, String what) {
        try {
            return future.get(requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            throw new EtcdUnavailableException(what + " of " + keyText + " interrupted", e);
        } catch (ExecutionException e) {
            throw new EtcdUnavailableException(what + " of " + keyText + " failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new EtcdUnavailableException(what + " of " + keyText + " took longer than " + requestTimeout, e);
        }
    }

    /**
     * Builds and registers an {@link EtcdRegistration}. Not thread-safe. Defaults: id the upstream's
     * {@code host:port}, TTL 10 s, drain time 5 s, request timeout 2 s, retry interval 1 s.
     */
    public static final class Builder {
        private final Client client;
        private final String prefix;
        private final Upstream upstream;
        private String id;
        private Duration ttl = Duration.ofSeconds(10);
        private Duration drainTime = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(2);
        private Duration retryInterval = Duration.ofSeconds(1);

        private Builder(Client client, String prefix, Upstream upstream) {
            this.client = Objects.requireNonNull(client, "client");
            String p = Checks.notBlank(prefix, "prefix");
            this.prefix = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
            this.upstream = Objects.requireNonNull(upstream, "upstream");
        }

        /** The id, the last part of the key; must not contain {@code /}. */
        public Builder id(String id) {
            Checks.notBlank(id, "id");
            if (id.indexOf('/') >= 0) {
                throw new IllegalArgumentException("id must not contain '/', got '" + id + "'");
            }
            this.id = id;
            return this;
        }

        /** The lease's time to live, whole seconds, at least 2 s: how long a dead process stays listed. */
        public Builder ttl(Duration ttl) {
            Checks.positive(ttl, "ttl");
            if (ttl.toSeconds() < 2 || ttl.toNanos() % 1_000_000_000L != 0) {
                throw new IllegalArgumentException("ttl must be whole seconds, at least 2 s, got " + ttl);
            }
            this.ttl = ttl;
            return this;
        }

        /** How long {@link #close()} waits at weight 0 for work in flight before it leaves; zero leaves at once. */
        public Builder drainTime(Duration drainTime) {
            this.drainTime = Checks.positiveOrZero(drainTime, "drainTime");
            return this;
        }

        /** How long one etcd request may take. */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = Checks.positive(requestTimeout, "requestTimeout");
            return this;
        }

        /** How long to wait before registering again after a lost lease could not be replaced. */
        public Builder retryInterval(Duration retryInterval) {
            this.retryInterval = Checks.positive(retryInterval, "retryInterval");
            return this;
        }

        /**
         * Registers: grants the lease, writes the entry and starts the keep-alive. Blocks until etcd has
         * the entry.
         *
         * @throws EtcdUnavailableException if etcd does not answer within the request timeout
         */
        public EtcdRegistration register() {
            EtcdRegistration r = new EtcdRegistration(this);
            try {
                r.register();
            } catch (RuntimeException e) {
                r.executor.shutdownNow();
                throw e;
            }
            return r;
        }
    }
}
