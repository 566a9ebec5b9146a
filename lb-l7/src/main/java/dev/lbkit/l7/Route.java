package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import java.util.Collections;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Where requests for a host and path prefix go, nginx's {@code server_name} + {@code location /prefix}
 * + {@code proxy_pass}: an {@link UpstreamGroup}, with an optional path-prefix rewrite, header rules,
 * redirect and cookie rewriting, Host policy, forwarding headers, retry policy and timeouts.
 *
 * <p>A request is routed to the route whose host equals the request's host (without port and
 * trailing dot, case-insensitive) and whose prefix is the longest prefix of the request path; routes
 * without a host match any host, and are used when no route of the request's host matches. As in nginx, a prefix
 * matches by characters ({@code /api} matches {@code /apis}).
 *
 * <p>Immutable and thread-safe. Defaults: any host, no rewrite, {@link HeaderRules#NONE},
 * {@link RedirectRewrite#DEFAULT} ({@code proxy_redirect default}), no cookie rewriting
 * ({@code proxy_cookie_path off}, {@code proxy_cookie_domain off}, {@code proxy_cookie_flags off}),
 * {@link HostHeader#preserve()}, no forwarding headers, {@link RetryPolicy#DEFAULT}, the balancer's
 * timeouts, no rate or concurrency limits, the balancer's error pages, upstream errors passed as they are.
 */
public final class Route {
    private final String host;
    private final String pathPrefix;
    private final String rewritePrefix;
    private final UpstreamGroup group;
    private final HeaderRules headers;
    private final List<RedirectRewrite> redirects;
    private final List<RedirectRewrite> resolvedRedirects;
    private final List<CookieRewrite> cookieRewrites;
    private final List<CookieFlags> cookieFlags;
    private final HostHeader hostHeader;
    private final Set<ForwardedHeader> forwarded;
    private final RetryPolicy retry;
    private final ProxyTimeouts timeouts;
    private final List<RequestRateLimit> rateLimits;
    private final List<ConcurrencyLimit> concurrencyLimits;
    private final ErrorPages errorPages;
    private final boolean interceptErrors;
    private final long interceptDiscardLimit;
    private final String name;

    private Route(Builder b) {
        this.host = b.host;
        this.pathPrefix = b.pathPrefix;
        this.rewritePrefix = b.rewritePrefix;
        this.group = b.group;
        this.headers = b.headers.build();
        this.redirects = b.redirects == null ? List.of(RedirectRewrite.DEFAULT) : List.copyOf(b.redirects);
        this.resolvedRedirects = resolve(redirects, group, pathPrefix, rewritePrefix);
        this.cookieRewrites = List.copyOf(b.cookieRewrites);
        this.cookieFlags = List.copyOf(b.cookieFlags);
        this.hostHeader = b.hostHeader;
        this.forwarded = Collections.unmodifiableSet(EnumSet.copyOf(b.forwarded));
        this.retry = b.retry;
        this.timeouts = b.timeouts;
        this.rateLimits = List.copyOf(b.rateLimits);
        this.concurrencyLimits = List.copyOf(b.concurrencyLimits);
        this.errorPages = b.errorPages;
        this.interceptErrors = b.interceptErrors;
        this.interceptDiscardLimit = b.interceptDiscardLimit;
        this.name = b.name != null ? b.name : (host == null ? "" : host) + pathPrefix;
    }

    /** A route for requests whose path starts with {@code pathPrefix} (which must start with {@code /}). */
    public static Builder builder(String pathPrefix) {
        return new Builder(pathPrefix);
    }

    /** The host this route serves, lower case, or empty for any host. */
    public Optional<String> host() {
        return Optional.ofNullable(host);
    }

    public String pathPrefix() {
        return pathPrefix;
    }

    /** What replaces {@link #pathPrefix()} in the upstream request's path, if set. */
    public Optional<String> rewritePrefix() {
        return Optional.ofNullable(rewritePrefix);
    }

    public UpstreamGroup group() {
        return group;
    }

    public HeaderRules headers() {
        return headers;
    }

    /**
     * The redirect rules as given ({@code proxy_redirect}), tried in order on {@code Location} and
     * {@code Refresh}; empty when off. Default: {@link RedirectRewrite#DEFAULT} alone.
     */
    public List<RedirectRewrite> redirects() {
        return redirects;
    }

    /**
     * {@link #redirects()} as applied: each {@link RedirectRewrite#DEFAULT} replaced by the prefix rule it
     * stands for on this route ({@code http://group/rewrite} → prefix, or {@code http://group/} → {@code /};
     * {@code https} when the group uses TLS). Never null.
     */
    public List<RedirectRewrite> resolvedRedirects() {
        return resolvedRedirects;
    }

    private static List<RedirectRewrite> resolve(List<RedirectRewrite> rules, UpstreamGroup group,
            String pathPrefix, String rewritePrefix) {
        if (!rules.contains(RedirectRewrite.DEFAULT)) {
            return rules;
        }
        String origin = (group.tls().isPresent() ? "https://" : "http://") + group.name();
        RedirectRewrite implied = rewritePrefix == null ? RedirectRewrite.prefix(origin + "/", "/")
                : RedirectRewrite.prefix(origin + rewritePrefix, pathPrefix);
        List<RedirectRewrite> out = new ArrayList<>(rules.size());
        for (RedirectRewrite r : rules) {
            out.add(r.kind() == RedirectRewrite.Kind.DEFAULT ? implied : r);
        }
        return List.copyOf(out);
    }

    /**
     * The cookie rewriting rules ({@code proxy_cookie_path}, {@code proxy_cookie_domain}) in the order given;
     * those of one attribute are tried in that order. Empty by default (off).
     */
    public List<CookieRewrite> cookieRewrites() {
        return cookieRewrites;
    }

    /** The cookie flags rules ({@code proxy_cookie_flags}) in the order given. Empty by default (off). */
    public List<CookieFlags> cookieFlags() {
        return cookieFlags;
    }

    public HostHeader hostHeader() {
        return hostHeader;
    }

    public Set<ForwardedHeader> forwarded() {
        return forwarded;
    }

    public RetryPolicy retry() {
        return retry;
    }

    /** The route's own timeouts, or empty to use the balancer's (see {@link Builder#timeouts}). */
    public Optional<ProxyTimeouts> timeouts() {
        return Optional.ofNullable(timeouts);
    }

    /** The request rate limits ({@code limit_req}) in the order added; a request must pass all. Default none. */
    public List<RequestRateLimit> rateLimits() {
        return rateLimits;
    }

    /** The limits on requests in flight ({@code limit_conn}) in the order added; a request must pass all. Default none. */
    public List<ConcurrencyLimit> concurrencyLimits() {
        return concurrencyLimits;
    }

    /** The route's own error pages, or empty to use the balancer's (see {@link Builder#errorPages}). */
    public Optional<ErrorPages> errorPages() {
        return Optional.ofNullable(errorPages);
    }

    /** Whether an upstream response with a status that has an error page gets the page instead. Default false. */
    public boolean interceptErrors() {
        return interceptErrors;
    }

    /**
     * The longest body (bytes, by Content-Length) of an intercepted upstream response that is read and
     * dropped to reuse the upstream connection; a longer or unframed one closes it. Default
     * {@link Builder#DEFAULT_INTERCEPT_DISCARD_LIMIT}.
     */
    public long interceptDiscardLimit() {
        return interceptDiscardLimit;
    }

    /** The name in stats and logs; by default host + prefix. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "Route{" + name + " -> " + group.name() + "}";
    }

    /** Builds a {@link Route}; {@link #group} is required. Not thread-safe. */
    public static final class Builder {
        /** Most rate limits on one route (a request's pass over them keeps one bit per limit). */
        public static final int MAX_RATE_LIMITS = 64;
        /** Default of {@link #interceptDiscardLimit}: 64 KiB. */
        public static final long DEFAULT_INTERCEPT_DISCARD_LIMIT = 64 * 1024;

        private String host;
        private final String pathPrefix;
        private String rewritePrefix;
        private UpstreamGroup group;
        private final HeaderRules.Builder headers = HeaderRules.builder();
        /** Null until a redirect rule is given or they are turned off: then {@link RedirectRewrite#DEFAULT}. */
        private List<RedirectRewrite> redirects;
        private final List<CookieRewrite> cookieRewrites = new ArrayList<>();
        private final List<CookieFlags> cookieFlags = new ArrayList<>();
        private HostHeader hostHeader = HostHeader.preserve();
        private Set<ForwardedHeader> forwarded = EnumSet.noneOf(ForwardedHeader.class);
        private RetryPolicy retry = RetryPolicy.DEFAULT;
        private ProxyTimeouts timeouts;
        private final List<RequestRateLimit> rateLimits = new ArrayList<>();
        private final List<ConcurrencyLimit> concurrencyLimits = new ArrayList<>();
        private ErrorPages errorPages;
        private boolean interceptErrors;
        private long interceptDiscardLimit = DEFAULT_INTERCEPT_DISCARD_LIMIT;
        private String name;

        private Builder(String pathPrefix) {
            Objects.requireNonNull(pathPrefix, "pathPrefix");
            if (!pathPrefix.startsWith("/")) {
                throw new IllegalArgumentException("pathPrefix must start with '/', got '" + pathPrefix + "'");
            }
            this.pathPrefix = pathPrefix;
        }

        /**
         * Serve only this host ({@code server_name}); without port, case-insensitive, a trailing dot ignored
         * (as in a request's Host). Default: any host.
         */
        public Builder host(String host) {
            String h = Checks.notBlank(host, "host").toLowerCase(Locale.ROOT);
            this.host = h.length() > 1 && h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
            return this;
        }

        /** The upstream group ({@code proxy_pass http://group}). Required. */
        public Builder group(UpstreamGroup group) {
            this.group = Objects.requireNonNull(group, "group");
            return this;
        }

        /**
         * Replaces the matched prefix in the upstream request path, as {@code location /old/ { proxy_pass
         * http://backend/new/; }}. Must start with {@code /}.
         */
        public Builder rewritePrefix(String prefix) {
            Objects.requireNonNull(prefix, "prefix");
            if (!prefix.startsWith("/")) {
                throw new IllegalArgumentException("rewritePrefix must start with '/', got '" + prefix + "'");
            }
            this.rewritePrefix = prefix;
            return this;
        }

        /** {@code proxy_set_header name value}. */
        public Builder setRequestHeader(String name, String value) {
            headers.setRequestHeader(name, value);
            return this;
        }

        public Builder addRequestHeader(String name, String value) {
            headers.addRequestHeader(name, value);
            return this;
        }

        public Builder removeRequestHeader(String name) {
            headers.removeRequestHeader(name);
            return this;
        }

        public Builder setResponseHeader(String name, String value) {
            headers.setResponseHeader(name, value);
            return this;
        }

        /** {@code add_header name value}. */
        public Builder addResponseHeader(String name, String value) {
            headers.addResponseHeader(name, value);
            return this;
        }

        /** {@code proxy_hide_header name}. */
        public Builder removeResponseHeader(String name) {
            headers.removeResponseHeader(name);
            return this;
        }

        /** Adds every rule of {@code rules} after those already added. */
        public Builder headers(HeaderRules rules) {
            headers.addAll(Objects.requireNonNull(rules, "rules"));
            return this;
        }

        /**
         * Adds a rule rewriting the {@code Location} and {@code Refresh} headers of upstream responses
         * ({@code proxy_redirect}); rules are tried in the order added and the first that matches applies.
         * As in nginx, rules given replace the default {@link RedirectRewrite#DEFAULT}: add it among them
         * to keep it ({@code proxy_redirect default;} plus others).
         */
        public Builder redirect(RedirectRewrite rule) {
            Objects.requireNonNull(rule, "rule");
            if (redirects == null) {
                redirects = new ArrayList<>();
            }
            redirects.add(rule);
            return this;
        }

        /**
         * {@code proxy_redirect redirect replacement}: as {@link #redirect(RedirectRewrite)} with
         * {@link RedirectRewrite#prefix(String, String)}.
         */
        public Builder redirect(String redirect, String replacement) {
            return redirect(RedirectRewrite.prefix(redirect, replacement));
        }

        /**
         * {@code proxy_redirect off}: removes the rules given so far, the default included, so that
         * {@code Location} and {@code Refresh} pass unchanged unless rules are added after this.
         */
        public Builder redirectOff() {
            redirects = new ArrayList<>();
            return this;
        }

        /**
         * Adds a rule rewriting the {@code Path} or {@code Domain} attribute of the {@code Set-Cookie} headers
         * of upstream responses ({@code proxy_cookie_path}, {@code proxy_cookie_domain}); the rules of one
         * attribute are tried in the order added and the first that matches applies. They apply before the
         * balancer adds its own cookie ({@link UpstreamGroup.Builder#stickyCookie}), which they never touch,
         * and before the route's response header rules. Default: none.
         */
        public Builder cookieRewrite(CookieRewrite rule) {
            cookieRewrites.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /** {@code proxy_cookie_path path replacement}: {@link #cookieRewrite} with {@link CookieRewrite#path}. */
        public Builder cookiePath(String path, String replacement) {
            return cookieRewrite(CookieRewrite.path(path, replacement));
        }

        /**
         * {@code proxy_cookie_domain domain replacement}: {@link #cookieRewrite} with
         * {@link CookieRewrite#domain}.
         */
        public Builder cookieDomain(String domain, String replacement) {
            return cookieRewrite(CookieRewrite.domain(domain, replacement));
        }

        /**
         * Adds a rule adding or removing {@code Secure}, {@code HttpOnly} and {@code SameSite} on the
         * {@code Set-Cookie} headers of upstream responses ({@code proxy_cookie_flags}); the first rule naming a
         * cookie applies. As {@link #cookieRewrite}, never to the balancer's own cookie. Default: none.
         */
        public Builder cookieFlags(CookieFlags rule) {
            cookieFlags.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        public Builder hostHeader(HostHeader hostHeader) {
            this.hostHeader = Objects.requireNonNull(hostHeader, "hostHeader");
            return this;
        }

        /** Which forwarding headers to add. Default none. */
        public Builder forwarded(ForwardedHeader... headers) {
            Set<ForwardedHeader> s = EnumSet.noneOf(ForwardedHeader.class);
            for (ForwardedHeader h : headers) {
                s.add(Objects.requireNonNull(h, "header"));
            }
            this.forwarded = s;
            return this;
        }

        public Builder retry(RetryPolicy retry) {
            this.retry = Objects.requireNonNull(retry, "retry");
            return this;
        }

        /**
         * This route's timeouts, instead of the balancer's, from the moment a request is routed (nginx's
         * timeouts in a {@code location}): connect, send, read, clientSend, clientBody, the lingering after
         * a response that closes the connection, a 413 or 417 refusal included, and keepAlive, the wait for
         * the next request after this route's response. Its clientHeader is not used: the balancer's
         * applies, as a head is read before it is routed.
         */
        public Builder timeouts(ProxyTimeouts timeouts) {
            this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
            return this;
        }

        /**
         * Adds a request rate limit ({@code limit_req}); several may be added (at most
         * {@value #MAX_RATE_LIMITS}), as several {@code limit_req} in a location: a request must pass all, and
         * waits for the longest delay among them. Checked once the request is routed, before its body is read.
         *
         * @throws IllegalArgumentException for more than {@value #MAX_RATE_LIMITS} rate limits on one route
         */
        public Builder limit(RequestRateLimit limit) {
            Objects.requireNonNull(limit, "limit");
            if (rateLimits.size() == MAX_RATE_LIMITS) {
                throw new IllegalArgumentException("route " + pathPrefix + " takes at most " + MAX_RATE_LIMITS
                        + " rate limits, got one more: " + limit);
            }
            rateLimits.add(limit);
            return this;
        }

        /**
         * Adds a limit on requests in flight ({@code limit_conn}); several may be added: a request must pass
         * all. Checked once the request is routed and has passed the rate limits.
         */
        public Builder limit(ConcurrencyLimit limit) {
            concurrencyLimits.add(Objects.requireNonNull(limit, "limit"));
            return this;
        }

        /**
         * This route's error pages, instead of the balancer's, for requests routed to it (nginx's
         * {@code error_page} in a {@code location}): as nginx, none of the balancer's pages apply then, not
         * even for statuses this route has no page for. Its errors before a request is routed (a 400 for a
         * head that cannot be read, a 408 for a head that does not come) have the balancer's pages.
         */
        public Builder errorPages(ErrorPages pages) {
            this.errorPages = Objects.requireNonNull(pages, "pages");
            return this;
        }

        /**
         * nginx's {@code proxy_intercept_errors}: an upstream response with a status of 300 or more that has an
         * error page (this route's, else the balancer's) is answered with the page instead, counted under
         * the status sent; other responses pass as they are. The upstream's body is read and dropped so
         * its connection can be reused when its length is known and at most {@link #interceptDiscardLimit}
         * (64 KiB by default); otherwise, or when the response is not reusable anyway, the upstream
         * connection is closed at once. Default off.
         */
        public Builder interceptErrors(boolean on) {
            this.interceptErrors = on;
            return this;
        }

        /**
         * With {@link #interceptErrors}: the longest body, in bytes by Content-Length, read and dropped to
         * keep the upstream connection; 0 closes it after every intercepted response with a body. Default
         * {@link #DEFAULT_INTERCEPT_DISCARD_LIMIT}.
         */
        public Builder interceptDiscardLimit(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("interceptDiscardLimit must be >= 0 bytes, got " + bytes);
            }
            this.interceptDiscardLimit = bytes;
            return this;
        }

        public Builder name(String name) {
            this.name = Checks.notBlank(name, "name");
            return this;
        }

        /**
         * The route.
         *
         * @throws IllegalStateException without a group
         * @throws IllegalArgumentException when {@link RedirectRewrite#DEFAULT} is among the redirect rules and
         *     the rule it stands for cannot be made (the group's name or a prefix with a control character)
         */
        public Route build() {
            if (group == null) {
                throw new IllegalStateException("route " + pathPrefix + " needs a group");
            }
            return new Route(this);
        }
    }
}
