package dev.lbkit.l7.internal;

/**
 * The request path as nginx matches it against locations: without the query, percent-escapes decoded,
 * repeated slashes merged, and {@code .} and {@code ..} segments resolved. Without this a prefix route
 * could be bypassed ({@code /public/../admin/} is {@code /admin/}).
 */
final class Paths {
    /** Upper-case hex digits, for percent escapes here and the access log's {@code \xHH}. */
    static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Paths() {}

    /**
     * The normalized path of an origin-form target, or {@code null} when it is invalid (a bad or control
     * escape, or {@code ..} above the root). Returns {@code target} itself when nothing needs changing,
     * so that the common case allocates nothing; the query is left on then (no prefix contains {@code ?}).
     */
    static String normalize(String target) {
        int q = target.indexOf('?');
        int end = q < 0 ? target.length() : q;
        boolean plain = true;
        for (int i = 1; i < end && plain; i++) {
            char c = target.charAt(i);
            char p = target.charAt(i - 1);
            if (c == '%' || p == '/' && (c == '.' || c == '/')) {
                plain = false;
            }
        }
        if (plain && target.charAt(0) != '%') {
            return target;
        }
        StringBuilder decoded = new StringBuilder(end);
        for (int i = 0; i < end; i++) {
            char c = target.charAt(i);
            if (c == '%') {
                if (i + 2 >= end) {
                    return null;
                }
                int hi = Character.digit(target.charAt(i + 1), 16);
                int lo = Character.digit(target.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                char d = (char) (hi << 4 | lo);
                if (d < 0x20 || d == 0x7f) {
                    return null;
                }
                decoded.append(d);
                i += 2;
            } else {
                decoded.append(c);
            }
        }
        StringBuilder out = new StringBuilder(decoded.length());
        int n = decoded.length();
        int i = 0;
        while (i < n) {
            while (i < n && decoded.charAt(i) == '/') {
                i++;
            }
            int start = i;
            while (i < n && decoded.charAt(i) != '/') {
                i++;
            }
            String seg = decoded.substring(start, i);
            boolean last = i >= n;
            if (seg.equals(".")) {
                if (last) {
                    out.append('/');
                }
            } else if (seg.equals("..")) {
                int slash = out.lastIndexOf("/");
                if (slash < 0) {
                    return null;
                }
                out.setLength(slash);
                if (last) {
                    out.append('/');
                }
            } else if (!seg.isEmpty()) {
                out.append('/').append(seg);
            } else if (last) {
                out.append('/');
            }
        }
        if (out.length() == 0 || out.charAt(0) != '/') {
            out.insert(0, '/');
        }
        return out.toString();
    }

    /**
     * {@code prefix}, then {@code path} (normalized, so decoded) from {@code from} escaped as nginx escapes
     * a URI it sends upstream (ngx_escape_uri's NGX_ESCAPE_URI: controls, space, {@code #}, {@code %},
     * {@code ?}, DEL and bytes above 0x7F), then {@code query}.
     */
    static String rewrite(String prefix, String path, int from, String query) {
        StringBuilder sb = new StringBuilder(prefix.length() + path.length() - from + query.length() + 8);
        sb.append(prefix);
        for (int i = from; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c == '#' || c == '%' || c == '?' || c >= 0x7f) {
                // A decoded path holds one byte per char (escapes decode to bytes, the target is Latin-1).
                sb.append('%').append(HEX[c >> 4 & 0xf]).append(HEX[c & 0xf]);
            } else {
                sb.append(c);
            }
        }
        return sb.append(query).toString();
    }
}
