package dev.lbkit.l7;

import io.netty.handler.ssl.SslContext;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS from the proxy to an upstream group ({@code proxy_pass https://…}, {@code proxy_ssl_server_name},
 * {@code proxy_ssl_verify}). Immutable and thread-safe.
 *
 * <p>Unlike nginx, certificate verification is on by default: the {@link SslContext} must be a client
 * context that trusts the upstreams' issuers (Netty's default trust manager is the JDK's), and the
 * upstream's host name is checked against its certificate. Defaults: SNI on (the upstream's host, or
 * {@link Builder#serverName}), host-name verification on.
 */
public final class TlsOptions {
    private final SslContext sslContext;
    private final boolean sni;
    private final boolean verifyHostname;
    private final String serverName;

    private TlsOptions(Builder b) {
        this.sslContext = b.sslContext;
        this.sni = b.sni;
        this.verifyHostname = b.verifyHostname;
        this.serverName = b.serverName;
    }

    public static Builder builder(SslContext clientContext) {
        return new Builder(clientContext);
    }

    public SslContext sslContext() {
        return sslContext;
    }

    /** Whether the TLS handshake names the server (SNI). */
    public boolean sni() {
        return sni;
    }

    /** Whether the certificate must match the server name. */
    public boolean verifyHostname() {
        return verifyHostname;
    }

    /** The name used for SNI and verification instead of the upstream's host. */
    public Optional<String> serverName() {
        return Optional.ofNullable(serverName);
    }

    /** Builds {@link TlsOptions}. Not thread-safe. */
    public static final class Builder {
        private final SslContext sslContext;
        private boolean sni = true;
        private boolean verifyHostname = true;
        private String serverName;

        private Builder(SslContext sslContext) {
            this.sslContext = Objects.requireNonNull(sslContext, "clientContext");
            if (!sslContext.isClient()) {
                throw new IllegalArgumentException("clientContext must be a client SslContext");
            }
        }

        public Builder sni(boolean on) {
            this.sni = on;
            return this;
        }

        public Builder verifyHostname(boolean on) {
            this.verifyHostname = on;
            return this;
        }

        /** {@code proxy_ssl_name}: the name to send and verify, instead of each upstream's host. */
        public Builder serverName(String name) {
            this.serverName = dev.lbkit.api.internal.Checks.notBlank(name, "serverName");
            return this;
        }

        public TlsOptions build() {
            return new TlsOptions(this);
        }
    }
}
