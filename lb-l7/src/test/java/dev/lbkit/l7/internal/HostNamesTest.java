package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
