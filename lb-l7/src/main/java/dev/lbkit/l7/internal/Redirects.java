package dev.lbkit.l7.internal;

import dev.lbkit.l7.RedirectRewrite;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;

/**
 * A route's {@code proxy_redirect} rules ({@link RedirectRewrite}) in the form a response head uses: the
 * {@code Location} and {@code Refresh} fields are found with one scan of the header map and read where
 * they are, and rewritten by the rules' {@link Rewrites}, so a value no rule matches costs no allocation.
 * Only a rewrite makes a new String. Immutable and thread-safe.
 */
public final class Redirects implements Rewrites.Field {
    private static final AsciiString LOCATION = HttpHeaderNames.LOCATION;
    private static final AsciiString REFRESH = AsciiString.cached("Refresh");

    private final Rewrites rules;

    private Redirects(Rewrites rules) {
        this.rules = rules;
    }

    /**
     * The rules compiled, or null when there are none ({@code proxy_redirect off}), so that a response head
     * of such a route does not even look for the fields.
     *
     * @param rules resolved rules: none is {@link RedirectRewrite#DEFAULT}
     */
    static Redirects of(List<RedirectRewrite> rules) {
        List<Rewrites.Rule> compiled = new ArrayList<>(rules.size());
        for (RedirectRewrite r : rules) {
            compiled.add(rule(r));
        }
        Rewrites rewrites = Rewrites.of(compiled);
        return rewrites == null ? null : new Redirects(rewrites);
    }

    /** A prefix compares its scheme and host (up to the first / after ://) ignoring case, the rest exactly. */
    private static Rewrites.Rule rule(RedirectRewrite r) {
        if (r.pattern().isPresent()) {
            return Rewrites.Rule.regex(r.pattern().get(), r.replacement());
        }
        String prefix = r.redirect();
        int scheme = prefix.indexOf("://");
        int slash = scheme <= 0 ? -1 : prefix.indexOf('/', scheme + 3);
        int fold = scheme <= 0 ? 0 : slash < 0 ? prefix.length() : slash;
        return Rewrites.Rule.prefix(prefix, fold, r.replacement());
    }

    /**
     * Rewrites every {@code Location} and {@code Refresh} field of {@code h} the first matching rule
     * applies to, in place (keeping its position among the fields); several fields of one name are each
     * rewritten on their own.
     */
    void apply(HttpHeaders h, Rewrites.Matchers matchers) {
        Rewrites.apply(h, LOCATION, REFRESH, this, matchers);
    }

    @Override
    public String rewrite(boolean location, CharSequence value, Rewrites.Matchers matchers) {
        int from = location ? 0 : refreshUrl(value);
        return from < 0 ? null : rewrite(value, from, matchers);
    }

    /** Where the URL of a Refresh value starts (after its first {@code url=}, any case), or -1 without one. */
    static int refreshUrl(CharSequence v) {
        for (int i = 0, n = v.length() - 3; i < n; i++) {
            if ((v.charAt(i) | 0x20) == 'u' && (v.charAt(i + 1) | 0x20) == 'r' && (v.charAt(i + 2) | 0x20) == 'l'
                    && v.charAt(i + 3) == '=') {
                return i + 4;
            }
        }
        return -1;
    }

    /**
     * {@code value} with its part from {@code from} on rewritten by the first rule that matches that part,
     * or null when none does.
     */
    String rewrite(CharSequence value, int from, Rewrites.Matchers matchers) {
        return rules.rewrite(value, from, value.length(), matchers);
    }
}
