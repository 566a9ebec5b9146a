package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import java.time.Duration;

/**
 * A limit on the rate of a route's requests per key, nginx's {@code limit_req_zone key rate=…} with
 * {@code limit_req burst=… [nodelay | delay=…]}, {@code limit_req_status} and {@code limit_req_dry_run}:
 * a leaky bucket per key, in thousandths of a request as in nginx. A key's first request passes; each
 * further request adds one to its excess, which leaks at {@link #requestsPerSecond()}; a request that would
 * bring the excess over {@link #burst()} is refused with {@link #status()} and not counted; of those within
 * the burst, the first {@link #delay()} pass at once and the others wait until the excess beyond
 * {@code delay} has leaked ({@code (excess - delay) / rate}).
 *
 * <p>Requests whose key is missing or empty are not limited (nginx does not account an empty key). Several
 * limits on one route must all pass; a request refused by one is counted by none. The same instance on
 * several routes shares one table of keys (an nginx zone named in several locations), and keeps it across
 * {@link HttpBalancer#routes(java.util.List)}.
 *
 * <p>The table holds at most {@link #maxKeys()} keys: when full, the key used least recently gives way
 * (nginx removes the oldest state too), so an evicted client starts again with an empty bucket.
 *
 * <p>Immutable and thread-safe.
 */
public final class RequestRateLimit extends RouteLimit {
    /** Default {@link #maxKeys()}: 65536 keys (about what a 4 MB nginx zone holds). */
    public static final int DEFAULT_MAX_KEYS = RouteLimit.DEFAULT_MAX_KEYS;

    private final int requests;
    private final boolean perMinute;
    private final int burst;
    private final int delay;

    private RequestRateLimit(Builder b) {
        super(b);
        this.requests = b.requests;
        this.perMinute = b.perMinute;
        this.burst = b.burst;
        this.delay = b.delay;
    }

    /** A limit of {@code requests} per second per key ({@code rate=Nr/s}). */
    public static Builder perSecond(int requests) {
        return new Builder(Checks.positive(requests, "requests"), false);
    }

    /** A limit of {@code requests} per minute per key ({@code rate=Nr/m}). */
    public static Builder perMinute(int requests) {
        return new Builder(Checks.positive(requests, "requests"), true);
    }

    /** Requests per {@link #per()}. */
    public int requests() {
        return requests;
    }

    /** One second or one minute. */
    public Duration per() {
        return perMinute ? Duration.ofMinutes(1) : Duration.ofSeconds(1);
    }

    /**
     * The rate in thousandths of a request per second, as nginx keeps it ({@code 30r/m} is 500), rounded
     * down, at least 1.
     */
    public long requestsPerSecond() {
        return Math.max(1, perMinute ? requests * 1000L / 60 : requests * 1000L);
    }

    /** Excess requests accepted (delayed or not) beyond the rate. Default 0. */
    public int burst() {
        return burst;
    }

    /** Excess requests that pass without delay: 0 by default, {@link Integer#MAX_VALUE} for {@code nodelay}. */
    public int delay() {
        return delay;
    }

    @Override
    public String toString() {
        return "RequestRateLimit{" + requests + (perMinute ? "r/m" : "r/s") + ", burst=" + burst
                + (delay == Integer.MAX_VALUE ? ", nodelay" : ", delay=" + delay) + ", " + common() + "}";
    }

    /** Builds a {@link RequestRateLimit}. Not thread-safe. */
    public static final class Builder extends RouteLimit.Builder<Builder> {
        private final int requests;
        private final boolean perMinute;
        private int burst;
        private int delay;

        private Builder(int requests, boolean perMinute) {
            this.requests = requests;
            this.perMinute = perMinute;
        }

        /** {@code burst=N}: excess requests accepted; {@code >= 0}, default 0. */
        public Builder burst(int burst) {
            this.burst = Checks.positiveOrZero(burst, "burst");
            return this;
        }

        /** {@code nodelay}: every request within the burst passes at once (still counted). */
        public Builder nodelay() {
            this.delay = Integer.MAX_VALUE;
            return this;
        }

        /** {@code delay=N}: the first {@code N} excess requests pass at once, the rest wait; {@code >= 0}, default 0. */
        public Builder delay(int delay) {
            this.delay = Checks.positiveOrZero(delay, "delay");
            return this;
        }

        @Override
        Builder self() {
            return this;
        }

        public RequestRateLimit build() {
            return new RequestRateLimit(this);
        }
    }
}
