package dev.lbkit.l7;

import dev.lbkit.l7.internal.Cookies;
import java.util.Objects;
import java.util.Optional;

/**
 * What a request's hash key is, for an {@link UpstreamGroup} whose pool has a hash scheduler ({@code dh},
 * {@code mh}, {@code ring}): nginx's {@code hash $key [consistent]} in an {@code upstream} block, HAProxy's
 * {@code balance uri}, {@code balance hdr(name)} and {@code balance url_param}. Other schedulers ignore the
 * key.
 *
 * <p>The same keys count requests for a route's {@link RequestRateLimit} and {@link ConcurrencyLimit}
 * (nginx's {@code limit_req_zone key} and {@code limit_conn_zone key}), read by the same code; there a
 * request without the key is not limited at all, as nginx does not account an empty key.
 *
 * <p>The key's text is hashed in place for every request (lb-api's {@code PickContext.hashKey}), without
 * copying it. <b>A request without the key</b> (no such header, cookie or query parameter, or an empty
 * value) is placed by the pool's round robin (smooth weighted, lb-api's {@code PickContext.hashKeyMissing}),
 * not by any hash: nginx's {@code hash} sends an empty key to round robin, and HAProxy's {@code hdr()} and
 * {@code url_param} fall back to round robin too. Such requests spread over the upstreams, one after the
 * other; a client that must stay on one upstream without a key wants {@link #clientAddress()} or a
 * {@link StickyCookie}. A retry ({@link RetryPolicy}) keeps the key, or its absence, and the schedulers
 * skip the upstreams already tried.
 *
 * <p>Immutable and thread-safe; equal when of the same kind and name.
 */
public final class HashKey {
    /** Where the key comes from. */
    public enum Kind {
        /** The client's address (the default: nginx's {@code ip_hash}, HAProxy's {@code balance source}). */
        CLIENT_ADDRESS,
        /** Path and query as the client sent them, nginx's {@code $request_uri}. */
        REQUEST_URI,
        /** The normalised path without the query, nginx's {@code $uri} before any rewrite. */
        PATH,
        /** A request header's value. */
        HEADER,
        /** A cookie's value. */
        COOKIE,
        /** A query parameter's value. */
        QUERY_PARAMETER
    }

    private static final HashKey CLIENT_ADDRESS = new HashKey(Kind.CLIENT_ADDRESS, null);
    private static final HashKey REQUEST_URI = new HashKey(Kind.REQUEST_URI, null);
    private static final HashKey PATH = new HashKey(Kind.PATH, null);

    private final Kind kind;
    private final String name;

    private HashKey(Kind kind, String name) {
        this.kind = kind;
        this.name = name;
    }

    /**
     * The client address (the default, as lb-l7 always did; {@code PickContext.clientAddress}): the
     * request's, as a listener's {@link RealIp} takes it from a header, else the connection's.
     */
    public static HashKey clientAddress() {
        return CLIENT_ADDRESS;
    }

    /** Path and query as the client sent them (nginx {@code hash $request_uri}, HAProxy {@code balance uri}). */
    public static HashKey requestUri() {
        return REQUEST_URI;
    }

    /**
     * The path without the query, normalised as routes match it (percent-escapes decoded, repeated
     * slashes merged, dot segments resolved): nginx {@code hash $uri} before any rewrite; HAProxy's
     * {@code balance uri path-only} hashes the path as sent.
     */
    public static HashKey path() {
        return PATH;
    }

    /**
     * The value of the request's first header field named {@code name} (compared ignoring case): nginx
     * {@code hash $http_name}, HAProxy {@code balance hdr(name)}.
     *
     * @throws IllegalArgumentException if {@code name} is not a token (RFC 9110 §5.6.2), empty included
     */
    public static HashKey header(String name) {
        return new HashKey(Kind.HEADER, Cookies.checkToken(name, "header name", "RFC 9110 §5.6.2"));
    }

    /**
     * The value of the first cookie named {@code name} (compared exactly) in the request's Cookie fields:
     * nginx {@code hash $cookie_name}. The value is hashed as sent, double quotes included.
     *
     * @throws IllegalArgumentException if {@code name} is not a token (RFC 6265 §4.1.1), empty included
     */
    public static HashKey cookie(String name) {
        return new HashKey(Kind.COOKIE, Cookies.checkToken(name, "cookie name", "RFC 6265 §4.1.1"));
    }

    /**
     * The value of the first query parameter named {@code name} ({@code name=value} pairs separated by
     * {@code &}; the name compared exactly, the value hashed as sent, not percent-decoded): HAProxy
     * {@code balance url_param name}; nginx's {@code $arg_name} compares the name ignoring case.
     *
     * @throws IllegalArgumentException if {@code name} is empty or has a character that cannot appear
     *     unescaped in a parameter's name ({@code & = # ?}, space or a control character)
     */
    public static HashKey queryParameter(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("query parameter name must not be empty");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '&' || c == '=' || c == '#' || c == '?') {
                throw new IllegalArgumentException("query parameter name '" + name + "' has an invalid character at "
                        + i);
            }
        }
        return new HashKey(Kind.QUERY_PARAMETER, name);
    }

    public Kind kind() {
        return kind;
    }

    /** The header, cookie or parameter name; empty for the other kinds. */
    public Optional<String> name() {
        return Optional.ofNullable(name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HashKey && ((HashKey) o).kind == kind && Objects.equals(((HashKey) o).name, name);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Objects.hashCode(name);
    }

    @Override
    public String toString() {
        return name == null ? kind.name().toLowerCase(java.util.Locale.ROOT)
                : kind.name().toLowerCase(java.util.Locale.ROOT) + "(" + name + ")";
    }
}
