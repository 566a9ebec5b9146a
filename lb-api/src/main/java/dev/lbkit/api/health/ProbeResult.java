package dev.lbkit.api.health;

import java.time.Duration;
import java.util.Objects;

/**
 * The result of one {@link HealthProbe} run. An immutable value.
 *
 * @param healthy whether the check passed
 * @param latency how long the check took (for a TCP probe, the connect time), never negative
 * @param detail  a short human-readable account for logs and the admin page, such as
 *                {@code "connected"} or {@code "Connection refused"}; never {@code null}
 */
public record ProbeResult(boolean healthy, Duration latency, String detail) {
    public ProbeResult {
        Objects.requireNonNull(latency, "latency");
        Objects.requireNonNull(detail, "detail");
        if (latency.isNegative()) {
            throw new IllegalArgumentException("latency must be >= 0, got " + latency);
        }
    }

    /** A passed check. */
    public static ProbeResult healthy(Duration latency, String detail) {
        return new ProbeResult(true, latency, detail);
    }

    /** A failed check. */
    public static ProbeResult unhealthy(Duration latency, String detail) {
        return new ProbeResult(false, latency, detail);
    }
}
