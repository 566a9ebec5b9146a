package dev.lbkit.l7;

import io.netty.handler.ssl.ApplicationProtocolNames;
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
    private final Http2Options http2;

    private Listener(Builder b) {
        this.address = b.address;
        this.tls = b.tls;
        this.acceptProxyProtocol = b.acceptProxyProtocol;
        this.realIp = b.realIp;
        this.http2 = b.http2;
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

    /** HTTP/2 towards clients and its settings; see {@link Builder#http2(Http2Options)}. Default: empty, HTTP/1.1 only. */
    public Optional<Http2Options> http2() {
        return Optional.ofNullable(http2);
    }

    @Override
    public String toString() {
        return "Listener{" + address + (tls != null ? ", tls" : "") + (acceptProxyProtocol ? ", proxy_protocol" : "")
                + (realIp != null ? ", " + realIp : "") + (http2 != null ? ", " + http2 : "") + "}";
    }

    /** Builds a {@link Listener}. Not thread-safe. */
    public static final class Builder {
        private final InetSocketAddress address;
        private SslContext tls;
        private boolean acceptProxyProtocol;
        private RealIp realIp;
        private Http2Options http2;

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

        /**
         * Speaks HTTP/2 to the clients that ask for it, with {@code options} ({@code listen … http2}); default
         * HTTP/1.1 only. On a TLS listener the client asks by ALPN, so the {@linkplain #tls(SslContext) TLS
         * context} must offer {@code h2} ({@link Http2Options#ALPN}); on a cleartext one by starting with the
         * HTTP/2 preface (prior knowledge, {@code h2c}). HTTP/1.1 clients are served as before either way.
         */
        public Builder http2(Http2Options options) {
            this.http2 = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * @throws IllegalStateException if the TLS context offers {@code h2} by ALPN and HTTP/2 is off (its
         *     clients would speak HTTP/2 to an HTTP/1.1 server), or HTTP/2 is on and the context does not
         *     offer {@code h2} (no client could ask for it)
         */
        public Listener build() {
            if (tls != null) {
                boolean offersH2 = offersH2(tls);
                if (offersH2 && http2 == null) {
                    throw new IllegalStateException("the TLS context offers h2 by ALPN: turn HTTP/2 on with "
                            + "http2(Http2Options), or build the context without h2");
                }
                if (!offersH2 && http2 != null) {
                    throw new IllegalStateException("HTTP/2 on a TLS listener needs a context that offers h2 by "
                            + "ALPN: build it with applicationProtocolConfig(Http2Options.ALPN)");
                }
            }
            return new Listener(this);
        }

        // Netty deprecates reading a built context's ALPN protocols but offers no other way for a context
        // built by the caller.
        @SuppressWarnings("deprecation")
        private static boolean offersH2(SslContext context) {
            return context.nextProtocols().contains(ApplicationProtocolNames.HTTP_2);
        }
    }
}
