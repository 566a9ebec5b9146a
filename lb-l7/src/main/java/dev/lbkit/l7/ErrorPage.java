package dev.lbkit.l7;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A static page the balancer sends instead of its own built-in error body (nginx's {@code error_page} with a
 * local static file): a body, its content type, optionally another status to send (nginx's
 * {@code error_page 502 =503 …} or {@code =200}) and a {@code Retry-After} in whole seconds. Attached to
 * statuses by {@link ErrorPages}.
 *
 * <p>Only local static content: no internal redirect to another route (nginx's {@code error_page 404 /x}
 * served by a location, {@code @named}) and no redirect to a URL ({@code error_page 404 https://…}).
 *
 * <p>Immutable and thread-safe; the body is copied in and out.
 */
public final class ErrorPage {
    private final byte[] body;
    private final String contentType;
    private final int status;
    private final long retryAfterSeconds;

    private ErrorPage(byte[] body, String contentType, int status, long retryAfterSeconds) {
        this.body = body;
        this.contentType = contentType;
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /**
     * A page with {@code body} (sent as is, may be empty) of type {@code contentType} (e.g.
     * {@code "text/html; charset=utf-8"}), sent with the status of the error it answers.
     *
     * @throws NullPointerException naming {@code body} or {@code contentType} when null
     * @throws IllegalArgumentException for a blank content type or one with a control character
     */
    public static ErrorPage of(byte[] body, String contentType) {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(contentType, "contentType");
        if (contentType.isBlank() || contentType.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("contentType must be a non-blank header value, got '"
                    + contentType + "'");
        }
        return new ErrorPage(body.clone(), contentType, 0, -1);
    }

    /**
     * This page sent with {@code status} instead of the error's (nginx's {@code =code}), e.g. 200 for a
     * maintenance page. The connection is handled as for the original error (kept open or closed).
     *
     * @throws IllegalArgumentException unless 200..599 and not 204 or 304 (statuses without a body)
     */
    public ErrorPage withStatus(int status) {
        if (status < 200 || status > 599 || status == 204 || status == 304) {
            throw new IllegalArgumentException("status must be 200..599 and not 204 or 304, got " + status);
        }
        return new ErrorPage(body, contentType, status, retryAfterSeconds);
    }

    /**
     * This page with a {@code Retry-After} header of {@code delay} in whole seconds (rounded down), as fits a
     * 503, a 429 or a redirect.
     *
     * @throws IllegalArgumentException for a negative delay
     */
    public ErrorPage withRetryAfter(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("retryAfter must not be negative, got " + delay);
        }
        return new ErrorPage(body, contentType, status, delay.getSeconds());
    }

    /** A copy of the body. */
    public byte[] body() {
        return body.clone();
    }

    /** The body's length in bytes. */
    public int length() {
        return body.length;
    }

    public String contentType() {
        return contentType;
    }

    /** The status sent instead of the error's, or empty to send the error's. */
    public OptionalInt status() {
        return status == 0 ? OptionalInt.empty() : OptionalInt.of(status);
    }

    /** The {@code Retry-After} sent with the page, or empty for none. */
    public Optional<Duration> retryAfter() {
        return retryAfterSeconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(retryAfterSeconds));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ErrorPage p && Arrays.equals(body, p.body) && contentType.equals(p.contentType)
                && status == p.status && retryAfterSeconds == p.retryAfterSeconds;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(body), contentType, status, retryAfterSeconds);
    }

    @Override
    public String toString() {
        return "ErrorPage{" + contentType + ", " + body.length + " bytes"
                + (status == 0 ? "" : ", =" + status)
                + (retryAfterSeconds < 0 ? "" : ", Retry-After " + retryAfterSeconds) + "}";
    }
}
