package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;

/**
 * Limits on what clients may send and how many may connect. Immutable and thread-safe.
 *
 * <table>
 * <caption>Limits</caption>
 * <tr><th>option</th><th>nginx</th><th>default</th><th>when exceeded</th></tr>
 * <tr><td>maxInitialLineLength</td><td>large_client_header_buffers (size)</td><td>8 KiB</td><td>414 (HTTP/2: a
 * longer {@code :path})</td></tr>
 * <tr><td>maxHeaderSize</td><td>large_client_header_buffers (total)</td><td>32 KiB</td><td>431 (HTTP/2: the
 * header list, {@code SETTINGS_MAX_HEADER_LIST_SIZE})</td></tr>
 * <tr><td>maxBodySize</td><td>client_max_body_size</td><td>1 MiB (0 = none)</td><td>413; a body dropped after
 * a 404 on a kept connection closes it</td></tr>
 * <tr><td>maxConnections</td><td>worker_connections</td><td>0 = none</td><td>503, then close (an HTTP/2 connection
 * counts once, whatever its streams)</td></tr>
 * <tr><td>allowConnect</td><td>—</td><td>false</td><td>405</td></tr>
 * </table>
 */
public final class ClientLimits {
    /** The defaults above. */
    public static final ClientLimits DEFAULT = builder().build();

    private final int maxInitialLineLength;
    private final int maxHeaderSize;
    private final long maxBodySize;
    private final int maxConnections;
    private final boolean allowConnect;

    private ClientLimits(Builder b) {
        this.maxInitialLineLength = b.maxInitialLineLength;
        this.maxHeaderSize = b.maxHeaderSize;
        this.maxBodySize = b.maxBodySize;
        this.maxConnections = b.maxConnections;
        this.allowConnect = b.allowConnect;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Longest request line, bytes. */
    public int maxInitialLineLength() {
        return maxInitialLineLength;
    }

    /** Largest header section, bytes. */
    public int maxHeaderSize() {
        return maxHeaderSize;
    }

    /** Largest request body, bytes; 0 = no limit. */
    public long maxBodySize() {
        return maxBodySize;
    }

    /** Most client connections open at once over all listeners; 0 = no limit. */
    public int maxConnections() {
        return maxConnections;
    }

    /** Whether {@code CONNECT} requests are proxied (as tunnels) rather than answered with 405. */
    public boolean allowConnect() {
        return allowConnect;
    }

    /** Builds {@link ClientLimits}. Not thread-safe. */
    public static final class Builder {
        private int maxInitialLineLength = 8 * 1024;
        private int maxHeaderSize = 32 * 1024;
        private long maxBodySize = 1024 * 1024;
        private int maxConnections;
        private boolean allowConnect;

        private Builder() {}

        public Builder maxInitialLineLength(int bytes) {
            this.maxInitialLineLength = Checks.positive(bytes, "maxInitialLineLength");
            return this;
        }

        public Builder maxHeaderSize(int bytes) {
            this.maxHeaderSize = Checks.positive(bytes, "maxHeaderSize");
            return this;
        }

        public Builder maxBodySize(long bytes) {
            this.maxBodySize = Checks.positiveOrZero(bytes, "maxBodySize");
            return this;
        }

        public Builder maxConnections(int connections) {
            this.maxConnections = Checks.positiveOrZero(connections, "maxConnections");
            return this;
        }

        public Builder allowConnect(boolean allow) {
            this.allowConnect = allow;
            return this;
        }

        public ClientLimits build() {
            return new ClientLimits(this);
        }
    }
}
