package dev.lbkit.l7;

import dev.lbkit.l7.internal.Cookies;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Session persistence by a cookie the balancer inserts, HAProxy's {@code cookie NAME insert indirect
 * nocache} and nginx Plus's {@code sticky cookie}: set on an {@link UpstreamGroup} with
 * {@link UpstreamGroup.Builder#stickyCookie}.
 *
 * <p>Each upstream of the group has a stable opaque value: 16 hex digits of a 64-bit hash of its key
 * ({@code host:port} as configured), so every balancer with the same upstreams gives and honours the same
 * values, and the address is not shown. A request whose cookie names an upstream that may keep it goes
 * there without asking the scheduler: up, even drained to weight 0 (as HAProxy sends persistent clients to
 * a server of weight 0, and nginx Plus's {@code drain}), under its connection limit, not yet tried for this
 * request, and a backup only while the backup tier is in use. Otherwise the scheduler picks and the
 * response carries {@code Set-Cookie} naming the upstream that answered it (after a retry, the one that
 * answered; also when the client's cookie named another upstream, or a value no upstream has). A response
 * to a client that already has the right value gets no {@code Set-Cookie} ({@code indirect}); one that
 * gets it also gets {@code Cache-Control: private} ({@code nocache}), so a shared cache does not hand
 * one client's cookie to others.
 *
 * <p>The balancer's cookie is removed from the request sent upstream ({@code indirect}): the other cookies
 * of its Cookie field stay as they were, byte for byte, and a field left empty is removed.
 *
 * <p>Immutable and thread-safe. Defaults: path {@code /}, no domain, no max-age (a session cookie), not
 * HttpOnly, not Secure, no SameSite.
 */
public final class StickyCookie {
    /** The cookie's {@code SameSite} attribute. */
    public enum SameSite {
        STRICT("Strict"),
        LAX("Lax"),
        /** Sent on cross-site requests too; browsers accept it only with {@code Secure}. */
        NONE("None");

        private final String text;

        SameSite(String text) {
            this.text = text;
        }

        /** The attribute's value as written ({@code Strict}, {@code Lax}, {@code None}). */
        public String text() {
            return text;
        }
    }

    private final String name;
    private final String path;
    private final String domain;
    private final Duration maxAge;
    private final boolean httpOnly;
    private final boolean secure;
    private final SameSite sameSite;
    private final String attributes;

    private StickyCookie(Builder b) {
        this.name = b.name;
        this.path = b.path;
        this.domain = b.domain;
        this.maxAge = b.maxAge;
        this.httpOnly = b.httpOnly;
        this.secure = b.secure;
        this.sameSite = b.sameSite;
        StringBuilder a = new StringBuilder("; Path=").append(path);
        if (domain != null) {
            a.append("; Domain=").append(domain);
        }
        if (maxAge != null) {
            a.append("; Max-Age=").append(maxAge.getSeconds());
        }
        if (secure) {
            a.append("; Secure");
        }
        if (httpOnly) {
            a.append("; HttpOnly");
        }
        if (sameSite != null) {
            a.append("; SameSite=").append(sameSite.text());
        }
        this.attributes = a.toString();
    }

    /**
     * A builder for the cookie {@code name}.
     *
     * @throws IllegalArgumentException if {@code name} is not a token (RFC 6265 §4.1.1), empty included
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** A session cookie {@code name} with the defaults. */
    public static StickyCookie of(String name) {
        return builder(name).build();
    }

    public String name() {
        return name;
    }

    /** The {@code Path} attribute; {@code /} by default. */
    public String path() {
        return path;
    }

    /** The {@code Domain} attribute, if set. */
    public Optional<String> domain() {
        return Optional.ofNullable(domain);
    }

    /** The {@code Max-Age} attribute in whole seconds, if set; without it the cookie lasts the browser session. */
    public Optional<Duration> maxAge() {
        return Optional.ofNullable(maxAge);
    }

    public boolean httpOnly() {
        return httpOnly;
    }

    public boolean secure() {
        return secure;
    }

    public Optional<SameSite> sameSite() {
        return Optional.ofNullable(sameSite);
    }

    /** The {@code Set-Cookie} value that sends a client to the upstream whose value is {@code value}. */
    public String setCookie(String value) {
        return name + "=" + Objects.requireNonNull(value, "value") + attributes;
    }

    @Override
    public String toString() {
        return "StickyCookie{" + setCookie("…") + "}";
    }

    /** Builds a {@link StickyCookie}; {@link #build()} checks the options together. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private String path = "/";
        private String domain;
        private Duration maxAge;
        private boolean httpOnly;
        private boolean secure;
        private SameSite sameSite;

        private Builder(String name) {
            this.name = Cookies.checkToken(name, "cookie name", "RFC 6265 §4.1.1");
        }

        /**
         * The {@code Path} attribute (default {@code /}).
         *
         * @throws IllegalArgumentException if it does not start with {@code /} or has a {@code ;} or a
         *     control or non-ASCII character (RFC 6265 §4.1.1's path-value)
         */
        public Builder path(String path) {
            Objects.requireNonNull(path, "path");
            if (!path.startsWith("/") || !attributeValue(path)) {
                throw new IllegalArgumentException("cookie path '" + path + "' must start with '/' and hold no ';',"
                        + " control or non-ASCII character");
            }
            this.path = path;
            return this;
        }

        /**
         * The {@code Domain} attribute (default none: the cookie goes back to the host that set it only).
         *
         * @throws IllegalArgumentException unless it is a host name of letters, digits, {@code -} and
         *     {@code .} (a leading dot is allowed and ignored by browsers)
         */
        public Builder domain(String domain) {
            Objects.requireNonNull(domain, "domain");
            boolean ok = !domain.isEmpty() && !domain.equals(".");
            for (int i = 0; i < domain.length() && ok; i++) {
                char c = domain.charAt(i);
                ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.';
            }
            if (!ok) {
                throw new IllegalArgumentException("cookie domain '" + domain + "' is not a host name");
            }
            this.domain = domain;
            return this;
        }

        /**
         * The {@code Max-Age} attribute, in whole seconds (default none: a session cookie). nginx Plus's
         * {@code expires=}; HAProxy's {@code maxlife} instead limits on the server side how long a cookie
         * it inserted is honoured.
         *
         * @throws IllegalArgumentException unless at least one second
         */
        public Builder maxAge(Duration maxAge) {
            Objects.requireNonNull(maxAge, "maxAge");
            if (maxAge.getSeconds() < 1) {
                throw new IllegalArgumentException("cookie maxAge must be at least 1 s, got " + maxAge);
            }
            this.maxAge = Duration.ofSeconds(maxAge.getSeconds());
            return this;
        }

        /** Whether to add {@code HttpOnly} (scripts may not read it); default false. */
        public Builder httpOnly(boolean httpOnly) {
            this.httpOnly = httpOnly;
            return this;
        }

        /** Whether to add {@code Secure} (sent over HTTPS only); default false. */
        public Builder secure(boolean secure) {
            this.secure = secure;
            return this;
        }

        /** The {@code SameSite} attribute; default none. */
        public Builder sameSite(SameSite sameSite) {
            this.sameSite = Objects.requireNonNull(sameSite, "sameSite");
            return this;
        }

        /**
         * The cookie.
         *
         * @throws IllegalArgumentException with {@code SameSite=None} but not {@code Secure}, which browsers
         *     refuse
         */
        public StickyCookie build() {
            if (sameSite == SameSite.NONE && !secure) {
                throw new IllegalArgumentException("cookie '" + name + "': SameSite=None needs secure(true)");
            }
            return new StickyCookie(this);
        }

        private static boolean attributeValue(String v) {
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c < 0x20 || c >= 0x7f || c == ';') {
                    return false;
                }
            }
            return true;
        }
    }
}
