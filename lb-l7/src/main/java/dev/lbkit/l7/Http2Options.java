package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import java.time.Duration;
import java.util.Objects;

/**
 * HTTP/2 towards the clients of a {@link Listener} (nginx {@code listen … http2} with its {@code http2_*}
 * settings, HAProxy {@code bind … alpn h2,http/1.1} and {@code proto h2}); upstreams stay HTTP/1.1, as
 * nginx's {@code proxy_pass}. Each stream is one request, served as an HTTP/1.1 request is: routes, retries,
 * timeouts, header rules, {@code X-Forwarded-*}, limits, realip, stats, access log and error pages apply
 * alike. Immutable and thread-safe.
 *
 * <p>On a TLS listener, ALPN chooses: the listener's {@code SslContext} must offer {@code h2} (see
 * {@link #ALPN}) and clients that do not ask for it speak HTTP/1.1 as before. On a cleartext listener a
 * client speaks HTTP/2 by prior knowledge ({@code h2c}, RFC 9113 §3.3: the connection starts with the
 * HTTP/2 preface); every other connection is HTTP/1.1, unchanged. Without this option a listener speaks
 * HTTP/1.1 only.
 *
 * <table>
 * <caption>Options</caption>
 * <tr><th>option</th><th>nginx</th><th>default</th><th>when exceeded</th></tr>
 * <tr><td>maxConcurrentStreams</td><td>http2_max_concurrent_streams</td><td>128</td><td>the stream is
 * refused ({@code RST_STREAM REFUSED_STREAM})</td></tr>
 * <tr><td>initialWindowSize</td><td>http2_body_preread_size</td><td>65,535 bytes (the protocol's)</td><td>a
 * client sending more of a request body than the stream's window: {@code RST_STREAM FLOW_CONTROL_ERROR}</td></tr>
 * <tr><td>maxResets, per resetWindow</td><td>—</td><td>200 per 30 s (Netty's)</td><td>a client resetting more
 * streams than that (the "rapid reset" flood, CVE-2023-44487): {@code GOAWAY ENHANCE_YOUR_CALM}, closed</td></tr>
 * </table>
 *
 * <p>From the balancer: the header list ({@code SETTINGS_MAX_HEADER_LIST_SIZE}) is limited by
 * {@link ClientLimits#maxHeaderSize()} (a larger one is answered 431, as a larger HTTP/1.1 header section),
 * a {@code :path} longer than {@link ClientLimits#maxInitialLineLength()} gets 414, and a connection with no
 * open stream closes (with {@code GOAWAY NO_ERROR}) after {@link ProxyTimeouts#keepAlive()}, as nginx's
 * {@code keepalive_timeout} for HTTP/2. A connection reads a stream's request body only as fast as its
 * upstream takes it: at most {@code initialWindowSize} bytes wait per stream, so a connection holds at most
 * {@code maxConcurrentStreams × initialWindowSize} of request bodies (8 MiB by default, as nginx's), and its
 * connection window is that large so that one stalled stream never stops the others.
 */
public final class Http2Options {
    /** The defaults above. */
    public static final Http2Options DEFAULT = builder().build();

    /**
     * The ALPN setting for a TLS listener's {@code SslContext} that offers {@code h2} and then {@code http/1.1}:
     * {@code SslContextBuilder.forServer(…).applicationProtocolConfig(Http2Options.ALPN)}. A client that asks
     * for neither gets HTTP/1.1.
     */
    public static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

    private final int maxConcurrentStreams;
    private final int initialWindowSize;
    private final int maxResets;
    private final Duration resetWindow;

    private Http2Options(Builder b) {
        this.maxConcurrentStreams = b.maxConcurrentStreams;
        this.initialWindowSize = b.initialWindowSize;
        this.maxResets = b.maxResets;
        this.resetWindow = b.resetWindow;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Streams a client may have open at once on one connection ({@code SETTINGS_MAX_CONCURRENT_STREAMS}). */
    public int maxConcurrentStreams() {
        return maxConcurrentStreams;
    }

    /** Each stream's receive window, bytes ({@code SETTINGS_INITIAL_WINDOW_SIZE}). */
    public int initialWindowSize() {
        return initialWindowSize;
    }

    /** Streams a client may reset within {@link #resetWindow()} before the connection is closed. */
    public int maxResets() {
        return maxResets;
    }

    /** The window in which {@link #maxResets()} are counted, whole seconds. */
    public Duration resetWindow() {
        return resetWindow;
    }

    @Override
    public String toString() {
        return "Http2Options{maxConcurrentStreams=" + maxConcurrentStreams + ", initialWindowSize="
                + initialWindowSize + ", maxResets=" + maxResets + " per " + resetWindow + "}";
    }

    /** Builds {@link Http2Options}. Not thread-safe. */
    public static final class Builder {
        private int maxConcurrentStreams = 128;
        private int initialWindowSize = 65_535;
        private int maxResets = 200;
        private Duration resetWindow = Duration.ofSeconds(30);

        private Builder() {}

        /** {@code http2_max_concurrent_streams}; default 128. */
        public Builder maxConcurrentStreams(int streams) {
            this.maxConcurrentStreams = Checks.positive(streams, "maxConcurrentStreams");
            return this;
        }

        /** Each stream's receive window, bytes; default 65,535. */
        public Builder initialWindowSize(int bytes) {
            this.initialWindowSize = Checks.positive(bytes, "initialWindowSize");
            return this;
        }

        /**
         * Closes a connection whose client resets more than {@code resets} streams within {@code window}
         * (whole seconds); default 200 per 30 s.
         */
        public Builder maxResets(int resets, Duration window) {
            Checks.positive(Objects.requireNonNull(window, "window"), "window");
            if (window.toNanos() % 1_000_000_000L != 0 || window.getSeconds() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("window must be whole seconds: " + window);
            }
            this.maxResets = Checks.positive(resets, "resets");
            this.resetWindow = window;
            return this;
        }

        public Http2Options build() {
            return new Http2Options(this);
        }
    }
}
