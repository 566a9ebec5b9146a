package dev.lbkit.l7;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the rewrite rules of {@code proxy_redirect} ({@link RedirectRewrite}) and of
 * {@code proxy_cookie_path} / {@code proxy_cookie_domain} ({@link CookieRewrite}) have in common: the text a
 * value is matched with (a prefix, a domain or a regex), its replacement and, for a regex rule, the compiled
 * regex. Immutable and thread-safe.
 */
abstract class RewriteRule {
    final String text;
    final String replacement;
    final Pattern pattern;

    RewriteRule(String text, String replacement, Pattern pattern) {
        this.text = text;
        this.replacement = replacement;
        this.pattern = pattern;
    }

    /** What replaces a match. */
    public String replacement() {
        return replacement;
    }

    /** The compiled regex of a regex rule; empty for the others. */
    public Optional<Pattern> pattern() {
        return Optional.ofNullable(pattern);
    }

    /** Whether a regex rule ignores case ({@code ~*}); false for the others. */
    public boolean ignoreCase() {
        return pattern != null && (pattern.flags() & Pattern.CASE_INSENSITIVE) != 0;
    }

    /** Whether {@code r} matches and replaces as this rule does (the subclass compares what else it has). */
    final boolean sameRule(RewriteRule r) {
        return text.equals(r.text) && replacement.equals(r.replacement) && (pattern == null) == (r.pattern == null)
                && ignoreCase() == r.ignoreCase();
    }

    final int ruleHash() {
        return Objects.hash(text, replacement, pattern == null, ignoreCase());
    }

    /** {@code ~} or {@code ~*} before a regex, as nginx writes it; nothing for the other rules. */
    final String regexMark() {
        return pattern == null ? "" : ignoreCase() ? "~*" : "~";
    }
}
