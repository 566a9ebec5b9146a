package dev.lbkit.l7;

import dev.lbkit.l7.internal.Rewrites;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One rule of nginx's {@code proxy_redirect}: how the {@code Location} and {@code Refresh} response headers
 * an upstream sends are rewritten on their way to the client, so that its redirects point through the
 * route (see {@link Route.Builder#redirect(RedirectRewrite)}).
 *
 * <p>A rule is tried on a {@code Location} value, and on the URL of a {@code Refresh} value (what follows
 * its first {@code url=}, case-insensitively, as nginx); a route's rules are tried in order and the first
 * that matches rewrites the value, once. A value no rule matches is sent as it came, byte for byte.
 *
 * <ul>
 *   <li>{@link #prefix(String, String)} ({@code proxy_redirect redirect replacement}): a value starting with
 *       {@code redirect} has that prefix replaced by {@code replacement}. The scheme and host part of
 *       {@code redirect} ({@code http://Backend:8080}, up to the first {@code /} after {@code ://}) is
 *       compared ignoring ASCII case, the rest exactly (nginx compares all of it exactly; RFC 3986 §6.2.2.1
 *       makes scheme and host case-insensitive).
 *   <li>{@link #regex(String, String)} ({@code proxy_redirect ~regex replacement}) and
 *       {@link #regexIgnoreCase(String, String)} ({@code ~*regex}): when the regex (java.util.regex) is found
 *       anywhere in the value, the whole value (of a Refresh, its URL) is replaced by {@code replacement},
 *       in which {@code $0} to {@code $9} stand for the match's groups (empty when a group took no part);
 *       any other {@code $} is a literal one.
 *   <li>{@link #DEFAULT} ({@code proxy_redirect default}): the prefix rule the route implies (see
 *       {@link #DEFAULT}).
 * </ul>
 *
 * <p>Replacements are literal text (no variables such as nginx's {@code $host}) and may be empty; a
 * relative result stays relative (nginx makes a rewritten relative {@code Location} absolute with
 * {@code absolute_redirect}; RFC 9110 §10.2.2 allows a relative one).
 *
 * <p>Immutable and thread-safe; a regex is compiled once, when the rule is made.
 */
public final class RedirectRewrite extends RewriteRule {
    /** What a rule matches with. */
    public enum Kind {
        /** {@code proxy_redirect default}: the route's own prefix rule, see {@link RedirectRewrite#DEFAULT}. */
        DEFAULT,
        /** {@code proxy_redirect redirect replacement}: a prefix. */
        PREFIX,
        /** {@code proxy_redirect ~regex replacement} or {@code ~*regex}: a regex found anywhere in the value. */
        REGEX
    }

    /**
     * nginx's {@code proxy_redirect default}, every route's only rule unless others are given: on a route
     * whose group is named {@code backend} ({@link UpstreamGroup#name()}, which {@link HostHeader#groupName()}
     * sends as Host), the prefix rule {@code http://backend/two/} → {@code /one/} when the route rewrites its
     * prefix {@code /one/} to {@code /two/} ({@link Route.Builder#rewritePrefix}), {@code http://backend/} →
     * {@code /} when it does not; {@code https://} when the group connects over TLS. As lbkit keeps the
     * client's Host by default ({@link HostHeader#preserve()}), an upstream that builds its redirects from the
     * Host names the client's host, which this rule leaves alone: add a rule for that host, or a regex.
     */
    public static final RedirectRewrite DEFAULT = new RedirectRewrite(Kind.DEFAULT, "", "", null);

    private final Kind kind;

    private RedirectRewrite(Kind kind, String redirect, String replacement, Pattern pattern) {
        super(redirect, replacement, pattern);
        this.kind = kind;
    }

    /**
     * A rule replacing the prefix {@code redirect} of a value with {@code replacement}
     * ({@code proxy_redirect http://backend/two/ /one/}).
     *
     * @throws IllegalArgumentException naming the value if {@code redirect} is empty or either has a control
     *     character (other than tab) or a character above U+00FF
     */
    public static RedirectRewrite prefix(String redirect, String replacement) {
        Objects.requireNonNull(redirect, "redirect");
        Objects.requireNonNull(replacement, "replacement");
        if (redirect.isEmpty()) {
            throw new IllegalArgumentException("redirect prefix must not be empty");
        }
        HeaderRules.Builder.checkFieldContent(redirect, "redirect prefix '" + redirect + "'");
        HeaderRules.Builder.checkFieldContent(replacement, "redirect replacement '" + replacement + "'");
        return new RedirectRewrite(Kind.PREFIX, redirect, replacement, null);
    }

    /**
     * A rule replacing a value in which {@code regex} is found with {@code replacement}, where {@code $1}
     * … {@code $9} (and {@code $0}, the whole match) are the match's groups
     * ({@code proxy_redirect ~^http://[^/]+/two/(.*)$ /one/$1}).
     *
     * @throws IllegalArgumentException naming the value if {@code regex} is empty or not a valid
     *     {@link Pattern}, {@code replacement} names a group the regex does not have, or has a control
     *     character (other than tab) or a character above U+00FF
     */
    public static RedirectRewrite regex(String regex, String replacement) {
        return regex(regex, replacement, 0);
    }

    /** As {@link #regex(String, String)}, matching ASCII letters ignoring case ({@code proxy_redirect ~*regex}). */
    public static RedirectRewrite regexIgnoreCase(String regex, String replacement) {
        return regex(regex, replacement, Pattern.CASE_INSENSITIVE);
    }

    private static RedirectRewrite regex(String regex, String replacement, int flags) {
        Objects.requireNonNull(regex, "regex");
        Objects.requireNonNull(replacement, "replacement");
        Pattern p = Rewrites.compile(regex, flags, "redirect");
        HeaderRules.Builder.checkFieldContent(replacement, "redirect replacement '" + replacement + "'");
        Rewrites.template(replacement, p, "redirect");
        return new RedirectRewrite(Kind.REGEX, regex, replacement, p);
    }

    /** Which kind of rule this is. */
    public Kind kind() {
        return kind;
    }

    /** The prefix ({@link Kind#PREFIX}) or the regex ({@link Kind#REGEX}); empty for {@link #DEFAULT}. */
    public String redirect() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RedirectRewrite)) {
            return false;
        }
        return kind == ((RedirectRewrite) o).kind && sameRule((RedirectRewrite) o);
    }

    @Override
    public int hashCode() {
        return 31 * kind.hashCode() + ruleHash();
    }

    @Override
    public String toString() {
        return switch (kind) {
            case DEFAULT -> "proxy_redirect default";
            default -> "proxy_redirect " + regexMark() + text + " " + replacement;
        };
    }
}
