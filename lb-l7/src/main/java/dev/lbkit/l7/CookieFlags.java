package dev.lbkit.l7;

import dev.lbkit.l7.internal.Cookies;
import dev.lbkit.l7.internal.Rewrites;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One rule of nginx's {@code proxy_cookie_flags cookie [flag ...]}: the {@code Secure}, {@code HttpOnly}
 * and {@code SameSite} attributes it adds to or removes from the {@code Set-Cookie} headers of the cookies
 * it names (see {@link Route.Builder#cookieFlags(CookieFlags)}).
 *
 * <p>A route's rules are tried in order on each {@code Set-Cookie}'s cookie name; the first that names it
 * applies, alone (a rule without flags thus exempts its cookies from the rules after it). A rule names a
 * cookie by its name, compared ignoring ASCII case as nginx does ({@link #cookie(String)}), or by a regex
 * found in the name ({@link #cookieRegex(String)}, {@link #cookieRegexIgnoreCase(String)}).
 *
 * <p>As nginx: {@code secure} adds {@code Secure} unless the cookie has it, {@code nosecure} removes every
 * {@code Secure} attribute (likewise {@code httponly}, {@code nohttponly}); {@code samesite=strict|lax|none}
 * replaces the first {@code SameSite} attribute by {@code SameSite=Strict} (…) unless it has that value in
 * any case, or adds one, and {@code nosamesite} removes every {@code SameSite}. Attribute names compare
 * ignoring case. Added attributes go to the end in that order ({@code ; Secure; HttpOnly; SameSite=Lax});
 * a removed one goes with the {@code ;} before it; every other byte is sent as it came.
 *
 * <p>Immutable and thread-safe; a regex is compiled once, when the rule is made.
 */
public final class CookieFlags {
    /** What a rule does with one attribute. */
    public enum Change {
        /** Leaves it as it is: the default for each attribute. */
        KEEP,
        /** Adds it (for {@code SameSite}: with {@link #sameSiteValue()}) unless the cookie has it. */
        ADD,
        /** Removes every such attribute. */
        REMOVE
    }

    private final String cookie;
    private final Pattern pattern;
    private final Change secure;
    private final Change httpOnly;
    private final Change sameSite;
    private final StickyCookie.SameSite sameSiteValue;

    private CookieFlags(Builder b) {
        this.cookie = b.cookie;
        this.pattern = b.pattern;
        this.secure = b.secure;
        this.httpOnly = b.httpOnly;
        this.sameSite = b.sameSite;
        this.sameSiteValue = b.sameSiteValue;
    }

    /**
     * A rule for the cookie {@code name} (any case), as {@code proxy_cookie_flags name …}.
     *
     * @throws IllegalArgumentException naming it if {@code name} is not a token (RFC 6265 §4.1.1), empty
     *     included
     */
    public static Builder cookie(String name) {
        return new Builder(Cookies.checkToken(name, "cookie name", "RFC 6265 §4.1.1"), null);
    }

    /**
     * A rule for the cookies in whose name {@code regex} is found, as {@code proxy_cookie_flags ~regex …}.
     *
     * @throws IllegalArgumentException naming it if {@code regex} is empty or not a valid {@link Pattern}
     */
    public static Builder cookieRegex(String regex) {
        return new Builder(regex, Rewrites.compile(Objects.requireNonNull(regex, "regex"), 0, "cookie flags"));
    }

    /** As {@link #cookieRegex(String)}, matching ASCII letters ignoring case ({@code ~*regex}). */
    public static Builder cookieRegexIgnoreCase(String regex) {
        return new Builder(regex, Rewrites.compile(Objects.requireNonNull(regex, "regex"), Pattern.CASE_INSENSITIVE,
                "cookie flags"));
    }

    /** The cookie name, or the regex of a regex rule. */
    public String cookieName() {
        return cookie;
    }

    /** The compiled regex of a regex rule; empty for a rule naming one cookie. */
    public Optional<Pattern> pattern() {
        return Optional.ofNullable(pattern);
    }

    /** What the rule does with {@code Secure}. */
    public Change secure() {
        return secure;
    }

    /** What the rule does with {@code HttpOnly}. */
    public Change httpOnly() {
        return httpOnly;
    }

    /** What the rule does with {@code SameSite}. */
    public Change sameSite() {
        return sameSite;
    }

    /** The {@code SameSite} value {@link Change#ADD} sets; empty unless {@link #sameSite()} is ADD. */
    public Optional<StickyCookie.SameSite> sameSiteValue() {
        return Optional.ofNullable(sameSiteValue);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CookieFlags)) {
            return false;
        }
        CookieFlags f = (CookieFlags) o;
        return cookie.equals(f.cookie) && (pattern == null ? f.pattern == null
                : f.pattern != null && pattern.flags() == f.pattern.flags()) && secure == f.secure
                && httpOnly == f.httpOnly && sameSite == f.sameSite && sameSiteValue == f.sameSiteValue;
    }

    @Override
    public int hashCode() {
        return Objects.hash(cookie, pattern == null ? -1 : pattern.flags(), secure, httpOnly, sameSite, sameSiteValue);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("proxy_cookie_flags ");
        if (pattern != null) {
            s.append((pattern.flags() & Pattern.CASE_INSENSITIVE) != 0 ? "~*" : "~");
        }
        s.append(cookie);
        s.append(secure == Change.ADD ? " secure" : secure == Change.REMOVE ? " nosecure" : "");
        s.append(httpOnly == Change.ADD ? " httponly" : httpOnly == Change.REMOVE ? " nohttponly" : "");
        if (sameSite == Change.ADD) {
            s.append(" samesite=").append(sameSiteValue.text().toLowerCase(java.util.Locale.ROOT));
        } else if (sameSite == Change.REMOVE) {
            s.append(" nosamesite");
        }
        return s.toString();
    }

    /**
     * Builds a {@link CookieFlags}; every attribute is {@link Change#KEEP} unless set, and a later call for
     * one attribute replaces an earlier one. Not thread-safe.
     */
    public static final class Builder {
        private final String cookie;
        private final Pattern pattern;
        private Change secure = Change.KEEP;
        private Change httpOnly = Change.KEEP;
        private Change sameSite = Change.KEEP;
        private StickyCookie.SameSite sameSiteValue;

        private Builder(String cookie, Pattern pattern) {
            this.cookie = cookie;
            this.pattern = pattern;
        }

        /** {@code secure}: adds {@code Secure} unless the cookie has it. */
        public Builder secure() {
            secure = Change.ADD;
            return this;
        }

        /** {@code nosecure}: removes {@code Secure}. */
        public Builder noSecure() {
            secure = Change.REMOVE;
            return this;
        }

        /** {@code httponly}: adds {@code HttpOnly} unless the cookie has it. */
        public Builder httpOnly() {
            httpOnly = Change.ADD;
            return this;
        }

        /** {@code nohttponly}: removes {@code HttpOnly}. */
        public Builder noHttpOnly() {
            httpOnly = Change.REMOVE;
            return this;
        }

        /** {@code samesite=strict|lax|none}: sets {@code SameSite} to {@code value}, adding it if missing. */
        public Builder sameSite(StickyCookie.SameSite value) {
            sameSiteValue = Objects.requireNonNull(value, "value");
            sameSite = Change.ADD;
            return this;
        }

        /** {@code nosamesite}: removes {@code SameSite}. */
        public Builder noSameSite() {
            sameSite = Change.REMOVE;
            sameSiteValue = null;
            return this;
        }

        public CookieFlags build() {
            return new CookieFlags(this);
        }
    }
}
