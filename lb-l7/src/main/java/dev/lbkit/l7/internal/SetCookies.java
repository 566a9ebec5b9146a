package dev.lbkit.l7.internal;

import dev.lbkit.l7.CookieFlags;
import dev.lbkit.l7.CookieRewrite;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A route's {@code proxy_cookie_path}, {@code proxy_cookie_domain} and {@code proxy_cookie_flags} rules
 * ({@link CookieRewrite}, {@link CookieFlags}) in the form a response head uses: each {@code Set-Cookie}
 * field is scanned where it is ({@code name=value} then {@code ;}-separated attributes, names trimmed of
 * spaces and tabs and compared ignoring case, values trimmed), {@code Path} and {@code Domain} values are
 * rewritten by the rules' {@link Rewrites}, flags added or removed. Only the bytes of what changes change;
 * a field that changes becomes one new String, one that does not costs no allocation. Never throws on any
 * text. Immutable and thread-safe.
 */
public final class SetCookies implements Rewrites.Field {
    private static final AsciiString SET_COOKIE = HttpHeaderNames.SET_COOKIE;
    private static final int SECURE = 1;
    private static final int HTTP_ONLY = 2;
    private static final int SAME_SITE = 4;

    /** Null when no rule rewrites that attribute. */
    private final Rewrites paths;
    private final Rewrites domains;
    private final FlagRule[] flags;

    private SetCookies(Rewrites paths, Rewrites domains, FlagRule[] flags) {
        this.paths = paths;
        this.domains = domains;
        this.flags = flags;
    }

    /** The rules compiled, or null when there are none (the default), so that a head does not look for the field. */
    static SetCookies of(List<CookieRewrite> rewrites, List<CookieFlags> flags) {
        List<Rewrites.Rule> paths = new ArrayList<>();
        List<Rewrites.Rule> domains = new ArrayList<>();
        for (CookieRewrite r : rewrites) {
            Rewrites.Rule rule = r.pattern().isPresent() ? Rewrites.Rule.regex(r.pattern().get(), r.replacement())
                    : r.attribute() == CookieRewrite.Attribute.PATH ? Rewrites.Rule.prefix(r.match(), 0, r.replacement())
                    : Rewrites.Rule.whole(r.match(), r.replacement());
            (r.attribute() == CookieRewrite.Attribute.PATH ? paths : domains).add(rule);
        }
        FlagRule[] f = new FlagRule[flags.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = new FlagRule(flags.get(i));
        }
        if (paths.isEmpty() && domains.isEmpty() && f.length == 0) {
            return null;
        }
        return new SetCookies(Rewrites.of(paths), Rewrites.of(domains), f);
    }

    /** Rewrites every {@code Set-Cookie} field of {@code h}, each on its own and in its place. */
    void apply(HttpHeaders h, Rewrites.Matchers matchers) {
        Rewrites.apply(h, SET_COOKIE, SET_COOKIE, this, matchers);
    }

    @Override
    public String rewrite(boolean first, CharSequence value, Rewrites.Matchers matchers) {
        return rewrite(value, matchers);
    }

    /** {@code v} as the rules rewrite it, or null when nothing changes. */
    String rewrite(CharSequence v, Rewrites.Matchers matchers) {
        int n = v.length();
        int semi = Cookies.indexOf(v, ';', 0, n);
        int eq = Cookies.indexOf(v, '=', 0, semi < 0 ? n : semi);
        if (eq < 0) {
            // Not a name=value pair: nginx leaves such a field alone.
            return null;
        }
        int nameStart = trimStart(v, 0, eq);
        FlagRule flag = flagRule(v, nameStart, trimEnd(v, nameStart, eq), matchers);
        int toAdd = flag == null ? 0 : flag.add;
        StringBuilder out = null;
        int copied = 0;
        for (int start = semi; start >= 0 && start < n; ) {
            // The attribute v[start + 1, end), start at its ';'.
            int next = Cookies.indexOf(v, ';', start + 1, n);
            int end = next < 0 ? n : next;
            int eqAt = Cookies.indexOf(v, '=', start + 1, end);
            int ns = trimStart(v, start + 1, eqAt < 0 ? end : eqAt);
            int ne = trimEnd(v, ns, eqAt < 0 ? end : eqAt);
            int vs = eqAt < 0 ? end : trimStart(v, eqAt + 1, end);
            int ve = eqAt < 0 ? end : trimEnd(v, vs, end);
            Rewrites rules = eqAt < 0 ? null : equalsIgnoreCase(v, ns, ne, "path") ? paths : equalsIgnoreCase(v, ns, ne, "domain") ? domains : null;
            if (rules != null) {
                int r = rules.find(v, vs, ve, matchers);
                if (r >= 0) {
                    out = started(out, v);
                    out.append(v, copied, vs);
                    rules.append(r, v, vs, ve, matchers, out);
                    copied = ve;
                }
            } else if (flag != null) {
                int bit = equalsIgnoreCase(v, ns, ne, "secure") ? SECURE : equalsIgnoreCase(v, ns, ne, "httponly") ? HTTP_ONLY
                        : equalsIgnoreCase(v, ns, ne, "samesite") ? SAME_SITE : 0;
                if ((flag.remove & bit) != 0) {
                    // The attribute goes with the ';' before it.
                    out = started(out, v);
                    out.append(v, copied, start);
                    copied = end;
                } else if ((toAdd & bit) != 0) {
                    toAdd &= ~bit;
                    if (bit == SAME_SITE && !equalsIgnoreCase(v, vs, ve, flag.sameSite)) {
                        out = started(out, v);
                        out.append(v, copied, ns).append("SameSite=").append(flag.sameSite);
                        copied = eqAt < 0 ? ne : ve;
                    }
                }
            }
            start = next;
        }
        if (toAdd != 0) {
            out = started(out, v);
            out.append(v, copied, n);
            copied = n;
            if ((toAdd & SECURE) != 0) {
                out.append("; Secure");
            }
            if ((toAdd & HTTP_ONLY) != 0) {
                out.append("; HttpOnly");
            }
            if ((toAdd & SAME_SITE) != 0) {
                out.append("; SameSite=").append(flag.sameSite);
            }
        }
        return out == null ? null : out.append(v, copied, n).toString();
    }

    private static StringBuilder started(StringBuilder out, CharSequence v) {
        return out != null ? out : new StringBuilder(v.length() + 16);
    }

    /** The first flags rule naming the cookie {@code v[from, to)}, or null. */
    private FlagRule flagRule(CharSequence v, int from, int to, Rewrites.Matchers matchers) {
        for (FlagRule f : flags) {
            if (f.pattern != null) {
                Matcher m = matchers.matcher(f.pattern);
                if (m.reset(v).region(from, to).find()) {
                    return f;
                }
            } else if (equalsIgnoreCase(v, from, to, f.name)) {
                return f;
            }
        }
        return null;
    }

    private static int trimStart(CharSequence v, int from, int to) {
        while (from < to && Cookies.ows(v.charAt(from))) {
            from++;
        }
        return from;
    }

    private static int trimEnd(CharSequence v, int from, int to) {
        while (to > from && Cookies.ows(v.charAt(to - 1))) {
            to--;
        }
        return to;
    }

    /** Whether {@code v[from, to)} is {@code s} ignoring ASCII case. */
    private static boolean equalsIgnoreCase(CharSequence v, int from, int to, String s) {
        if (to - from != s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (AsciiString.toLowerCase(v.charAt(from + i)) != AsciiString.toLowerCase(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** A {@link CookieFlags} as bits, read without allocating. */
    private static final class FlagRule {
        final String name;
        final Pattern pattern;
        final int add;
        final int remove;
        /** The SameSite value to set, as written ({@code Lax}), or null. */
        final String sameSite;

        FlagRule(CookieFlags f) {
            this.pattern = f.pattern().orElse(null);
            this.name = f.cookieName();
            this.add = bit(f.secure(), CookieFlags.Change.ADD, SECURE) | bit(f.httpOnly(), CookieFlags.Change.ADD, HTTP_ONLY)
                    | bit(f.sameSite(), CookieFlags.Change.ADD, SAME_SITE);
            this.remove = bit(f.secure(), CookieFlags.Change.REMOVE, SECURE)
                    | bit(f.httpOnly(), CookieFlags.Change.REMOVE, HTTP_ONLY)
                    | bit(f.sameSite(), CookieFlags.Change.REMOVE, SAME_SITE);
            this.sameSite = f.sameSiteValue().map(s -> s.text()).orElse(null);
        }

        private static int bit(CookieFlags.Change c, CookieFlags.Change which, int bit) {
            return c == which ? bit : 0;
        }
    }
}
