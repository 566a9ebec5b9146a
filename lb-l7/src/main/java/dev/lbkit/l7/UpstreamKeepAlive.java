package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import java.time.Duration;
import java.util.Objects;

/**
 * The HTTP/1.1 keep-alive pool of upstream connections, per upstream and event loop (nginx's
 * {@code keepalive}, {@code keepalive_timeout}, {@code keepalive_requests} in an {@code upstream} block;
 * nginx keeps its cache per worker, lbkit per event loop). Immutable.
 *
 * @param maxIdle     idle connections kept per upstream and event loop; 0 disables keep-alive
 *                    (every request on a new connection, {@code Connection: close}). Default 32.
 * @param idleTimeout how long an idle connection is kept. Default 60 s.
 * @param maxRequests requests served on one connection before it is closed. Default 1000.
 */
public record UpstreamKeepAlive(int maxIdle, Duration idleTimeout, int maxRequests) {
    /** 32 idle connections, 60 s, 1000 requests. */
    public static final UpstreamKeepAlive DEFAULT = new UpstreamKeepAlive(32, Duration.ofSeconds(60), 1000);
    /** No keep-alive to upstreams. */
    public static final UpstreamKeepAlive OFF = new UpstreamKeepAlive(0, Duration.ofSeconds(60), 1000);

    public UpstreamKeepAlive {
        Checks.positiveOrZero(maxIdle, "maxIdle");
        Checks.positive(Objects.requireNonNull(idleTimeout, "idleTimeout"), "idleTimeout");
        Checks.positive(maxRequests, "maxRequests");
    }
}
