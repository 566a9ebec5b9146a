package dev.lbkit.api.health;

import dev.lbkit.api.Upstream;
import java.util.Objects;

/**
 * A change in whether an upstream may receive traffic, as told to {@link dev.lbkit.api.PoolListener}s.
 * An immutable value.
 *
 * <p>Events are sent when a policy changes a member's state at a moment it can see (an ejection, an
 * active check going down or up, an operator marking it down). The end of a timed ejection is observed
 * lazily, as nginx does: no timer fires, the upstream is simply picked again once the time has passed,
 * and the event that says it is healthy again comes with its first success.
 *
 * @param upstream  the upstream concerned
 * @param available whether it may now receive new traffic
 * @param source    which mechanism changed it (for example {@code "passive"}, {@code "active"}, {@code "admin"})
 * @param reason    a short human-readable reason, never {@code null}
 * @param nanoTime  when it happened, on the pool's {@link dev.lbkit.api.Ticker}
 */
public record HealthEvent(Upstream upstream, boolean available, String source, String reason, long nanoTime) {
    public HealthEvent {
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(reason, "reason");
    }
}
