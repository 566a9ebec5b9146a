package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The name check used when SNI is off (RFC 6125 §6.4). */
class HostNamesTest {

    @Test
    void exactNamesMatchCaseInsensitivelyAndIgnoreTheRootDot() {
        assertTrue(HostNames.dnsMatches("upstream.lbkit.test", "UPSTREAM.lbkit.test"));
        assertTrue(HostNames.dnsMatches("upstream.lbkit.test.", "upstream.lbkit.test"));
        assertFalse(HostNames.dnsMatches("upstream.lbkit.test", "other.lbkit.test"));
        assertFalse(HostNames.dnsMatches("", ""));
    }

    @Test
    void aWildcardCoversExactlyOneLeftmostLabel() {
        assertTrue(HostNames.dnsMatches("*.lbkit.test", "a.lbkit.test"));
        assertFalse(HostNames.dnsMatches("*.lbkit.test", "lbkit.test"));
        assertFalse(HostNames.dnsMatches("*.lbkit.test", "a.b.lbkit.test"));
        assertFalse(HostNames.dnsMatches("*.test", "lbkit.test"));
        assertFalse(HostNames.dnsMatches("a*.lbkit.test", "ab.lbkit.test"));
    }

    @Provide
    Arbitrary<String> label() {
        return Arbitraries.strings().withCharRange('a', 'c').ofMinLength(1).ofMaxLength(3);
    }

    /** A wildcard pattern matches a name exactly when only the name's first label differs. */
    @Property(tries = 200)
    void wildcardMatchesOneLabel(@ForAll("label") String a, @ForAll("label") String b, @ForAll("label") String c,
            @ForAll("label") String d, @ForAll boolean deeper) {
        String pattern = "*." + b + "." + c;
        String name = deeper ? a + "." + d + "." + b + "." + c : a + "." + b + "." + c;
        boolean expected = !deeper;
        if (HostNames.dnsMatches(pattern, name) != expected) {
            throw new AssertionError(pattern + " vs " + name);
        }
        if (!HostNames.dnsMatches(name, name.toUpperCase(java.util.Locale.ROOT))) {
            throw new AssertionError("exact " + name);
        }
    }
}
