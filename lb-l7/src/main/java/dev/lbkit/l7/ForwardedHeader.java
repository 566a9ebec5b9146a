package dev.lbkit.l7;

/**
 * Forwarding headers the proxy can add to upstream requests; each is off unless chosen on the
 * {@link Route} (nginx adds none by default).
 */
public enum ForwardedHeader {
    /** {@code X-Forwarded-For}: the client address appended to any value received ({@code $proxy_add_x_forwarded_for}). */
    X_FORWARDED_FOR,
    /** {@code X-Forwarded-Proto}: {@code http} or {@code https} as the client used. */
    X_FORWARDED_PROTO,
    /** {@code X-Forwarded-Host}: the client's Host. */
    X_FORWARDED_HOST,
    /** RFC 7239 {@code Forwarded: for=…;proto=…;host=…}, appended to any value received. */
    FORWARDED
}
