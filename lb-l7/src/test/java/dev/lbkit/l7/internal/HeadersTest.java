package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.Upstream;
import org.junit.jupiter.api.Test;

class HeadersTest {
    @Test
    void anUpstreamAddressAsHostKeepsIpv6BracketsAndLeavesOutPort80() {
        assertEquals("backend.example", Headers.hostOf(Upstream.of("backend.example", 80)));
        assertEquals("backend.example:8080", Headers.hostOf(Upstream.of("backend.example", 8080)));
        assertEquals("192.0.2.1", Headers.hostOf(Upstream.of("192.0.2.1", 80)));
        // "::1" alone is no valid Host (RFC 3986 §3.2.2: an IP literal is bracketed).
        assertEquals("[::1]", Headers.hostOf(Upstream.of("::1", 80)));
        assertEquals("[2001:db8::1]:8080", Headers.hostOf(Upstream.of("2001:db8::1", 8080)));
    }
}
