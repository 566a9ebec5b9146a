package dev.lbkit.api.health;

import java.util.Objects;

/**
 * What {@link ActiveHealthPolicy} knows about one upstream after at least one completed check, for
 * monitoring and the admin page. An immutable snapshot.
 *
 * @param up             the verdict: whether active checks let the upstream receive traffic
 * @param lastResult     the latest probe result (healthy flag, latency, detail)
 * @param checkedAt      when that result arrived, on the pool's {@link dev.lbkit.api.Ticker}
 * @param health         HAProxy's health counter: 0..{@code rise + fall - 1}, up while at least {@code rise}
 * @param checks         how many checks completed for this upstream
 */
public record CheckStatus(boolean up, ProbeResult lastResult, long checkedAt, int health, long checks) {
    public CheckStatus {
        Objects.requireNonNull(lastResult, "lastResult");
    }
}
