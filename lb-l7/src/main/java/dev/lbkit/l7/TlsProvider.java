package dev.lbkit.l7;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.util.Objects;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Which TLS implementation lb-l7 uses: OpenSSL (BoringSSL through netty-tcnative, when it is on the class
 * path for this platform) or the JDK's. Thread-safe.
 *
 * <p>{@link #AUTO}, the default, takes OpenSSL when {@link OpenSsl#isAvailable()} and the JDK otherwise,
 * as Netty's own {@code SslContextBuilder} does; {@link #OPENSSL} and {@link #JDK} force one, and
 * forcing OpenSSL where it is not available fails at once, naming why.
 */
public enum TlsProvider {
    /** OpenSSL when available, otherwise the JDK. */
    AUTO,
    /** OpenSSL (netty-tcnative) or an error. */
    OPENSSL,
    /** The JDK's TLS ({@code SSLEngine}). */
    JDK;

    /** Whether this provider can be used here; {@link #AUTO} and {@link #JDK} always can. */
    public boolean isAvailable() {
        return this != OPENSSL || OpenSsl.isAvailable();
    }

    /**
     * The Netty provider this one stands for here.
     *
     * @throws IllegalStateException for {@link #OPENSSL} when OpenSSL is not available
     */
    public SslProvider sslProvider() {
        switch (this) {
            case JDK:
                return SslProvider.JDK;
            case OPENSSL:
                if (!OpenSsl.isAvailable()) {
                    Throwable cause = OpenSsl.unavailabilityCause();
                    throw new IllegalStateException("TLS provider OPENSSL is not available (put "
                            + "io.netty:netty-tcnative-boringssl-static for this platform on the class path, or use "
                            + "AUTO or JDK): " + cause, cause);
                }
                return SslProvider.OPENSSL;
            default:
                return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        }
    }

    /**
     * A server context for {@link HttpBalancer.Builder#listen(java.net.InetSocketAddress, SslContext)} with
     * this provider.
     *
     * @param keys the server's key and certificate chain
     * @throws IllegalStateException for {@link #OPENSSL} when OpenSSL is not available
     * @throws IllegalArgumentException when the keys cannot be used
     */
    public SslContext serverContext(KeyManagerFactory keys) {
        Objects.requireNonNull(keys, "keys");
        SslProvider p = sslProvider();
        try {
            return SslContextBuilder.forServer(keys).sslProvider(p).build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot build a " + p + " server context: " + e.getMessage(), e);
        }
    }

    /**
     * A client context for {@link TlsOptions} with this provider.
     *
     * @param trust the upstreams' trusted issuers, or null for the JDK's default trust store
     * @throws IllegalStateException for {@link #OPENSSL} when OpenSSL is not available
     */
    public SslContext clientContext(TrustManagerFactory trust) {
        SslProvider p = sslProvider();
        try {
            return SslContextBuilder.forClient().sslProvider(p).trustManager(trust).build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot build a " + p + " client context: " + e.getMessage(), e);
        }
    }

    /** The provider of {@code context}: {@link #OPENSSL} or {@link #JDK}. */
    public static TlsProvider of(SslContext context) {
        Objects.requireNonNull(context, "context");
        // OpenSSL's classes are looked at only when tcnative is there.
        return OpenSsl.isAvailable() && context instanceof ReferenceCountedOpenSslContext ? OPENSSL : JDK;
    }
}
