package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;

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
public final class ConcurrencyLimit extends RouteLimit {
    private final int max;

    private ConcurrencyLimit(Builder b) {
        super(b);
        this.max = b.max;
    }

    /** A limit of {@code max} requests in flight per key ({@code limit_conn zone N}); {@code max >= 1}. */
    public static Builder of(int max) {
        return new Builder(Checks.positive(max, "max"));
    }

    /** The most requests in flight per key. */
    public int max() {
        return max;
    }

    @Override
    public String toString() {
        return "ConcurrencyLimit{max=" + max + ", " + common() + "}";
    }

    /** Builds a {@link ConcurrencyLimit}. Not thread-safe. */
    public static final class Builder extends RouteLimit.Builder<Builder> {
        private final int max;

        private Builder(int max) {
            this.max = max;
        }

        @Override
        Builder self() {
            return this;
        }

        public ConcurrencyLimit build() {
            return new ConcurrencyLimit(this);
        }
    }
}
