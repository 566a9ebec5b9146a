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
 * plain HTTP (no TLS), {@link RequestQueue#OFF} (no waiting for an upstream at its connection limit),
 * {@link ProxyProtocol#NONE} (no PROXY header to the upstreams),
 * {@link HashKey#clientAddress()} as the hash key, no sticky cookie.
 */
public final class UpstreamGroup {
    private final String name;
    private final UpstreamPool pool;
    private final UpstreamKeepAlive keepAlive;
    private final TlsOptions tls;
    private final RequestQueue queue;
    private final ProxyProtocol proxyProtocol;
    private final HashKey hashKey;
    private final StickyCookie stickyCookie;

    private UpstreamGroup(Builder b) {
        this.pool = b.pool;
        this.name = b.name != null ? b.name : b.pool.name();
        this.keepAlive = b.keepAlive;
        this.tls = b.tls;
        this.queue = b.queue;
        this.proxyProtocol = b.proxyProtocol;
        this.hashKey = b.hashKey;
        this.stickyCookie = b.stickyCookie;
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

    /** The PROXY header each new upstream connection starts with; {@link ProxyProtocol#NONE} by default. */
    public ProxyProtocol proxyProtocol() {
        return proxyProtocol;
    }

    /** What hash schedulers hash per request; {@link HashKey#clientAddress()} by default. */
    public HashKey hashKey() {
        return hashKey;
    }

    /** The cookie that keeps clients on one upstream, if on. */
    public Optional<StickyCookie> stickyCookie() {
        return Optional.ofNullable(stickyCookie);
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
        private ProxyProtocol proxyProtocol = ProxyProtocol.NONE;
        private HashKey hashKey = HashKey.clientAddress();
        private StickyCookie stickyCookie;

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

        /**
         * Starts every new upstream connection with a PROXY protocol header (HAProxy {@code send-proxy},
         * {@code send-proxy-v2}); default {@link ProxyProtocol#NONE}. The header names the client (the
         * one a listener's {@link Listener#acceptProxyProtocol() PROXY header} names, if any) and the
         * address it connected to; for TLS upstreams it comes before the handshake.
         *
         * <p>A connection's header speaks for the client connection that opened it, so with a header on,
         * keep-alive connections are not shared between client connections (HAProxy's {@code http-reuse}
         * is per client then): a client connection keeps its last upstream connection for its own next
         * request to the same upstream (within {@link UpstreamKeepAlive}'s idle timeout and request
         * limit). It is closed when that idle timeout passes, as a pooled connection is, or with the client
         * connection if that closes first; no other client ever gets it. Health
         * probes of such a group must send a header too: {@link HttpHealthProbe.Builder#proxyProtocol}.
         */
        public Builder proxyProtocol(ProxyProtocol proxyProtocol) {
            this.proxyProtocol = Objects.requireNonNull(proxyProtocol, "proxyProtocol");
            return this;
        }

        /**
         * What the pool's hash scheduler ({@code dh}, {@code mh}, {@code ring}) hashes per request, nginx's
         * {@code hash $key}; default {@link HashKey#clientAddress()}. See {@link HashKey} for a missing key.
         */
        public Builder hashKey(HashKey hashKey) {
            this.hashKey = Objects.requireNonNull(hashKey, "hashKey");
            return this;
        }

        /** Keeps each client on one upstream with a cookie the balancer inserts; default off. */
        public Builder stickyCookie(StickyCookie stickyCookie) {
            this.stickyCookie = Objects.requireNonNull(stickyCookie, "stickyCookie");
            return this;
        }

        public UpstreamGroup build() {
            return new UpstreamGroup(this);
        }
    }
}
