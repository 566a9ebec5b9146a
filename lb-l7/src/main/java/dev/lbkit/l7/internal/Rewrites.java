package dev.lbkit.l7.internal;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * nginx's rewrite rules for a part of a response header value, the one mechanism behind
 * {@code proxy_redirect} ({@link Redirects}) and {@code proxy_cookie_path} / {@code proxy_cookie_domain}
 * ({@link SetCookies}): rules tried in order on a range of a value, the first that matches rewrites it.
 *
 * <ul>
 *   <li>a prefix rule: the range starts with the rule's text (its first {@code foldLength} characters
 *       compared ignoring ASCII case, the rest exactly); that prefix becomes the replacement;
 *   <li>a whole-value rule (a cookie domain): the range, without one leading dot, equals the text ignoring
 *       ASCII case; it becomes the replacement, the dot kept (nginx's domain handler);
 *   <li>a regex rule: the regex is found in the range (which its {@code ^} and {@code $} see as the
 *       whole input); the whole range becomes the replacement with {@code $0} … {@code $9} expanded.
 * </ul>
 *
 * <p>Ranges are compared where they are and regexes run on a matcher the connection keeps
 * ({@link Matchers}), so a value no rule matches costs no allocation. Immutable and thread-safe.
 */
public final class Rewrites {
    private final Rule[] rules;

    private Rewrites(List<Rule> rules) {
        this.rules = rules.toArray(new Rule[0]);
    }

    /** The rules, in order, or null when there are none (the caller then skips the field at no cost). */
    static Rewrites of(List<Rule> rules) {
        return rules.isEmpty() ? null : new Rewrites(rules);
    }

    /**
     * {@code regex} compiled with {@code flags}, for a rule's factory method.
     *
     * @throws IllegalArgumentException naming {@code what} and the regex if it is empty or invalid
     */
    public static Pattern compile(String regex, int flags, String what) {
        if (regex.isEmpty()) {
            throw new IllegalArgumentException(what + " regex must not be empty");
        }
        try {
            return Pattern.compile(regex, flags);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(what + " regex '" + regex + "' is invalid: " + e.getDescription(), e);
        }
    }

    /**
     * The parts of a regex rule's replacement: literal text at even indexes, group numbers (as Integers) at
     * odd ones; {@code $} followed by a digit is a group, any other {@code $} a literal one.
     *
     * @throws IllegalArgumentException naming {@code what} and the replacement if it refers to a group
     *     {@code pattern} lacks
     */
    public static List<Object> template(String replacement, Pattern pattern, String what) {
        int groups = pattern.matcher("").groupCount();
        List<Object> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        for (int i = 0; i < replacement.length(); i++) {
            char c = replacement.charAt(i);
            char d = i + 1 < replacement.length() ? replacement.charAt(i + 1) : 0;
            if (c == '$' && d >= '0' && d <= '9') {
                int g = d - '0';
                if (g > groups) {
                    throw new IllegalArgumentException(what + " replacement '" + replacement + "' refers to group $"
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
     * {@code value} with its range {@code [from, to)} rewritten by the first rule that matches it, or null
     * when none does (then nothing was allocated but, on a connection's first use of a regex, its matcher).
     */
    String rewrite(CharSequence value, int from, int to, Matchers matchers) {
        int r = find(value, from, to, matchers);
        if (r < 0) {
            return null;
        }
        StringBuilder sb = new StringBuilder(value.length() + rules[r].replacement.length()).append(value, 0, from);
        append(r, value, from, to, matchers, sb);
        return sb.append(value, to, value.length()).toString();
    }

    /**
     * The index of the first rule that matches {@code value[from, to)}, or -1; a regex rule's matcher keeps
     * its match for {@link #append} until the matcher is used again.
     */
    int find(CharSequence value, int from, int to, Matchers matchers) {
        for (int r = 0; r < rules.length; r++) {
            Rule rule = rules[r];
            if (rule.pattern == null) {
                if (rule.matches(value, from, to)) {
                    return r;
                }
            } else {
                Matcher m = matchers.matcher(rule.pattern);
                m.reset(value).region(from, to);
                if (m.find()) {
                    return r;
                }
            }
        }
        return -1;
    }

    /** Appends {@code value[from, to)} as rule {@code r}, which {@link #find} found matching it, rewrites it. */
    void append(int r, CharSequence value, int from, int to, Matchers matchers, StringBuilder sb) {
        Rule rule = rules[r];
        if (rule.pattern != null) {
            rule.expand(matchers.matcher(rule.pattern), value, sb);
        } else if (rule.whole) {
            if (from < to && value.charAt(from) == '.') {
                sb.append('.');
            }
            sb.append(rule.replacement);
        } else {
            sb.append(rule.replacement).append(value, from + rule.text.length(), to);
        }
    }

    /** One rule, made by {@link #prefix}, {@link #whole} or {@link #regex}. */
    static final class Rule {
        final String text;
        /** How much of {@link #text} compares ignoring case. */
        final int foldLength;
        /** Whether {@link #text} must be the whole range (but one leading dot of it). */
        final boolean whole;
        final String replacement;
        final Pattern pattern;
        final Object[] template;

        private Rule(String text, int foldLength, boolean whole, String replacement, Pattern pattern) {
            this.text = text;
            this.foldLength = foldLength;
            this.whole = whole;
            this.replacement = replacement;
            this.pattern = pattern;
            this.template = pattern == null ? null : template(replacement, pattern, "rewrite").toArray();
        }

        /** A range starting with {@code prefix}, its first {@code foldLength} characters in any case. */
        static Rule prefix(String prefix, int foldLength, String replacement) {
            return new Rule(prefix, foldLength, false, replacement, null);
        }

        /** A range equal to {@code text} in any case, after one leading dot, which the rewrite keeps. */
        static Rule whole(String text, String replacement) {
            return new Rule(text, text.length(), true, replacement, null);
        }

        /** A range in which {@code pattern} is found: all of it becomes {@code replacement}, groups expanded. */
        static Rule regex(Pattern pattern, String replacement) {
            return new Rule(pattern.pattern(), 0, false, replacement, pattern);
        }

        boolean matches(CharSequence v, int from, int to) {
            if (whole && from < to && v.charAt(from) == '.') {
                from++;
            }
            int n = text.length();
            if (whole ? to - from != n : to - from < n) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                char a = v.charAt(from + i);
                char b = text.charAt(i);
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

    /** How a field's value is rewritten: by {@link Redirects} and {@link SetCookies}. */
    interface Field {
        /**
         * {@code value} rewritten, or null to leave it as it is.
         *
         * @param first whether the field is named as {@link #apply}'s {@code a} (else as its {@code b})
         */
        String rewrite(boolean first, CharSequence value, Matchers matchers);
    }

    /**
     * Rewrites every field of {@code h} named {@code a} or {@code b} (which differ in length, or are the
     * same name) as {@code field} says, each on its own and in its place. On lb-l7's own header maps the
     * fields are found with one scan and read where they are, allocating nothing when none changes.
     */
    static void apply(HttpHeaders h, AsciiString a, AsciiString b, Field field, Matchers matchers) {
        if (h instanceof CompactHeaders) {
            CompactHeaders c = (CompactHeaders) h;
            for (int i = c.indexOfEither(a, b, 0); i >= 0; i = c.indexOfEither(a, b, i + 1)) {
                String rewritten = field.rewrite(c.nameLength(i) == a.length(), c.valueInPlace(i), matchers);
                if (rewritten != null) {
                    c.replaceValue(i, rewritten);
                }
            }
            return;
        }
        applyTo(h, a, true, field, matchers);
        if (b != a) {
            applyTo(h, b, false, field, matchers);
        }
    }

    /** For header maps that are not lb-l7's own (none on today's paths): correct, not allocation-free. */
    private static void applyTo(HttpHeaders h, AsciiString name, boolean first, Field field, Matchers matchers) {
        List<String> values = h.getAll(name);
        List<String> out = null;
        for (int i = 0; i < values.size(); i++) {
            String rewritten = field.rewrite(first, values.get(i), matchers);
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

    /**
     * A connection's matchers, one per regex of the rules it used lately (redirect, cookie path, domain and
     * flags rules alike), so that trying a regex allocates nothing per response. Belongs to one event loop,
     * like the connection.
     */
    static final class Matchers {
        /** A connection moving between routes with many regexes starts over past this many. */
        private static final int MAX = 32;
        private Pattern[] patterns;
        private Matcher[] matchers;
        private int size;

        /** The matcher of {@code pattern} (compared by identity: rules compile each regex once). */
        Matcher matcher(Pattern pattern) {
            for (int i = 0; i < size; i++) {
                if (patterns[i] == pattern) {
                    return matchers[i];
                }
            }
            if (patterns == null) {
                patterns = new Pattern[4];
                matchers = new Matcher[4];
            } else if (size == MAX) {
                Arrays.fill(patterns, null);
                Arrays.fill(matchers, null);
                size = 0;
            } else if (size == patterns.length) {
                patterns = Arrays.copyOf(patterns, 2 * size);
                matchers = Arrays.copyOf(matchers, 2 * size);
            }
            Matcher m = pattern.matcher("");
            patterns[size] = pattern;
            matchers[size++] = m;
            return m;
        }
    }
}
