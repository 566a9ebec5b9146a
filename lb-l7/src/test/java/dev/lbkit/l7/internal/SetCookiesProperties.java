package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.l7.CookieFlags;
import dev.lbkit.l7.CookieRewrite;
import dev.lbkit.l7.StickyCookie;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link SetCookies}' scanning and rewriting against a plain reading of a Set-Cookie value (split at every
 * {@code ;}, names and values trimmed of spaces and tabs): only the bytes of a rewritten value, a removed
 * attribute or an added one change, and no text makes it throw.
 */
class SetCookiesProperties {
    private static final List<String> PIECES = List.of("a", "sid", "=", "=", ";", ";", " ", "\t", "Path", "path",
            "PATH", "Domain", "domain", ".", "/two/", "/TWO/", "x/", "backend.local", "Backend.LOCAL", "Secure",
            "secure", "HttpOnly", "SameSite", "=lax", "=None", "\"", ",", "é");

    @Provide
    Arbitrary<String> values() {
        return Arbitraries.of(PIECES).list().ofMaxSize(14).map(l -> String.join("", l));
    }

    /** Every kind of rule at once. */
    private static final SetCookies ALL = SetCookies.of(List.of(CookieRewrite.path("/two/", "/one/"),
            CookieRewrite.regex(CookieRewrite.Attribute.PATH, "(x)?/$", "[$1]"),
            CookieRewrite.domain("backend.local", "example.com"),
            CookieRewrite.regexIgnoreCase(CookieRewrite.Attribute.DOMAIN, "^\\.?(.*)$", "$1.b")),
            List.of(CookieFlags.cookie("sid").secure().httpOnly().sameSite(StickyCookie.SameSite.STRICT).build(),
                    CookieFlags.cookieRegex(".").noSecure().noHttpOnly().noSameSite().build()));

    @Property(tries = 2000)
    void anyTextIsScannedWithoutThrowing(@ForAll String any, @ForAll("values") String value) {
        Rewrites.Matchers m = new Rewrites.Matchers();
        ALL.rewrite(any, m);
        ALL.rewrite(value, m);
    }

    private static boolean ows(char c) {
        return c == ' ' || c == '\t';
    }

    private static String trim(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && ows(s.charAt(a))) {
            a++;
        }
        while (b > a && ows(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }

    /** The value's pieces at {@code ;}, or null when its first piece is not a pair (nothing is touched). */
    private static String[] pieces(String value) {
        String[] p = value.split(";", -1);
        return p[0].indexOf('=') < 0 ? null : p;
    }

    @Property(tries = 2000)
    void aPathRuleChangesOnlyTheBytesOfPathValuesItMatches(@ForAll("values") String value) {
        SetCookies rules = SetCookies.of(List.of(CookieRewrite.path("/two/", "/one/")), List.of());
        String got = rules.rewrite(value, new Rewrites.Matchers());
        String[] p = pieces(value);
        String expected = value;
        if (p != null) {
            for (int i = 1; i < p.length; i++) {
                int eq = p[i].indexOf('=');
                if (eq >= 0 && trim(p[i].substring(0, eq)).equalsIgnoreCase("path")) {
                    String v = p[i].substring(eq + 1);
                    int vs = 0;
                    while (vs < v.length() && ows(v.charAt(vs))) {
                        vs++;
                    }
                    if (v.startsWith("/two/", vs)) {
                        p[i] = p[i].substring(0, eq + 1) + v.substring(0, vs) + "/one/" + v.substring(vs + 5);
                    }
                }
            }
            expected = String.join(";", p);
        }
        assertEquals(expected, got == null ? value : got);
    }

    @Property(tries = 2000)
    void removedFlagsTakeTheirSemicolonAndNothingElse(@ForAll("values") String value) {
        SetCookies rules = SetCookies.of(List.of(), List.of(CookieFlags.cookieRegex("[^ \t]").noSecure().build()));
        String got = rules.rewrite(value, new Rewrites.Matchers());
        String[] p = pieces(value);
        String expected = value;
        if (p != null && !trim(p[0].substring(0, p[0].indexOf('='))).isEmpty()) {
            List<String> kept = new ArrayList<>(List.of(p[0]));
            for (int i = 1; i < p.length; i++) {
                int eq = p[i].indexOf('=');
                if (!trim(eq < 0 ? p[i] : p[i].substring(0, eq)).equalsIgnoreCase("secure")) {
                    kept.add(p[i]);
                }
            }
            expected = String.join(";", kept);
        }
        assertEquals(expected, got == null ? value : got);
    }

    @Property(tries = 2000)
    void addedFlagsGoToTheEndOnlyWhenMissing(@ForAll("values") String tail) {
        String value = "sid=1" + (tail.startsWith(";") ? tail : ";" + tail);
        SetCookies rules = SetCookies.of(List.of(), List.of(CookieFlags.cookie("SID").httpOnly().build()));
        String got = rules.rewrite(value, new Rewrites.Matchers());
        boolean has = false;
        for (String piece : value.split(";", -1)) {
            int eq = piece.indexOf('=');
            has |= trim(eq < 0 ? piece : piece.substring(0, eq)).equalsIgnoreCase("httponly");
        }
        assertEquals(has ? value : value + "; HttpOnly", got == null ? value : got);
    }
}
