package dev.lbkit.l7.internal;

/**
 * Cookie field scanning in place (RFC 6265 §4.2.1 {@code name=value; name2=value2}), tolerant as browsers
 * and servers are: a field is split at {@code ;}, each piece is a pair split at its first {@code =}, and
 * name and value are trimmed of spaces and tabs; a piece without {@code =} is no pair. Names compare
 * exactly. Never throws on any text, allocates nothing except {@link #remove}'s result.
 */
public final class Cookies {
    private Cookies() {}

    /** Whether {@code s} is a non-empty token (RFC 9110 §5.6.2: tchar, which RFC 6265 cookie names are). */
    public static boolean isToken(CharSequence s) {
        int n = s.length();
        if (n == 0) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (!isTchar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code name} if it is a token, else an {@link IllegalArgumentException} naming {@code what}, the
     * value and the rule (for configuration: header and cookie names).
     */
    public static String checkToken(String name, String what, String rule) {
        java.util.Objects.requireNonNull(name, what);
        if (!isToken(name)) {
            throw new IllegalArgumentException(what + " '" + name + "' is not a token (" + rule + ")"
                    + (name.isEmpty() ? ": empty" : ""));
        }
        return name;
    }

    private static boolean isTchar(char c) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return true;
        }
        return c < 0x7f && "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    static boolean ows(char c) {
        return c == ' ' || c == '\t';
    }

    /**
     * The value of the first pair named {@code name} in {@code v}, as {@code start << 32 | end} (its range
     * in {@code v}, trimmed), or -1 when there is none.
     */
    static long find(CharSequence v, CharSequence name) {
        int n = v.length();
        int start = 0;
        while (start <= n) {
            int semi = indexOf(v, ';', start, n);
            int end = semi < 0 ? n : semi;
            long value = valueIfNamed(v, start, end, name);
            if (value >= 0) {
                return value;
            }
            start = end + 1;
        }
        return -1;
    }

    /** The trimmed value range of the piece {@code v[start, end)} if it is a pair named {@code name}, else -1. */
    private static long valueIfNamed(CharSequence v, int start, int end, CharSequence name) {
        int eq = indexOf(v, '=', start, end);
        if (eq < 0) {
            return -1;
        }
        int ns = start;
        int ne = eq;
        while (ns < ne && ows(v.charAt(ns))) {
            ns++;
        }
        while (ne > ns && ows(v.charAt(ne - 1))) {
            ne--;
        }
        int len = name.length();
        if (ne - ns != len) {
            return -1;
        }
        for (int i = 0; i < len; i++) {
            if (v.charAt(ns + i) != name.charAt(i)) {
                return -1;
            }
        }
        int vs = eq + 1;
        int ve = end;
        while (vs < ve && ows(v.charAt(vs))) {
            vs++;
        }
        while (ve > vs && ows(v.charAt(ve - 1))) {
            ve--;
        }
        return (long) vs << 32 | ve;
    }

    static int indexOf(CharSequence v, char c, int from, int to) {
        for (int i = from; i < to; i++) {
            if (v.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }

    /**
     * {@code v} without its pairs named {@code name}: the other pieces joined by {@code ;} as they were,
     * byte for byte, except that the white space which followed a removed first piece's {@code ;} goes
     * too. {@code null} when {@code v} has no such pair (nothing to change); the empty string when nothing
     * but white space is left.
     */
    static String remove(CharSequence v, CharSequence name) {
        int n = v.length();
        StringBuilder out = null;
        int start = 0;
        int kept = 0;
        while (start <= n) {
            int semi = indexOf(v, ';', start, n);
            int end = semi < 0 ? n : semi;
            if (valueIfNamed(v, start, end, name) >= 0) {
                if (out == null) {
                    out = new StringBuilder(n);
                    for (int i = 0; i < start - 1; i++) {
                        out.append(v.charAt(i));
                    }
                    kept = start > 0 ? 1 : 0;
                }
            } else if (out != null) {
                int from = start;
                if (kept > 0) {
                    out.append(';');
                } else {
                    while (from < end && ows(v.charAt(from))) {
                        from++;
                    }
                }
                for (int i = from; i < end; i++) {
                    out.append(v.charAt(i));
                }
                kept++;
            }
            start = end + 1;
        }
        if (out == null) {
            return null;
        }
        for (int i = 0; i < out.length(); i++) {
            if (!ows(out.charAt(i))) {
                return out.toString();
            }
        }
        return "";
    }
}
