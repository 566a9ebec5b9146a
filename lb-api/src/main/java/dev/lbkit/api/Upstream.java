package dev.lbkit.api;

import dev.lbkit.api.internal.Checks;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One backend: where it is and how it should be weighted. An immutable value.
 *
 * <p>Two upstreams are {@linkplain #equals equal} when their {@linkplain #key() keys} (host and port)
 * are equal: a pool holds at most one upstream per key, and editing an upstream (its weight, say)
 * means replacing it with one of the same key. The live state of an upstream inside a pool (its load
 * and health) is not here but on its {@link Member}: values stay shareable between pools and threads,
 * and the fields a scheduler reads on every pick sit together on one mutable object.
 *
 * <p>Thread-safe (immutable). No accessor returns {@code null}.
 */
public final class Upstream {
    /** The largest weight accepted, as in IPVS (a signed 32-bit weight) and well above nginx's. */
    public static final int MAX_WEIGHT = 65535;

    private final String host;
    private final int port;
    private final int weight;
    private final boolean backup;
    private final int maxConnections;
    private final String name;
    private final Map<String, String> metadata;
    private final String key;
    private final InetSocketAddress address;

    private Upstream(Builder b) {
        this.host = b.host;
        this.port = b.port;
        this.weight = b.weight;
        this.backup = b.backup;
        this.maxConnections = b.maxConnections;
        this.name = b.name;
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(b.metadata));
        this.key = keyOf(host, port);
        this.address = b.address != null ? b.address : socketAddress(host, port);
    }

    /** An upstream at {@code host:port} with weight 1, primary tier, no connection limit. */
    public static Upstream of(String host, int port) {
        return builder(host, port).build();
    }

    /** An upstream at the given literal or resolved address with weight 1. */
    public static Upstream of(InetSocketAddress address) {
        return builder(address).build();
    }

    /**
     * Parses {@code host:port}, {@code [v6]:port} or {@code host:port:weight} (the form the examples'
     * {@code --real} option takes).
     *
     * @throws IllegalArgumentException naming the text if it is not of that form
     */
    public static Upstream parse(String text) {
        Objects.requireNonNull(text, "text");
        String rest = text.trim();
        String host;
        if (rest.startsWith("[")) {
            int end = rest.indexOf(']');
            if (end < 0 || end + 1 >= rest.length() || rest.charAt(end + 1) != ':') {
                throw new IllegalArgumentException("upstream must be [ipv6]:port[:weight], got '" + text + "'");
            }
            host = rest.substring(1, end);
            rest = rest.substring(end + 2);
        } else {
            int colon = rest.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("upstream must be host:port[:weight], got '" + text + "'");
            }
            host = rest.substring(0, colon);
            rest = rest.substring(colon + 1);
        }
        String[] parts = rest.split(":", -1);
        if (parts.length > 2) {
            throw new IllegalArgumentException("upstream must be host:port[:weight], got '" + text + "'");
        }
        try {
            Builder b = builder(host, Integer.parseInt(parts[0]));
            if (parts.length == 2) {
                b.weight(Integer.parseInt(parts[1]));
            }
            return b.build();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("upstream must be host:port[:weight] with numbers, got '" + text + "'", e);
        }
    }

    public static Builder builder(String host, int port) {
        return new Builder(host, port);
    }

    public static Builder builder(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        Builder b = new Builder(address.getHostString(), address.getPort());
        b.address = address;
        return b;
    }

    /** A builder holding this upstream's values, to derive an edited copy. */
    public Builder toBuilder() {
        Builder b = new Builder(host, port);
        b.weight = weight;
        b.backup = backup;
        b.maxConnections = maxConnections;
        b.name = name;
        b.metadata.putAll(metadata);
        b.address = address;
        return b;
    }

    /** Host name or address literal, as given. */
    public String host() {
        return host;
    }

    /** Port, 1..65535. */
    public int port() {
        return port;
    }

    /**
     * The socket address: resolved when the host is an address literal or the upstream was built from a
     * resolved address, otherwise {@linkplain InetSocketAddress#isUnresolved() unresolved} (the
     * connecting tier resolves it, off its event loop).
     */
    public InetSocketAddress address() {
        return address;
    }

    /** Relative weight, 0..{@value #MAX_WEIGHT}; 0 means drained: no new traffic, existing traffic continues. */
    public int weight() {
        return weight;
    }

    /** Whether this upstream is in the backup tier, used only when no primary is available (nginx {@code backup}). */
    public boolean isBackup() {
        return backup;
    }

    /** Most connections (or requests in flight) at once; 0 means no limit (nginx {@code max_conns}, IPVS {@code -x}). */
    public int maxConnections() {
        return maxConnections;
    }

    /** The optional display name. */
    public Optional<String> name() {
        return Optional.ofNullable(name);
    }

    /** Free-form metadata, unmodifiable, in insertion order; empty when none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The identity of this upstream in a pool: {@code host:port} ({@code [v6]:port} for IPv6 literals). */
    public String key() {
        return key;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Upstream && ((Upstream) o).key.equals(key);
    }

    /** Whether every field, not only the key, is equal. */
    public boolean sameAs(Upstream o) {
        return o != null && key.equals(o.key) && weight == o.weight && backup == o.backup
                && maxConnections == o.maxConnections && Objects.equals(name, o.name)
                && metadata.equals(o.metadata);
    }

    @Override
    public int hashCode() {
        return key.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(key);
        sb.append(" weight=").append(weight);
        if (backup) {
            sb.append(" backup");
        }
        if (maxConnections > 0) {
            sb.append(" max_conns=").append(maxConnections);
        }
        if (name != null) {
            sb.append(" name=").append(name);
        }
        return sb.toString();
    }

    static String keyOf(String host, int port) {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    private static InetSocketAddress socketAddress(String host, int port) {
        if (isAddressLiteral(host)) {
            try {
                // An address literal resolves without a lookup.
                return new InetSocketAddress(InetAddress.getByName(host), port);
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException("bad address literal '" + host + "'", e);
            }
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    static boolean isAddressLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true;
        }
        int dots = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return dots == 3;
    }

    /** Builds an {@link Upstream}. Not thread-safe. Defaults: weight 1, primary, no connection limit. */
    public static final class Builder {
        private final String host;
        private final int port;
        private int weight = 1;
        private boolean backup;
        private int maxConnections;
        private String name;
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private InetSocketAddress address;

        private Builder(String host, int port) {
            String h = Checks.notBlank(host, "host");
            if (h.startsWith("[") && h.endsWith("]")) {
                h = h.substring(1, h.length() - 1);
            }
            this.host = h;
            this.port = Checks.port(port, "port");
        }

        public Builder weight(int weight) {
            this.weight = Checks.inRange(weight, 0, MAX_WEIGHT, "weight");
            return this;
        }

        public Builder backup(boolean backup) {
            this.backup = backup;
            return this;
        }

        public Builder maxConnections(int maxConnections) {
            this.maxConnections = Checks.positiveOrZero(maxConnections, "maxConnections");
            return this;
        }

        public Builder name(String name) {
            this.name = Checks.notBlank(name, "name");
            return this;
        }

        public Builder metadata(String key, String value) {
            metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        public Builder metadata(Map<String, String> entries) {
            Objects.requireNonNull(entries, "entries").forEach(this::metadata);
            return this;
        }

        public Upstream build() {
            return new Upstream(this);
        }
    }
}
