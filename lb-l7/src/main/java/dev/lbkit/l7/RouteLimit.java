package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import java.util.Objects;

/**
 * What a route's {@link RequestRateLimit} and {@link ConcurrencyLimit} have in common: the key requests are
 * counted by, the status of a refusal, dry run, and how many keys the limit remembers. Immutable and
 * thread-safe.
 */
abstract class RouteLimit {
    /** Default {@link #maxKeys()}: 65536 keys (about what a 4 MB nginx zone holds). */
    static final int DEFAULT_MAX_KEYS = 65536;

    private final HashKey key;
    private final int status;
    private final boolean dryRun;
    private final int maxKeys;

    RouteLimit(Builder<?> b) {
        this.key = b.key;
        this.status = b.status;
        this.dryRun = b.dryRun;
        this.maxKeys = b.maxKeys;
    }

    /** What requests are counted by (nginx's zone key). Default: the client address ({@code $binary_remote_addr}). */
    public HashKey key() {
        return key;
    }

    /** The status of a refused request ({@code limit_req_status}, {@code limit_conn_status}). Default 503. */
    public int status() {
        return status;
    }

    /** Whether requests are only counted, never refused or delayed ({@code …_dry_run on}). Default false. */
    public boolean dryRun() {
        return dryRun;
    }

    /** The most keys the limit remembers (nginx's zone size). Default 65536. */
    public int maxKeys() {
        return maxKeys;
    }

    /** The options every limit has, for {@link #toString()}. */
    String common() {
        return key + ", status=" + status + (dryRun ? ", dry run" : "") + ", maxKeys=" + maxKeys;
    }

    /** The builder of the common options. Not thread-safe. */
    abstract static class Builder<B extends Builder<B>> {
        private HashKey key = HashKey.clientAddress();
        private int status = 503;
        private boolean dryRun;
        private int maxKeys = DEFAULT_MAX_KEYS;

        abstract B self();

        /** What requests are counted by. Default {@link HashKey#clientAddress()}. */
        public B key(HashKey key) {
            this.key = Objects.requireNonNull(key, "key");
            return self();
        }

        /** The status of a refusal: 400 to 599 (nginx's range), default 503; 429 is common. */
        public B status(int status) {
            this.status = Checks.inRange(status, 400, 599, "status");
            return self();
        }

        /** Dry run: count, but never refuse or delay. Default false. */
        public B dryRun(boolean dryRun) {
            this.dryRun = dryRun;
            return self();
        }

        /** The most keys remembered; {@code >= 1}, default 65536. */
        public B maxKeys(int maxKeys) {
            this.maxKeys = Checks.positive(maxKeys, "maxKeys");
            return self();
        }
    }
}
