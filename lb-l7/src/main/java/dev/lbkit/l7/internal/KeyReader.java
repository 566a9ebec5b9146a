package dev.lbkit.l7.internal;

import dev.lbkit.l7.HashKey;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * Reads a {@link HashKey}'s text from a request in place, without copying: the one key reader of lb-l7,
 * for a group's hash key ({@link Affinity}) and for a route's limits ({@link RouteLimits}). Immutable and
 * thread-safe; {@link #read} allocates nothing.
 */
final class KeyReader {
    private static final AsciiString COOKIE = HttpHeaderNames.COOKIE;

    final HashKey.Kind kind;
    /** The header, cookie or parameter name of the key; null for the other kinds. */
    private final AsciiString name;

    KeyReader(HashKey key) {
        this.kind = key.kind();
        this.name = key.name().map(AsciiString::cached).orElse(null);
    }

    /**
     * Sets {@code out} to the request's key; false when the request has none or it is empty, and always
     * for {@link HashKey.Kind#CLIENT_ADDRESS}, whose key is the client's address, not a text.
     *
     * @param requestUri the request target as the client sent it (origin form)
     * @param path       the normalised path; {@code query} says whether it still ends with the query
     */
    boolean read(KeySpan out, String requestUri, String path, boolean query, HttpHeaders h) {
        switch (kind) {
            case REQUEST_URI -> {
                return out.set(requestUri, 0, requestUri.length());
            }
            case PATH -> {
                int q = query ? path.indexOf('?') : -1;
                return out.set(path, 0, q < 0 ? path.length() : q);
            }
            case HEADER -> {
                CharSequence v = h instanceof CompactHeaders ? ((CompactHeaders) h).firstInPlace(name) : h.get(name);
                return v != null && out.set(v, 0, v.length());
            }
            case COOKIE -> {
                return cookie(out, h);
            }
            case QUERY_PARAMETER -> {
                long r = queryParameter(requestUri, name);
                return r >= 0 && out.set(requestUri, (int) (r >>> 32), (int) r);
            }
            default -> {
                return false;
            }
        }
    }

    private boolean cookie(KeySpan out, HttpHeaders h) {
        if (h instanceof CompactHeaders) {
            CompactHeaders c = (CompactHeaders) h;
            for (int i = c.indexOfName(COOKIE, 0); i >= 0; i = c.indexOfName(COOKIE, i + 1)) {
                CharSequence v = c.valueInPlace(i);
                long r = Cookies.find(v, name);
                if (r >= 0) {
                    return out.set(v, (int) (r >>> 32), (int) r);
                }
            }
            return false;
        }
        for (String v : h.getAll(COOKIE)) {
            long r = Cookies.find(v, name);
            if (r >= 0) {
                return out.set(v, (int) (r >>> 32), (int) r);
            }
        }
        return false;
    }

    /**
     * The value of the first query parameter named {@code name} in {@code uri} ({@code name=value} pairs
     * after the first {@code ?}, split at {@code &}, up to a {@code #}), as {@code start << 32 | end}, or
     * -1. A pair without {@code =} has the empty value. Allocation-free; never throws.
     */
    static long queryParameter(CharSequence uri, CharSequence name) {
        int n = uri.length();
        int q = 0;
        while (q < n && uri.charAt(q) != '?') {
            q++;
        }
        int end = q;
        while (end < n && uri.charAt(end) != '#') {
            end++;
        }
        int len = name.length();
        int start = q + 1;
        while (start <= end) {
            int amp = start;
            while (amp < end && uri.charAt(amp) != '&') {
                amp++;
            }
            int eq = start;
            while (eq < amp && uri.charAt(eq) != '=') {
                eq++;
            }
            if (eq - start == len && regionEquals(uri, start, name)) {
                return eq < amp ? (long) (eq + 1) << 32 | amp : (long) amp << 32 | amp;
            }
            start = amp + 1;
        }
        return -1;
    }

    private static boolean regionEquals(CharSequence s, int at, CharSequence name) {
        for (int i = 0, len = name.length(); i < len; i++) {
            if (s.charAt(at + i) != name.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
