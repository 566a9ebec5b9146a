package dev.lbkit.l7;

/**
 * When a request is passed to the next upstream, as nginx's {@code proxy_next_upstream}. Each constant
 * names the nginx parameter it stands for.
 *
 * <p>Which failures count against an upstream's {@code max_fails} does not depend on this set for
 * {@link #ERROR}, {@link #TIMEOUT} and {@link #INVALID_RESPONSE} (they always count); the status
 * conditions count only when listed; 403 and 404 never count, as in nginx.
 */
public enum NextUpstream {
    /** {@code error}: the connection failed, or was reset or closed before the response header was read. */
    ERROR,
    /** {@code timeout}: connect, send or read timeout. */
    TIMEOUT,
    /** {@code invalid_header}: the upstream sent an empty, malformed or truncated response header. */
    INVALID_RESPONSE,
    /** {@code http_500}. */
    HTTP_500,
    /** {@code http_502}. */
    HTTP_502,
    /** {@code http_503}. */
    HTTP_503,
    /** {@code http_504}. */
    HTTP_504,
    /** {@code http_403}: retried when listed, never counted as a failure. */
    HTTP_403,
    /** {@code http_404}: retried when listed, never counted as a failure. */
    HTTP_404,
    /** {@code http_429}. */
    HTTP_429,
    /** {@code non_idempotent}: also retry POST, PATCH, LOCK … after they may have reached an upstream. */
    NON_IDEMPOTENT;

    /** The status condition for {@code status}, or {@code null} if the status is not one of them. */
    public static NextUpstream ofStatus(int status) {
        switch (status) {
            case 500: return HTTP_500;
            case 502: return HTTP_502;
            case 503: return HTTP_503;
            case 504: return HTTP_504;
            case 403: return HTTP_403;
            case 404: return HTTP_404;
            case 429: return HTTP_429;
            default: return null;
        }
    }
}
