package dev.lbkit.l7.internal;

import dev.lbkit.api.Upstream;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/** Header helpers shared by the request and response paths. */
final class Headers {
    static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    static final AsciiString FORWARDED = AsciiString.cached("forwarded");

    private Headers() {}

    /**
     * Removes the hop-by-hop fields of RFC 9110 §7.6.1: those named in {@code Connection}, and
     * Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding and Upgrade.
     */
    static void removeHopByHop(HttpHeaders h) {
        int connections = count(h, HttpHeaderNames.CONNECTION);
        if (connections == 1) {
            // The common case, read without a list.
            removeNamedIn(h, h instanceof CompactHeaders ? ((CompactHeaders) h).firstInPlace(HttpHeaderNames.CONNECTION)
                    : h.get(HttpHeaderNames.CONNECTION));
        } else if (connections > 1) {
            for (String v : h.getAll(HttpHeaderNames.CONNECTION)) {
                removeNamedIn(h, v);
            }
        }
        if (connections > 0) {
            h.remove(HttpHeaderNames.CONNECTION);
        }
        h.remove(PROXY_CONNECTION);
        h.remove(KEEP_ALIVE);
        h.remove(HttpHeaderNames.TE);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.UPGRADE);
    }

    /** Removes the fields named in {@code connectionValue}, a comma-separated list of field names. */
    private static void removeNamedIn(HttpHeaders h, CharSequence connectionValue) {
        int start = 0;
        int n = connectionValue.length();
        while (start < n) {
            int end = start;
            while (end < n && connectionValue.charAt(end) != ',') {
                end++;
            }
            int s = start;
            int e = end;
            while (s < e && connectionValue.charAt(s) <= ' ') {
                s++;
            }
            while (e > s && connectionValue.charAt(e - 1) <= ' ') {
                e--;
            }
            if (e > s) {
                if (h instanceof CompactHeaders) {
                    ((CompactHeaders) h).removeNamed(connectionValue, s, e);
                } else {
                    h.remove(connectionValue.subSequence(s, e).toString());
                }
            }
            start = end + 1;
        }
    }

    /** How many fields are named {@code name}; without a list for {@link CompactHeaders}. */
    static int count(HttpHeaders h, CharSequence name) {
        return h instanceof CompactHeaders ? ((CompactHeaders) h).count(name) : h.getAll(name).size();
    }

    /** Whether the field's value is a comma-separated list containing {@code token} (case-insensitive). */
    static boolean containsToken(HttpHeaders h, AsciiString name, String token) {
        for (String v : h.getAll(name)) {
            int start = 0;
            int n = v.length();
            while (start < n) {
                int comma = v.indexOf(',', start);
                int end = comma < 0 ? n : comma;
                if (v.substring(start, end).trim().equalsIgnoreCase(token)) {
                    return true;
                }
                start = end + 1;
            }
        }
        return false;
    }

    /**
     * An upstream's address as a Host value: {@code host:port}, the port left out when it is 80 (RFC 9110
     * §7.2); an IPv6 literal keeps its brackets either way (RFC 3986 §3.2.2).
     */
    static String hostOf(Upstream u) {
        if (u.port() != 80) {
            return u.key();
        }
        // A name or IPv4 literal is its host as given (no copy per request); only IPv6 needs its brackets.
        String host = u.host();
        return host.indexOf(':') < 0 ? host : u.key().substring(0, u.key().length() - 3);
    }

    /**
     * Whether a Host value (or a target's authority) may be passed on, by nginx's rules
     * (ngx_http_validate_host): no white space or control character, no {@code /} or {@code \} (not in
     * an authority, RFC 3986 §3.2) and no empty label ({@code ..}), which an upstream building paths or
     * URLs from the Host could be misled by.
     */
    static boolean validHost(String host) {
        for (int i = 0, n = host.length(); i < n; i++) {
            char c = host.charAt(i);
            if (c <= ' ' || c == 0x7f || c == '/' || c == '\\' || c == '.' && i > 0 && host.charAt(i - 1) == '.') {
                return false;
            }
        }
        return true;
    }

    /**
     * The host part of a Host value: without port and trailing dot, lower case; IPv6 literals keep their
     * brackets.
     */
    static String hostWithoutPort(String host) {
        if (host == null) {
            return null;
        }
        String h = host;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            h = end > 0 ? h.substring(0, end + 1) : h;
        } else {
            int colon = h.indexOf(':');
            if (colon >= 0) {
                h = h.substring(0, colon);
            }
            if (h.length() > 1 && h.charAt(h.length() - 1) == '.') {
                // "example.com." is the same name, fully qualified: nginx drops the dot before matching
                // server names (ngx_http_validate_host).
                h = h.substring(0, h.length() - 1);
            }
        }
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return h.toLowerCase(java.util.Locale.ROOT);
            }
        }
        return h;
    }
}
