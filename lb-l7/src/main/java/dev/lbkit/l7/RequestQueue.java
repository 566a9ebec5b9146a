package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import java.time.Duration;
import java.util.Objects;

/**
 * A bounded wait for an upstream of one {@link UpstreamGroup} (nginx Plus {@code queue N timeout=T} in an
 * {@code upstream} block; HAProxy's per-server {@code maxconn} with its queue and {@code timeout queue}).
 * Immutable.
 *
 * <p>A request waits only when its group has no upstream that can take it and at least one upstream is
 * held back by nothing but its connection limit ({@code Upstream.maxConnections}, nginx's
 * {@code max_conns}). Waiting requests are served first come, first served: each slot that frees (an
 * attempt ends, an upstream is added, re-weighted or comes back up) goes to the oldest one, and a new
 * request joins the end of the queue while others wait. A full queue answers 503 at once, a request that
 * waited for {@link #timeout()} gets 503, a client that goes away leaves the queue. The wait is not a try
 * and never counts against an upstream's health ({@code max_fails}). Only a request's first upstream is
 * waited for: a retry that finds no upstream free gets 502, as without a queue.
 *
 * <p>Connection limits are counted per upstream over all event loops of a balancer, so the queue is one
 * per group and balancer, shared by every event loop. A slot freed by someone else using the same pool
 * (another balancer or tier) is seen at this balancer's next slot, pool change or health change, or
 * the waiter times out: the pool itself tells nobody when a connection count goes down.
 *
 * @param maxQueued requests that may wait at once; 0 = no queue (default), so a request that finds every
 *                  upstream at its limit gets 502 at once, as nginx without {@code queue}
 * @param timeout   how long a request may wait before it gets 503; default 60 s (as nginx)
 */
public record RequestQueue(int maxQueued, Duration timeout) {
    /** No queue: 502 at once when every upstream is at its connection limit. */
    public static final RequestQueue OFF = new RequestQueue(0, Duration.ofSeconds(60));

    public RequestQueue {
        Checks.positiveOrZero(maxQueued, "maxQueued");
        Checks.positive(Objects.requireNonNull(timeout, "timeout"), "timeout");
    }

    /** Whether requests may wait ({@code maxQueued > 0}). */
    public boolean enabled() {
        return maxQueued > 0;
    }
}
