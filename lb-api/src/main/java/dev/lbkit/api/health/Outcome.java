package dev.lbkit.api.health;

/**
 * What one attempt on an upstream came to, as reported by a tier to its pool's {@link HealthPolicy}.
 *
 * <p>The tier decides what counts: lb-l7 reports a 404 as {@link #SUCCESS} (nginx never counts it) and
 * a 502 as {@link #ERROR_STATUS} only when that status is listed as a failure.
 */
public enum Outcome {
    /** The attempt succeeded. */
    SUCCESS,
    /** The connection could not be established (refused, reset, unreachable, connect timeout). */
    CONNECT_FAILURE,
    /** The upstream did not answer in time (read or send timeout). */
    TIMEOUT,
    /** The upstream answered with something the tier could not parse, or closed the connection early. */
    INVALID_RESPONSE,
    /** The upstream answered with a status the tier counts as a failure (for example 502 or 503). */
    ERROR_STATUS;

    /** Whether this outcome counts as a failure. */
    public boolean isFailure() {
        return this != SUCCESS;
    }
}
