package dev.lbkit.l7.internal;

import dev.lbkit.l7.RedirectRewrite;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A route's {@code proxy_redirect} rules ({@link RedirectRewrite}) in the form a response head uses: the
 * {@code Location} and {@code Refresh} fields are found with one scan of the header map and read where
 * they are; prefixes are compared in place and a regex runs on a matcher the connection keeps, so a value
 * no rule matches costs no allocation. Only a rewrite makes a new String. Immutable and thread-safe.
 */
public final class Redirects {
    private static final AsciiString LOCATION = HttpHeaderNames.LOCATION;
    private static final AsciiString REFRESH = AsciiString.cached("Refresh");

    private final Rule[] rules;
    private final boolean hasRegex;

    private Redirects(List<RedirectRewrite> rules) {
        this.rules = new Rule[rules.size()];
        boolean regex = false;
        for (int i = 0; i < this.rules.length; i++) {
            this.rules[i] = new Rule(rules.get(i));
            regex |= this.rules[i].pattern != null;
        }
        this.hasRegex = regex;
    }

    /** Whether a rule is a regex: only then does {@link #apply} need a connection's {@link Matchers}. */
    boolean hasRegex() {
        return hasRegex;
    }

    /**
     * The rules compiled, or null when there are none ({@code proxy_redirect off}), so that a response head
     * of such a route does not even look for the fields.
     *
     * @param rules resolved rules: none is {@link RedirectRewrite#DEFAULT}
     */
    static Redirects of(List<RedirectRewrite> rules) {
        return rules.isEmpty() ? null : new Redirects(rules);
    }

    /**
     * The parts of a regex rule's replacement: literal text at even indexes, group numbers (as Integers) at
     * odd ones; {@code $} followed by a digit is a group, any other {@code $} a literal one.
     *
     * @throws IllegalArgumentException naming the replacement if it refers to a group {@code pattern} lacks
     */
    public static List<Object> template(String replacement, Pattern pattern) {
        int groups = pattern.matcher("").groupCount();
        List<Object> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        for (int i = 0; i < replacement.length(); i++) {
            char c = replacement.charAt(i);
            char d = i + 1 < replacement.length() ? replacement.charAt(i + 1) : 0;
            if (c == '$' && d >= '0' && d <= '9') {
                int g = d - '0';
                if (g > groups) {
                    throw new IllegalArgumentException("redirect replacement '" + replacement + "' refers to group $"
                            + g + ", but regex '" + pattern.pattern() + "' has " + groups);
                }
                parts.add(literal.toString());
                parts.add(g);
                literal.setLength(0);
                i++;
            } else {
                literal.append(c);
            }
        }
        parts.add(literal.toString());
        return parts;
    }

    /**
     * Rewrites every {@code Location} and {@code Refresh} field of {@code h} the first matching rule
     * applies to, in place (keeping its position among the fields); several fields of one name are each
     * rewritten on their own.
     */
    void apply(HttpHeaders h, Matchers matchers) {
        // matchers may be null when no rule is a regex (hasRegex()): rewrite() then never asks for one.
        if (h instanceof CompactHeaders) {
            CompactHeaders c = (CompactHeaders) h;
            for (int i = c.indexOfEither(LOCATION, REFRESH, 0); i >= 0; i = c.indexOfEither(LOCATION, REFRESH, i + 1)) {
                CharSequence v = c.valueInPlace(i);
                // The two names differ in length: the name's length tells which one field i is.
                int from = c.nameLength(i) == LOCATION.length() ? 0 : refreshUrl(v);
                String rewritten = from < 0 ? null : rewrite(v, from, matchers);
                if (rewritten != null) {
                    c.replaceValue(i, rewritten);
                }
            }
            return;
        }
        applyTo(h, LOCATION, matchers);
        applyTo(h, REFRESH, matchers);
    }

    /** For header maps that are not lb-l7's own (none on today's paths): correct, not allocation-free. */
    private void applyTo(HttpHeaders h, AsciiString name, Matchers matchers) {
        List<String> values = h.getAll(name);
        List<String> out = null;
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            int from = name == LOCATION ? 0 : refreshUrl(v);
            String rewritten = from < 0 ? null : rewrite(v, from, matchers);
            if (rewritten != null) {
                if (out == null) {
                    out = new ArrayList<>(values);
                }
                out.set(i, rewritten);
            }
        }
        if (out != null) {
            h.set(name, out);
        }
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
     * or null when none does (then nothing was allocated but, on a connection's first regex use, its
     * matcher).
     */
    String rewrite(CharSequence value, int from, Matchers matchers) {
        for (int r = 0; r < rules.length; r++) {
            Rule rule = rules[r];
            if (rule.pattern == null) {
                if (rule.prefixMatches(value, from)) {
                    return new StringBuilder(value.length() - rule.prefix.length() + rule.replacement.length())
                            .append(value, 0, from).append(rule.replacement)
                            .append(value, from + rule.prefix.length(), value.length()).toString();
                }
            } else {
                Matcher m = matchers.matcher(this, r, rule.pattern);
                m.reset(value).region(from, value.length());
                if (m.find()) {
                    StringBuilder sb = new StringBuilder(value.length()).append(value, 0, from);
                    rule.expand(m, value, sb);
                    return sb.toString();
                }
            }
        }
        return null;
    }

    private static final class Rule {
        final String prefix;
        /** How much of {@link #prefix} (its scheme and host) compares ignoring case. */
        final int foldLength;
        final String replacement;
        final Pattern pattern;
        final Object[] template;

        Rule(RedirectRewrite r) {
            this.prefix = r.redirect();
            this.replacement = r.replacement();
            this.pattern = r.pattern().orElse(null);
            this.template = pattern == null ? null : template(replacement, pattern).toArray();
            int scheme = pattern == null ? prefix.indexOf("://") : -1;
            int slash = scheme <= 0 ? -1 : prefix.indexOf('/', scheme + 3);
            this.foldLength = scheme <= 0 ? 0 : slash < 0 ? prefix.length() : slash;
        }

        boolean prefixMatches(CharSequence v, int from) {
            int n = prefix.length();
            if (v.length() - from < n) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                char a = v.charAt(from + i);
                char b = prefix.charAt(i);
                if (a != b && (i >= foldLength || AsciiString.toLowerCase(a) != AsciiString.toLowerCase(b))) {
                    return false;
                }
            }
            return true;
        }

        /** Appends the replacement with the groups of {@code m}'s match in {@code value}. */
        void expand(Matcher m, CharSequence value, StringBuilder sb) {
            sb.append((String) template[0]);
            for (int i = 1; i < template.length; i += 2) {
                int g = (Integer) template[i];
                if (m.start(g) >= 0) {
                    sb.append(value, m.start(g), m.end(g));
                }
                sb.append((String) template[i + 1]);
            }
        }
    }

    /**
     * A connection's matchers, one per regex rule of the rules last used, so that trying a regex allocates
     * nothing per response. Belongs to one event loop, like the connection.
     */
    static final class Matchers {
        private Redirects owner;
        private Matcher[] byRule;

        Matcher matcher(Redirects rules, int rule, Pattern pattern) {
            if (owner != rules) {
                owner = rules;
                byRule = new Matcher[rules.rules.length];
            }
            Matcher m = byRule[rule];
            if (m == null) {
                m = pattern.matcher("");
                byRule[rule] = m;
            }
            return m;
        }
    }
}
