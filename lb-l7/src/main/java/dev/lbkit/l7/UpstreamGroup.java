package dev.lbkit.l7;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Checks;
import java.util.Objects;
import java.util.Optional;

/**
 * An upstream group, nginx's {@code upstream} block: an {@link UpstreamPool} (its upstreams, primary and
 * backup tiers, scheduler and health policy) plus how the proxy connects to its members.
 *
 * <p>Immutable and thread-safe; the pool it holds changes at runtime (add, remove, drain, weights) and
 * the proxy follows it at once. Defaults: name = the pool's name, {@link UpstreamKeepAlive#DEFAULT},
 * plain HTTP (no TLS), {@link RequestQueue#OFF} (no waiting for an upstream at its connection limit).
 */
public final class UpstreamGroup {
    private final String name;
    private final UpstreamPool pool;
    private final UpstreamKeepAlive keepAlive;
    private final TlsOptions tls;
    private final RequestQueue queue;

    private UpstreamGroup(Builder b) {
        this.pool = b.pool;
        this.name = b.name != null ? b.name : b.pool.name();
        this.keepAlive = b.keepAlive;
        this.tls = b.tls;
        this.queue = b.queue;
    }

    /** A group of {@code pool} with default options. */
    public static UpstreamGroup of(UpstreamPool pool) {
        return builder(pool).build();
    }

    public static Builder builder(UpstreamPool pool) {
        return new Builder(pool);
    }

    /** The group's name: nginx's {@code $proxy_host} for {@link HostHeader#groupName()}, and the stats key. */
    public String name() {
        return name;
    }

    public UpstreamPool pool() {
        return pool;
    }

    public UpstreamKeepAlive keepAlive() {
        return keepAlive;
    }

    /** TLS to the upstreams, if on. */
    public Optional<TlsOptions> tls() {
        return Optional.ofNullable(tls);
    }

    /** How requests wait when every upstream is at its connection limit; {@link RequestQueue#OFF} by default. */
    public RequestQueue queue() {
        return queue;
    }

    @Override
    public String toString() {
        return "UpstreamGroup{" + name + ", " + pool.snapshot() + "}";
    }

    /** Builds an {@link UpstreamGroup}. Not thread-safe. */
    public static final class Builder {
        private final UpstreamPool pool;
        private String name;
        private UpstreamKeepAlive keepAlive = UpstreamKeepAlive.DEFAULT;
        private TlsOptions tls;
        private RequestQueue queue = RequestQueue.OFF;

        private Builder(UpstreamPool pool) {
            this.pool = Objects.requireNonNull(pool, "pool");
        }

        public Builder name(String name) {
            this.name = Checks.notBlank(name, "name");
            return this;
        }

        public Builder keepAlive(UpstreamKeepAlive keepAlive) {
            this.keepAlive = Objects.requireNonNull(keepAlive, "keepAlive");
            return this;
        }

        /** Connects to the upstreams over TLS. */
        public Builder tls(TlsOptions tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /**
         * Lets requests wait for an upstream at its connection limit (nginx Plus {@code queue}); default
         * {@link RequestQueue#OFF}.
         */
        public Builder queue(RequestQueue queue) {
            this.queue = Objects.requireNonNull(queue, "queue");
            return this;
        }

        public UpstreamGroup build() {
            return new UpstreamGroup(this);
        }
    }
}
