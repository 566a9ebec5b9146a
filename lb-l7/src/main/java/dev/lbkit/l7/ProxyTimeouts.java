package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import java.time.Duration;

/**
 * The proxy's timeouts, named and meaning as in nginx. Immutable and thread-safe.
 *
 * <table>
 * <caption>Timeouts</caption>
 * <tr><th>option</th><th>nginx</th><th>default</th><th>meaning</th></tr>
 * <tr><td>connect</td><td>proxy_connect_timeout</td><td>60 s</td><td>establishing one upstream connection</td></tr>
 * <tr><td>send</td><td>proxy_send_timeout</td><td>60 s</td><td>between two successive writes to the upstream</td></tr>
 * <tr><td>read</td><td>proxy_read_timeout</td><td>60 s</td><td>between two successive reads from the upstream</td></tr>
 * <tr><td>clientSend</td><td>send_timeout</td><td>60 s</td><td>between two successive writes to the client</td></tr>
 * <tr><td>clientHeader</td><td>client_header_timeout</td><td>60 s</td><td>reading the whole request header</td></tr>
 * <tr><td>clientBody</td><td>client_body_timeout</td><td>60 s</td><td>between two successive reads of the request body
 * (also of a body dropped after a 404 on a kept connection)</td></tr>
 * <tr><td>keepAlive</td><td>keepalive_timeout</td><td>75 s</td><td>an idle client keep-alive connection stays open
 * (an HTTP/2 one: with no open stream, then {@code GOAWAY})</td></tr>
 * <tr><td>lingeringTime</td><td>lingering_time</td><td>30 s</td><td>at most, reading and dropping what a client
 * still sends after a response that closes its connection while it may still be sending (its request body not
 * all read, a refused head whose framing is unknown, requests pipelined behind it)</td></tr>
 * <tr><td>lingeringTimeout</td><td>lingering_timeout</td><td>5 s</td><td>the longest wait for more of it</td></tr>
 * </table>
 */
public final class ProxyTimeouts {
    /** nginx's defaults. */
    public static final ProxyTimeouts DEFAULT = builder().build();

    private final Duration connect;
    private final Duration send;
    private final Duration read;
    private final Duration clientSend;
    private final Duration clientHeader;
    private final Duration clientBody;
    private final Duration keepAlive;
    private final Duration lingeringTime;
    private final Duration lingeringTimeout;

    private ProxyTimeouts(Builder b) {
        this.connect = b.connect;
        this.send = b.send;
        this.read = b.read;
        this.clientSend = b.clientSend;
        this.clientHeader = b.clientHeader;
        this.clientBody = b.clientBody;
        this.keepAlive = b.keepAlive;
        this.lingeringTime = b.lingeringTime;
        this.lingeringTimeout = b.lingeringTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.connect = connect;
        b.send = send;
        b.read = read;
        b.clientSend = clientSend;
        b.clientHeader = clientHeader;
        b.clientBody = clientBody;
        b.keepAlive = keepAlive;
        b.lingeringTime = lingeringTime;
        b.lingeringTimeout = lingeringTimeout;
        return b;
    }

    /** {@code proxy_connect_timeout}, per attempt. */
    public Duration connect() {
        return connect;
    }

    /** {@code proxy_send_timeout}. */
    public Duration send() {
        return send;
    }

    /** {@code proxy_read_timeout}. */
    public Duration read() {
        return read;
    }

    /** {@code send_timeout}. */
    public Duration clientSend() {
        return clientSend;
    }

    /**
     * {@code client_header_timeout}: then 408, lingering ({@link #lingeringTime()}) if part of a head has come.
     * A route's ({@link Route.Builder#timeouts}) is not used: the balancer's applies, as a head is read before
     * it is routed.
     */
    public Duration clientHeader() {
        return clientHeader;
    }

    /** {@code client_body_timeout}. */
    public Duration clientBody() {
        return clientBody;
    }

    /**
     * {@code keepalive_timeout}: the wait for the next request on a client connection is that of the route
     * ({@link Route.Builder#timeouts}) that answered the request before, as nginx's in a {@code location};
     * the balancer's when that route has no timeouts of its own.
     */
    public Duration keepAlive() {
        return keepAlive;
    }

    /**
     * {@code lingering_time}: when a response (a refusal such as 400, 413 or 417 included) closes a client
     * connection while the client may still be sending (its request body not all read, a refused head whose
     * framing is unknown, a head cut off by {@link #clientHeader()}, bytes or requests pipelined behind it),
     * the output is shut down and what the client still sends is read and dropped for at most this long, so
     * that the client gets the response instead of a reset. A connection with nothing more to read closes at
     * once. Once a request is routed, its route's value applies if the route has timeouts of its own
     * ({@link Route.Builder#timeouts}); before (a bad head, no route, the header timeout), the balancer's.
     */
    public Duration lingeringTime() {
        return lingeringTime;
    }

    /**
     * {@code lingering_timeout}: the longest wait for more bytes while lingering ({@link #lingeringTime()}),
     * the route's or the balancer's as for {@link #lingeringTime()}.
     */
    public Duration lingeringTimeout() {
        return lingeringTimeout;
    }

    @Override
    public String toString() {
        return "ProxyTimeouts{connect=" + connect + ", send=" + send + ", read=" + read + ", clientSend=" + clientSend
                + ", clientHeader=" + clientHeader + ", clientBody=" + clientBody + ", keepAlive=" + keepAlive
                + ", lingeringTime=" + lingeringTime + ", lingeringTimeout=" + lingeringTimeout + "}";
    }

    /** Builds {@link ProxyTimeouts}; every value must be positive. Not thread-safe. */
    public static final class Builder {
        private Duration connect = Duration.ofSeconds(60);
        private Duration send = Duration.ofSeconds(60);
        private Duration read = Duration.ofSeconds(60);
        private Duration clientSend = Duration.ofSeconds(60);
        private Duration clientHeader = Duration.ofSeconds(60);
        private Duration clientBody = Duration.ofSeconds(60);
        private Duration keepAlive = Duration.ofSeconds(75);
        private Duration lingeringTime = Duration.ofSeconds(30);
        private Duration lingeringTimeout = Duration.ofSeconds(5);

        private Builder() {}

        public Builder connect(Duration d) {
            this.connect = Checks.positive(d, "connect");
            return this;
        }

        public Builder send(Duration d) {
            this.send = Checks.positive(d, "send");
            return this;
        }

        public Builder read(Duration d) {
            this.read = Checks.positive(d, "read");
            return this;
        }

        public Builder clientSend(Duration d) {
            this.clientSend = Checks.positive(d, "clientSend");
            return this;
        }

        public Builder clientHeader(Duration d) {
            this.clientHeader = Checks.positive(d, "clientHeader");
            return this;
        }

        public Builder clientBody(Duration d) {
            this.clientBody = Checks.positive(d, "clientBody");
            return this;
        }

        public Builder keepAlive(Duration d) {
            this.keepAlive = Checks.positive(d, "keepAlive");
            return this;
        }

        public Builder lingeringTime(Duration d) {
            this.lingeringTime = Checks.positive(d, "lingeringTime");
            return this;
        }

        public Builder lingeringTimeout(Duration d) {
            this.lingeringTimeout = Checks.positive(d, "lingeringTimeout");
            return this;
        }

        public ProxyTimeouts build() {
            return new ProxyTimeouts(this);
        }
    }
}
