package dev.lbkit.l7;

import dev.lbkit.l7.internal.Cookies;
import dev.lbkit.transport.internal.IpAddresses;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Takes a request's client address from a header that a trusted proxy in front set: nginx's realip
 * module ({@code set_real_ip_from}, {@code real_ip_header}, {@code real_ip_recursive}), set on a
 * {@link Listener.Builder#realIp(RealIp) listener}.
 *
 * <pre>{@code
 * RealIp.builder().trust("10.0.0.0/8", "2001:db8::/32").header("X-Forwarded-For").recursive(true).build()
 * }</pre>
 *
 * <p>Per request, and only when the connection's address (the socket's peer, or the address its PROXY
 * header names on a listener that {@link Listener#acceptProxyProtocol() accepts one}) is in a trusted
 * CIDR: the last address of the header (its lines joined for {@code X-Forwarded-For}, the first line for
 * any other header); with {@link #recursive()}, walking from the right past trusted addresses, the first
 * untrusted one, or the leftmost when all are trusted. An entry is an address or an address with a port
 * as RFC 3986 writes them ({@code 192.0.2.1:5555}, {@code [2001:db8::1]:5555}, nginx 1.11.0 and later);
 * the port, when there is one, replaces the client's port too, and an entry without one leaves the client
 * without a port (nginx's empty {@code $remote_port}). A header that is absent, or whose entry is not
 * valid (not an IP address, {@code [v6]} without a port, a port that is empty, 0, above 65535 or not
 * decimal), leaves the connection's address and port, as nginx ignores it. The address taken then stands
 * for the client for that request only: {@code X-Forwarded-For} and {@code Forwarded: for=} appended, the
 * access log, the scheduler's client address (ip-hash), {@link HashKey#clientAddress()}, the route limits
 * and the PROXY header sent to a group with {@link UpstreamGroup.Builder#proxyProtocol}, the one place
 * lb-l7 passes the client's port on (its source port).
 *
 * <p>Immutable and thread-safe. Defaults: header {@code X-Real-IP} (nginx's default {@code real_ip_header}),
 * not recursive; at least one trusted CIDR is required.
 */
public final class RealIp {
    private final List<String> trusted;
    private final String header;
    private final boolean recursive;

    private RealIp(Builder b) {
        this.trusted = List.copyOf(b.trusted);
        this.header = b.header;
        this.recursive = b.recursive;
    }

    /** A new builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** The trusted CIDRs in canonical form ({@code 10.0.0.0/8}); never empty. */
    public List<String> trusted() {
        return trusted;
    }

    /** The header the address is taken from; default {@code X-Real-IP}, as nginx's. */
    public String header() {
        return header;
    }

    /** Whether trusted addresses in the header are walked past ({@code real_ip_recursive on}); default false. */
    public boolean recursive() {
        return recursive;
    }

    @Override
    public String toString() {
        return "RealIp{from=" + trusted + ", header=" + header + (recursive ? ", recursive" : "") + "}";
    }

    /** Builds a {@link RealIp}. Not thread-safe. */
    public static final class Builder {
        private final List<String> trusted = new ArrayList<>();
        private String header = "X-Real-IP";
        private boolean recursive;

        private Builder() {}

        /**
         * Trusts these sources ({@code set_real_ip_from}): IPv4 or IPv6 CIDRs ({@code 10.0.0.0/8},
         * {@code 2001:db8::/32}) or single addresses, read without DNS. Host bits are cleared as nginx does.
         *
         * @throws IllegalArgumentException naming the first that is not an IP address or CIDR
         */
        public Builder trust(String... cidrs) {
            Objects.requireNonNull(cidrs, "cidrs");
            for (String c : cidrs) {
                trusted.add(IpAddresses.canonicalCidr(Objects.requireNonNull(c, "cidr")));
            }
            return this;
        }

        /**
         * The header to read ({@code real_ip_header}); default {@code X-Real-IP}, as nginx's. Proxies that
         * append to a list send {@code X-Forwarded-For} (every line of it is read as one list; of any other
         * header the first line). A PROXY header is read by the listener itself
         * ({@link Listener.Builder#acceptProxyProtocol(boolean)}).
         *
         * @throws IllegalArgumentException if {@code name} is not a token (RFC 9110 §5.6.2), empty included
         */
        public Builder header(String name) {
            this.header = Cookies.checkToken(Objects.requireNonNull(name, "name"), "header name", "RFC 9110 §5.6.2");
            return this;
        }

        /** Walks past trusted addresses in the header ({@code real_ip_recursive on}); default false. */
        public Builder recursive(boolean on) {
            this.recursive = on;
            return this;
        }

        /**
         * The option.
         *
         * @throws IllegalStateException if no source is trusted
         */
        public RealIp build() {
            if (trusted.isEmpty()) {
                throw new IllegalStateException("RealIp needs at least one trusted CIDR (trust(...))");
            }
            return new RealIp(this);
        }
    }
}
