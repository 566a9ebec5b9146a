package dev.lbkit.l7;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.health.HealthProbe;
import dev.lbkit.api.health.ProbeResult;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.l7.internal.ProxiedProbe;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;

/**
 * An active HTTP health check for lb-api's {@link dev.lbkit.api.health.ActiveHealthPolicy}: sends
 * {@code method path} to each upstream and passes when the status is within the expected range
 * (nginx Plus {@code health_check uri=… match=…}, HAProxy {@code option httpchk} + {@code http-check
 * expect status}). The interval, timeout, rise and fall are the policy's.
 *
 * <pre>{@code
 * HealthPolicy active = ActiveHealthPolicy.builder(HttpHealthProbe.builder().path("/health").build())
 *         .interval(Duration.ofSeconds(2)).timeout(Duration.ofSeconds(1)).rise(2).fall(3).build();
 * }</pre>
 *
 * <p>Uses the JDK's asynchronous {@link HttpClient} (HTTP/1.1), so a pending probe holds no thread.
 * Immutable and thread-safe. Defaults: {@code GET /}, statuses 200–399, plain HTTP, Host = the
 * upstream's {@code host:port}.
 */
public final class HttpHealthProbe implements HealthProbe {
    private final String method;
    private final String path;
    private final int minStatus;
    private final int maxStatus;
    private final boolean https;
    private final HttpClient client;
    private final SSLContext sslContext;
    private final ProxyProtocol proxyProtocol;

    private HttpHealthProbe(Builder b) {
        this.method = b.method;
        this.path = b.path;
        this.minStatus = b.minStatus;
        this.maxStatus = b.maxStatus;
        this.https = b.sslContext != null;
        this.sslContext = b.sslContext;
        this.proxyProtocol = b.proxyProtocol;
        HttpClient.Builder cb = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER);
        if (b.sslContext != null) {
            cb.sslContext(b.sslContext);
        }
        this.client = cb.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public CompletionStage<ProbeResult> probe(Upstream upstream, Duration timeout) {
        Objects.requireNonNull(upstream, "upstream");
        Checks.positive(timeout, "timeout");
        long start = System.nanoTime();
        String host = upstream.host().indexOf(':') >= 0 ? "[" + upstream.host() + "]" : upstream.host();
        URI uri;
        try {
            uri = URI.create((https ? "https://" : "http://") + host + ":" + upstream.port() + path);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(ProbeResult.unhealthy(Duration.ZERO, "bad uri: " + e.getMessage()));
        }
        CompletionStage<Integer> status;
        if (proxyProtocol != ProxyProtocol.NONE) {
            status = ProxiedProbe.status(proxyProtocol == ProxyProtocol.V1 ? HAProxyProtocolVersion.V1
                    : HAProxyProtocolVersion.V2, sslContext, upstream, method, path, timeout);
        } else {
            HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout)
                    .method(method, HttpRequest.BodyPublishers.noBody()).build();
            status = client.sendAsync(req, HttpResponse.BodyHandlers.discarding()).thenApply(HttpResponse::statusCode);
        }
        return status.handle((s, e) -> {
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            if (e != null) {
                Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                return ProbeResult.unhealthy(took, c instanceof HttpTimeoutException || c instanceof TimeoutException
                        ? "timeout" : c.getClass().getSimpleName() + ": " + c.getMessage());
            }
            boolean ok = s >= minStatus && s <= maxStatus;
            return new ProbeResult(ok, took, "status " + s);
        });
    }

    @Override
    public String toString() {
        return "HttpHealthProbe{" + method + " " + path + ", expect " + minStatus + ".." + maxStatus
                + (proxyProtocol != ProxyProtocol.NONE ? ", proxy_protocol " + proxyProtocol : "") + "}";
    }

    /** Builds an {@link HttpHealthProbe}. Not thread-safe. */
    public static final class Builder {
        private String method = "GET";
        private String path = "/";
        private int minStatus = 200;
        private int maxStatus = 399;
        private SSLContext sslContext;
        private ProxyProtocol proxyProtocol = ProxyProtocol.NONE;

        private Builder() {}

        /** The request method. Default {@code GET}. */
        public Builder method(String method) {
            this.method = Checks.notBlank(method, "method").toUpperCase(Locale.ROOT);
            return this;
        }

        /** The request path and query, starting with {@code /}. Default {@code /}. */
        public Builder path(String path) {
            Objects.requireNonNull(path, "path");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("path must start with '/', got '" + path + "'");
            }
            this.path = path;
            return this;
        }

        /** The statuses that pass, inclusive. Default 200..399. */
        public Builder expectStatus(int min, int max) {
            Checks.inRange(min, 100, 599, "min");
            Checks.inRange(max, min, 599, "max");
            this.minStatus = min;
            this.maxStatus = max;
            return this;
        }

        /** Probes over HTTPS with this context (certificate and host-name verification as the JDK does). */
        public Builder https(SSLContext sslContext) {
            this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
            return this;
        }

        /**
         * Starts each probe's connection with a PROXY protocol header naming no client, for upstreams of
         * a group with {@link UpstreamGroup.Builder#proxyProtocol}, which require one (HAProxy's checks with
         * {@code send-proxy}, {@code check-send-proxy}): {@link ProxyProtocol#V2} sends the LOCAL command,
         * {@link ProxyProtocol#V1} {@code PROXY UNKNOWN}; the upstream keeps the connection's own addresses.
         * Default {@link ProxyProtocol#NONE}. With a header, probes run on one daemon event loop lb-l7
         * shares among such probes (the JDK's client cannot send bytes before a request), over HTTP/1.1
         * with {@code Connection: close}.
         */
        public Builder proxyProtocol(ProxyProtocol proxyProtocol) {
            this.proxyProtocol = Objects.requireNonNull(proxyProtocol, "proxyProtocol");
            return this;
        }

        public HttpHealthProbe build() {
            return new HttpHealthProbe(this);
        }
    }
}
