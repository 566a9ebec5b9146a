package dev.lbkit.l7.internal;

/**
 * nginx's {@code limit_req} leaky bucket, in thousandths of a request and milliseconds as nginx keeps them
 * ({@code ngx_http_limit_req_lookup} and {@code ngx_http_limit_req_account}): pure functions of a key's
 * state, so that {@link RouteLimits} and the tests' model share them.
 */
final class LeakyBucket {
    /** {@link #excessAfter}: the request is over the burst. */
    static final long REJECT = -1;
    /** A key's {@code lastMillis} before its first request. */
    static final long NEW = Long.MIN_VALUE;

    private LeakyBucket() {
    }

    /**
     * The key's excess once a request arriving at {@code now} is counted, or {@link #REJECT}: the excess
     * leaks {@code rate} thousandths per second since {@code last} (rounded down, as nginx), the request adds
     * 1000 (the sum kept at 0 or more), and over {@code burst} thousandths the request is refused. A key's first request
     * ({@code last == NEW}) leaves it at 0.
     */
    static long excessAfter(long excess, long last, long now, long rate, long burst) {
        if (last == NEW) {
            return 0;
        }
        long ms = Math.max(0, now - last);
        long leak = ms > Long.MAX_VALUE / rate ? Long.MAX_VALUE : rate * ms / 1000;
        long e = leak >= excess + 1000 ? 0 : excess - leak + 1000;
        return e > burst ? REJECT : e;
    }

    /** How long a request that left the excess at {@code excess} waits, in ms: 0 up to {@code delay} thousandths. */
    static long delayMillis(long excess, long delay, long rate) {
        return excess <= delay ? 0 : (excess - delay) * 1000 / rate;
    }
}
