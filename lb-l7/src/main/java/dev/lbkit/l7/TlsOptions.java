package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import io.netty.handler.ssl.SslContext;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS from the proxy to an upstream group ({@code proxy_pass https://…}, {@code proxy_ssl_server_name},
 * {@code proxy_ssl_verify}, {@code proxy_ssl_trusted_certificate}). Immutable and thread-safe.
 *
 * <p>Unlike nginx, certificate verification is on by default: the upstreams' certificates must chain to
 * a trusted issuer and match the upstream's host name. Either lb-l7 builds the client context
 * ({@link #builder()}: trust = the JDK's default trust store unless {@link Builder#trustManager} says
 * otherwise, provider = {@link TlsProvider#AUTO}: OpenSSL when netty-tcnative is on the class path, the
 * JDK otherwise), or the caller brings one ({@link #builder(SslContext)}: its trust and provider are
 * used as they are). Defaults: SNI on (the upstream's host, or {@link Builder#serverName}), host-name
 * verification on.
 */
public final class TlsOptions {
    private final SslContext sslContext;
    private final boolean sni;
    private final boolean verifyHostname;
    private final String serverName;

    private TlsOptions(Builder b, SslContext sslContext) {
        this.sslContext = sslContext;
        this.sni = b.sni;
        this.verifyHostname = b.verifyHostname;
        this.serverName = b.serverName;
    }

    /** Options whose client context lb-l7 builds, with {@link Builder#trustManager} and {@link Builder#provider}. */
    public static Builder builder() {
        return new Builder(null);
    }

    /** Options with the caller's client context (its trust and provider as they are). */
    public static Builder builder(SslContext clientContext) {
        Objects.requireNonNull(clientContext, "clientContext");
        if (!clientContext.isClient()) {
            throw new IllegalArgumentException("clientContext must be a client SslContext");
        }
        return new Builder(clientContext);
    }

    public SslContext sslContext() {
        return sslContext;
    }

    /** The TLS implementation in use: {@link TlsProvider#OPENSSL} or {@link TlsProvider#JDK}. */
    public TlsProvider provider() {
        return TlsProvider.of(sslContext);
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
        private TrustManagerFactory trust;
        private TlsProvider provider;

        private Builder(SslContext sslContext) {
            this.sslContext = sslContext;
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
            this.serverName = Checks.notBlank(name, "serverName");
            return this;
        }

        /**
         * {@code proxy_ssl_trusted_certificate}: the issuers the upstreams' certificates must chain to.
         * Default: the JDK's default trust store. Only with {@link TlsOptions#builder()}.
         */
        public Builder trustManager(TrustManagerFactory trust) {
            this.trust = Objects.requireNonNull(trust, "trust");
            return this;
        }

        /** The TLS implementation. Default {@link TlsProvider#AUTO}. Only with {@link TlsOptions#builder()}. */
        public Builder provider(TlsProvider provider) {
            this.provider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * @throws IllegalStateException if a trust manager or provider was set on options given their own
         *     {@link SslContext}, or {@link TlsProvider#OPENSSL} was asked for and is not available
         */
        public TlsOptions build() {
            if (sslContext != null) {
                if (trust != null || provider != null) {
                    throw new IllegalStateException("trustManager and provider apply only to TlsOptions.builder(); "
                            + "set them on the SslContext given to builder(SslContext)");
                }
                return new TlsOptions(this, sslContext);
            }
            TlsProvider p = provider != null ? provider : TlsProvider.AUTO;
            return new TlsOptions(this, p.clientContext(trust));
        }
    }
}
