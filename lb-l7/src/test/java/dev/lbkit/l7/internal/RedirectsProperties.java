package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lbkit.l7.RedirectRewrite;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link Redirects}' rewrite against its plain reading: the first rule that matches, a prefix rule giving
 * replacement + rest, a regex rule (found anywhere) the replacement with its groups, and a value no rule
 * matches left as it is; in a header map, values still in bytes rewritten as values that are objects.
 */
class RedirectsProperties {
    private static final List<String> PIECES = List.of("http://", "https://", "HTTP://", "backend", "Backend",
            "front.example", ":8080", "/", "two/", "TWO/", "one/", "x", "?q=1", "%20", "url=", ";", " ");

    @Provide
    Arbitrary<String> values() {
        return Arbitraries.of(PIECES).list().ofMaxSize(8).map(l -> String.join("", l));
    }

    @Provide
    Arbitrary<String> prefixes() {
        return Arbitraries.of(PIECES).list().ofMinSize(1).ofMaxSize(4).map(l -> String.join("", l));
    }

    /** The plain reading of a prefix rule: scheme and host (up to the first / after ://) any case, the rest exact. */
    private static boolean startsWith(String value, String prefix) {
        if (value.length() < prefix.length()) {
            return false;
        }
        int scheme = prefix.indexOf("://");
        int slash = scheme <= 0 ? -1 : prefix.indexOf('/', scheme + 3);
        int fold = scheme <= 0 ? 0 : slash < 0 ? prefix.length() : slash;
        return value.regionMatches(true, 0, prefix, 0, fold) && value.startsWith(prefix.substring(fold), fold);
    }

    @Property(tries = 1000)
    void prefixRulesGiveTheFirstMatchingReplacementPlusTheRest(@ForAll("values") String value,
            @ForAll("prefixes") String a, @ForAll("prefixes") String b) {
        Redirects rules = Redirects.of(List.of(RedirectRewrite.prefix(a, "/A/"), RedirectRewrite.prefix(b, "")));
        String got = rules.rewrite(value, 0, new Rewrites.Matchers());
        if (startsWith(value, a)) {
            assertEquals("/A/" + value.substring(a.length()), got);
        } else if (startsWith(value, b)) {
            assertEquals(value.substring(b.length()), got);
        } else {
            assertNull(got, "no rule matches: the value stays as it is");
        }
    }

    @Property(tries = 1000)
    void regexRulesReplaceTheUrlPartWhenFoundAnywhere(@ForAll("values") String value, @ForAll("prefixes") String head,
            @ForAll boolean ignoreCase) {
        String regex = "(" + Pattern.quote(head) + ")(.*)";
        RedirectRewrite rule = ignoreCase ? RedirectRewrite.regexIgnoreCase(regex, "[$2|$1]$")
                : RedirectRewrite.regex(regex, "[$2|$1]$");
        String refresh = "5; url=" + value;
        int from = Redirects.refreshUrl(refresh);
        assertEquals(7, from);
        String got = Redirects.of(List.of(rule)).rewrite(refresh, from, new Rewrites.Matchers());
        Matcher m = rule.pattern().orElseThrow().matcher(value);
        if (m.find()) {
            assertEquals("5; url=[" + m.group(2) + "|" + m.group(1) + "]$", got);
        } else {
            assertNull(got);
        }
    }

    @Property(tries = 500)
    void headerMapsRewriteValuesInBytesAsValuesThatAreObjects(@ForAll("values") String location,
            @ForAll("values") String refresh, @ForAll boolean lazy) {
        Redirects rules = Redirects.of(List.of(RedirectRewrite.prefix("http://backend/two/", "/one/"),
                RedirectRewrite.regexIgnoreCase("^https?://front\\.example(/.*)", "$1")));
        CompactHeaders h = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        byte[] bytes = (location + "refresh: " + refresh).getBytes(StandardCharsets.ISO_8859_1);
        h.addChecked(AsciiString.cached("X-Before"), "1");
        if (lazy) {
            h.addLazy(AsciiString.cached("Location"), bytes, 0, location.length());
            h.addLazy(AsciiString.cached("refresh"), bytes, location.length() + 9, refresh.length());
        } else {
            h.addChecked(AsciiString.cached("Location"), location);
            h.addChecked(AsciiString.cached("refresh"), refresh);
        }
        rules.apply(h, new Rewrites.Matchers());
        Rewrites.Matchers m = new Rewrites.Matchers();
        String l = rules.rewrite(location, 0, m);
        int from = Redirects.refreshUrl(refresh);
        String r = from < 0 ? null : rules.rewrite(refresh, from, m);
        assertEquals(List.of("X-Before", "Location", "refresh"), List.copyOf(names(h)));
        assertEquals(l == null ? location : l, h.get("Location"));
        assertEquals(r == null ? refresh : r, h.get("Refresh"));
    }

    private static List<String> names(HttpHeaders h) {
        return h.entries().stream().map(e -> e.getKey()).toList();
    }

    @Property(tries = 200)
    void aConnectionsMatcherServesEveryResponseOfItsRules(@ForAll("values") String v1, @ForAll("values") String v2) {
        RedirectRewrite rule = RedirectRewrite.regex("two/(x)", "$1");
        Redirects rules = Redirects.of(List.of(rule));
        Rewrites.Matchers m = new Rewrites.Matchers();
        rules.rewrite(v1, 0, m);
        Matcher first = m.matcher(rule.pattern().orElseThrow());
        rules.rewrite(v2, 0, m);
        assertSame(first, m.matcher(rule.pattern().orElseThrow()));
    }
}
