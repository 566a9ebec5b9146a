package dev.lbkit.l7;

import dev.lbkit.l7.internal.Rewrites;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One rule of nginx's {@code proxy_cookie_path} or {@code proxy_cookie_domain}: how the {@code Path} or
 * {@code Domain} attribute of the {@code Set-Cookie} headers an upstream sends is rewritten on its way to
 * the client, so that its cookies work through a route that rewrites the path prefix or serves another
 * host (see {@link Route.Builder#cookieRewrite(CookieRewrite)}).
 *
 * <p>A route's rules for one attribute are tried in order on the value of each such attribute (its name in
 * any case, its value without the white space around it); the first that matches rewrites that value,
 * once. Every other byte of the header is sent as it came; a header whose first piece is not a
 * {@code name=value} pair is not touched (as nginx).
 *
 * <ul>
 *   <li>{@link #path(String, String)} ({@code proxy_cookie_path path replacement}): a {@code Path} value
 *       starting with {@code path}, compared exactly, has that prefix replaced by {@code replacement}.
 *   <li>{@link #domain(String, String)} ({@code proxy_cookie_domain domain replacement}): a {@code Domain}
 *       value equal to {@code domain} ignoring ASCII case, one leading dot of the value ignored and kept,
 *       becomes {@code replacement}. As nginx, one leading dot of {@code domain} and of {@code replacement}
 *       is dropped when the rule is made ({@code Domain=.backend.local} with the rule {@code .backend.local}
 *       → {@code example.com} gives {@code Domain=.example.com}).
 *   <li>{@link #regex(Attribute, String, String)} ({@code proxy_cookie_path ~regex replacement}) and
 *       {@link #regexIgnoreCase(Attribute, String, String)} ({@code ~*regex}): when the regex
 *       (java.util.regex) is found in the value (to which {@code ^} and {@code $} anchor), the whole value
 *       is replaced by {@code replacement}, in which {@code $0} to {@code $9} stand for the match's groups
 *       (empty when a group took no part); any other {@code $} is a literal one.
 * </ul>
 *
 * <p>Replacements are literal text (no variables such as nginx's {@code $host}) and may be empty.
 *
 * <p>Immutable and thread-safe; a regex is compiled once, when the rule is made.
 */
public final class CookieRewrite extends RewriteRule {
    /** The {@code Set-Cookie} attribute a rule rewrites. */
    public enum Attribute {
        /** {@code Path}: {@code proxy_cookie_path}. */
        PATH,
        /** {@code Domain}: {@code proxy_cookie_domain}. */
        DOMAIN
    }

    private final Attribute attribute;

    private CookieRewrite(Attribute attribute, String match, String replacement, Pattern pattern) {
        super(match, replacement, pattern);
        this.attribute = attribute;
    }

    /**
     * A rule replacing the prefix {@code path} of a {@code Path} value with {@code replacement}
     * ({@code proxy_cookie_path /two/ /one/}).
     *
     * @throws IllegalArgumentException naming the value if {@code path} is empty, or either has a control
     *     character (other than tab), a character above U+00FF or a {@code ;}
     */
    public static CookieRewrite path(String path, String replacement) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(replacement, "replacement");
        if (path.isEmpty()) {
            throw new IllegalArgumentException("cookie path must not be empty");
        }
        checkValue(path, "cookie path '" + path + "'");
        checkValue(replacement, "cookie path replacement '" + replacement + "'");
        return new CookieRewrite(Attribute.PATH, path, replacement, null);
    }

    /**
     * A rule replacing a {@code Domain} value equal to {@code domain} (any case, a leading dot ignored) with
     * {@code replacement} ({@code proxy_cookie_domain backend.local example.com}).
     *
     * @throws IllegalArgumentException naming the value if {@code domain} is empty (a lone dot included), or
     *     either has a control character (other than tab), a character above U+00FF or a {@code ;}
     */
    public static CookieRewrite domain(String domain, String replacement) {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(replacement, "replacement");
        String d = withoutDot(domain);
        if (d.isEmpty()) {
            throw new IllegalArgumentException("cookie domain must not be empty, got '" + domain + "'");
        }
        checkValue(d, "cookie domain '" + domain + "'");
        checkValue(replacement, "cookie domain replacement '" + replacement + "'");
        return new CookieRewrite(Attribute.DOMAIN, d, withoutDot(replacement), null);
    }

    /**
     * A rule replacing a value of {@code attribute} in which {@code regex} is found with {@code replacement},
     * where {@code $1} … {@code $9} (and {@code $0}, the whole match) are the match's groups
     * ({@code proxy_cookie_path ~^/two/(.*)$ /one/$1}).
     *
     * @throws IllegalArgumentException naming the value if {@code regex} is empty or not a valid
     *     {@link Pattern}, {@code replacement} names a group the regex does not have, or has a control
     *     character (other than tab), a character above U+00FF or a {@code ;}
     */
    public static CookieRewrite regex(Attribute attribute, String regex, String replacement) {
        return regex(attribute, regex, replacement, 0);
    }

    /** As {@link #regex(Attribute, String, String)}, matching ASCII letters ignoring case ({@code ~*regex}). */
    public static CookieRewrite regexIgnoreCase(Attribute attribute, String regex, String replacement) {
        return regex(attribute, regex, replacement, Pattern.CASE_INSENSITIVE);
    }

    private static CookieRewrite regex(Attribute attribute, String regex, String replacement, int flags) {
        Objects.requireNonNull(attribute, "attribute");
        Objects.requireNonNull(regex, "regex");
        Objects.requireNonNull(replacement, "replacement");
        String what = "cookie " + attribute.name().toLowerCase(java.util.Locale.ROOT);
        Pattern p = Rewrites.compile(regex, flags, what);
        checkValue(replacement, what + " replacement '" + replacement + "'");
        Rewrites.template(replacement, p, what);
        return new CookieRewrite(attribute, regex, replacement, p);
    }

    private static String withoutDot(String s) {
        return s.startsWith(".") ? s.substring(1) : s;
    }

    /** An attribute value cannot end the attribute: a {@code ;} would start another (or inject one). */
    private static void checkValue(String value, String what) {
        HeaderRules.Builder.checkFieldContent(value, what);
        if (value.indexOf(';') >= 0) {
            throw new IllegalArgumentException(what + " has a ';'");
        }
    }

    /** Which attribute the rule rewrites. */
    public Attribute attribute() {
        return attribute;
    }

    /** The path prefix, the domain (without a leading dot) or the regex. */
    public String match() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CookieRewrite)) {
            return false;
        }
        return attribute == ((CookieRewrite) o).attribute && sameRule((CookieRewrite) o);
    }

    @Override
    public int hashCode() {
        return 31 * attribute.hashCode() + ruleHash();
    }

    @Override
    public String toString() {
        String directive = attribute == Attribute.PATH ? "proxy_cookie_path " : "proxy_cookie_domain ";
        return directive + regexMark() + text + " " + replacement;
    }
}
