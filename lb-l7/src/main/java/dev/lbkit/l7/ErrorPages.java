package dev.lbkit.l7;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Which {@link ErrorPage} answers which status (nginx's {@code error_page code … [=code] file}): the pages the
 * balancer sends for its own errors (502, 504, 404 without a route, 400, 408, 413, 429/503 of a route limit
 * …) and, with {@link Route.Builder#interceptErrors}, for an upstream's response with such a status
 * ({@code proxy_intercept_errors}). A status without a page keeps the built-in body.
 *
 * <p>Set on the balancer ({@link HttpBalancer.Builder#errorPages}: the server level) and on a route
 * ({@link Route.Builder#errorPages}: the location level). As nginx inherits {@code error_page} only into a
 * level that has none of its own, a route's pages replace the balancer's as a whole, for requests routed
 * to it.
 *
 * <p>Immutable and thread-safe.
 */
public final class ErrorPages {
    /** No pages: every error has the built-in body. */
    public static final ErrorPages NONE = new ErrorPages(new TreeMap<>());

    private final Map<Integer, ErrorPage> pages;

    private ErrorPages(TreeMap<Integer, ErrorPage> pages) {
        this.pages = Collections.unmodifiableMap(new TreeMap<>(pages));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The page for {@code status}, or empty. */
    public Optional<ErrorPage> page(int status) {
        return Optional.ofNullable(pages.get(status));
    }

    /** The pages by the status they answer, in ascending status order; unmodifiable. */
    public Map<Integer, ErrorPage> pages() {
        return pages;
    }

    /** Whether there is no page. */
    public boolean isEmpty() {
        return pages.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ErrorPages p && pages.equals(p.pages);
    }

    @Override
    public int hashCode() {
        return pages.hashCode();
    }

    @Override
    public String toString() {
        return "ErrorPages" + pages;
    }

    /** Builds {@link ErrorPages}; a later page for a status replaces an earlier one. Not thread-safe. */
    public static final class Builder {
        private final TreeMap<Integer, ErrorPage> pages = new TreeMap<>();

        private Builder() {}

        /**
         * {@code page} answers {@code status} and each of {@code more} (nginx's
         * {@code error_page 500 502 503 504 /50x.html}).
         *
         * @throws NullPointerException naming {@code page} when null
         * @throws IllegalArgumentException naming a status outside 300..599 (nginx's range for
         *     {@code error_page})
         */
        public Builder page(ErrorPage page, int status, int... more) {
            Objects.requireNonNull(page, "page");
            Objects.requireNonNull(more, "more");
            check(status);
            for (int s : more) {
                check(s);
            }
            pages.put(status, page);
            for (int s : more) {
                pages.put(s, page);
            }
            return this;
        }

        private static void check(int status) {
            if (status < 300 || status > 599) {
                throw new IllegalArgumentException("error page status must be 300..599, got " + status);
            }
        }

        public ErrorPages build() {
            return pages.isEmpty() ? NONE : new ErrorPages(pages);
        }
    }
}
