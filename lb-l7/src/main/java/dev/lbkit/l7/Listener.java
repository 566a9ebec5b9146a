package dev.lbkit.l7;

import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * One address an {@link HttpBalancer} listens on and how it takes connections there: nginx's
 * {@code listen address [ssl] [proxy_protocol]}, HAProxy's {@code bind address [ssl] [accept-proxy]}.
 *
 * <pre>{@code
 * HttpBalancer.builder()
 *         .listen(Listener.builder(new InetSocketAddress(8443)).tls(serverContext).acceptProxyProtocol(true).build())
 * }</pre>
 *
 * <p>Immutable and thread-safe. Defaults: plain HTTP (no TLS), no PROXY protocol.
 */
public final class Listener {
    private final InetSocketAddress address;
    private final SslContext tls;
    private final boolean acceptProxyProtocol;
    private final RealIp realIp;

    private Listener(Builder b) {
        this.address = b.address;
        this.tls = b.tls;
        this.acceptProxyProtocol = b.acceptProxyProtocol;
        this.realIp = b.realIp;
    }

    /** Plain HTTP on {@code address}; port 0 picks a free port. */
    public static Listener of(InetSocketAddress address) {
        return builder(address).build();
    }

    /** A builder for a listener on {@code address}; port 0 picks a free port. */
    public static Builder builder(InetSocketAddress address) {
        return new Builder(address);
    }

    /** The address to bind; never null. */
    public InetSocketAddress address() {
        return address;
    }

    /** The server TLS context when the listener speaks TLS ({@code listen … ssl}); empty for plain HTTP. */
    public Optional<SslContext> tls() {
        return Optional.ofNullable(tls);
    }

    /**
     * Whether every connection must begin with a PROXY protocol header (v1 or v2, HAProxy's format) from
     * a balancer in front; see {@link Builder#acceptProxyProtocol(boolean)}. Default false.
     */
    public boolean acceptProxyProtocol() {
        return acceptProxyProtocol;
    }

    /** How requests' client addresses are taken from a header; see {@link Builder#realIp(RealIp)}. Default: empty. */
    public Optional<RealIp> realIp() {
        return Optional.ofNullable(realIp);
    }

    @Override
    public String toString() {
        return "Listener{" + address + (tls != null ? ", tls" : "") + (acceptProxyProtocol ? ", proxy_protocol" : "")
                + (realIp != null ? ", " + realIp : "") + "}";
    }

    /** Builds a {@link Listener}. Not thread-safe. */
    public static final class Builder {
        private final InetSocketAddress address;
        private SslContext tls;
        private boolean acceptProxyProtocol;
        private RealIp realIp;

        private Builder(InetSocketAddress address) {
            this.address = Objects.requireNonNull(address, "address");
        }

        /**
         * Speaks TLS with this server context ({@code listen … ssl}). Default: plain HTTP.
         *
         * @throws IllegalArgumentException if {@code serverContext} is a client context
         */
        public Builder tls(SslContext serverContext) {
            Objects.requireNonNull(serverContext, "serverContext");
            if (serverContext.isClient()) {
                throw new IllegalArgumentException("serverContext must be a server SslContext");
            }
            this.tls = serverContext;
            return this;
        }

        /**
         * Requires a PROXY protocol header, v1 (text) or v2 (binary), at the start of every connection
         * (nginx {@code listen … proxy_protocol}, HAProxy {@code accept-proxy}); default false. On a TLS
         * listener the header comes before the TLS handshake. The client address of a PROXY command over
         * TCP4 or TCP6 then stands for the connection's peer everywhere: {@code X-Forwarded-For},
         * {@code Forwarded: for=}, the access log, the scheduler's client address (ip-hash) and a PROXY
         * header sent on to upstreams; a LOCAL command (v2) or {@code PROXY UNKNOWN} (v1) keeps the
         * socket's addresses, as HAProxy does.
         *
         * <p>As in nginx, a connection whose header is malformed or missing (it starts with anything else)
         * is closed without a response, and so is one that has not sent a complete header within
         * {@link ProxyTimeouts#clientHeader()} (a TLS handshake must end within that time too); each is
         * counted in {@link HttpBalancerStats#malformedProxyHeaders()}. With the option off, a header is
         * not looked for (and costs nothing); once read, its decoder leaves the connection's pipeline.
         */
        public Builder acceptProxyProtocol(boolean on) {
            this.acceptProxyProtocol = on;
            return this;
        }

        /**
         * Takes each request's client address from a header set by a trusted proxy in front (nginx's
         * realip module); default none: the connection's address. Per listener, as what stands in front
         * of a port decides whom to trust. Trust is checked against the connection's address, which on a
         * listener that {@linkplain #acceptProxyProtocol(boolean) accepts PROXY} is the header's: the
         * listener already trusts whoever sends it, as nginx does with {@code real_ip_header proxy_protocol}.
         */
        public Builder realIp(RealIp option) {
            this.realIp = Objects.requireNonNull(option, "option");
            return this;
        }

        public Listener build() {
            return new Listener(this);
        }
    }
}
