package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import java.util.Objects;

/**
 * A limit on a route's requests in flight per key, nginx's {@code limit_conn_zone key} with
 * {@code limit_conn zone N}, {@code limit_conn_status} and {@code limit_conn_dry_run}. nginx counts the
 * connections whose request is being processed; lbkit counts requests in flight (from the routed head to
 * the end of the response, a delay by a {@link RequestRateLimit} included), which is the same for HTTP/1.1
 * clients, one request at a time per connection. A request over the limit is refused with {@link #status()}.
 *
 * <p>Requests whose key is missing or empty are not limited. Several limits on one route must all pass. The
 * same instance on several routes shares one table of keys, and keeps it across
 * {@link HttpBalancer#routes(java.util.List)}.
 *
 * <p>The table holds at most {@link #maxKeys()} keys: when full, the least recently used key without requests
 * in flight gives way; when the few least recently used all have requests in flight, the new key's request is
 * refused with {@link #status()} (nginx refuses when its zone is full).
 *
 * <p>Immutable and thread-safe.
 */
public final class ConcurrencyLimit {
    private final HashKey key;
    private final int max;
    private final int status;
    private final boolean dryRun;
    private final int maxKeys;

    private ConcurrencyLimit(Builder b) {
        this.key = b.key;
        this.max = b.max;
        this.status = b.status;
        this.dryRun = b.dryRun;
        this.maxKeys = b.maxKeys;
    }

    /** A limit of {@code max} requests in flight per key ({@code limit_conn zone N}); {@code max >= 1}. */
    public static Builder of(int max) {
        return new Builder(Checks.positive(max, "max"));
    }

    /** What requests are counted by. Default: the client address ({@code $binary_remote_addr}). */
    public HashKey key() {
        return key;
    }

    /** The most requests in flight per key. */
    public int max() {
        return max;
    }

    /** The status of a refused request ({@code limit_conn_status}). Default 503. */
    public int status() {
        return status;
    }

    /** Whether requests are only counted, never refused ({@code limit_conn_dry_run on}). Default false. */
    public boolean dryRun() {
        return dryRun;
    }

    /** The most keys the limit remembers. Default {@link RequestRateLimit#DEFAULT_MAX_KEYS}. */
    public int maxKeys() {
        return maxKeys;
    }

    @Override
    public String toString() {
        return "ConcurrencyLimit{" + key + ", max=" + max + ", status=" + status + (dryRun ? ", dry run" : "")
                + ", maxKeys=" + maxKeys + "}";
    }

    /** Builds a {@link ConcurrencyLimit}. Not thread-safe. */
    public static final class Builder {
        private HashKey key = HashKey.clientAddress();
        private final int max;
        private int status = 503;
        private boolean dryRun;
        private int maxKeys = RequestRateLimit.DEFAULT_MAX_KEYS;

        private Builder(int max) {
            this.max = max;
        }

        /** What requests are counted by. Default {@link HashKey#clientAddress()}. */
        public Builder key(HashKey key) {
            this.key = Objects.requireNonNull(key, "key");
            return this;
        }

        /** {@code limit_conn_status}: 400 to 599, default 503. */
        public Builder status(int status) {
            this.status = Checks.inRange(status, 400, 599, "status");
            return this;
        }

        /** {@code limit_conn_dry_run}: count, but never refuse. Default false. */
        public Builder dryRun(boolean dryRun) {
            this.dryRun = dryRun;
            return this;
        }

        /** The most keys remembered; {@code >= 1}, default {@link RequestRateLimit#DEFAULT_MAX_KEYS}. */
        public Builder maxKeys(int maxKeys) {
            this.maxKeys = Checks.positive(maxKeys, "maxKeys");
            return this;
        }

        public ConcurrencyLimit build() {
            return new ConcurrencyLimit(this);
        }
    }
}
