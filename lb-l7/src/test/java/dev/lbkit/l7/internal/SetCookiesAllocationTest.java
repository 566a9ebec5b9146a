package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.l7.CookieFlags;
import dev.lbkit.l7.CookieRewrite;
import dev.lbkit.l7.StickyCookie;
import io.netty.util.AsciiString;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A response head whose Set-Cookie fields no cookie rule changes (or that has none) costs no allocation,
 * with prefix, domain, regex and flags rules; a route without cookie rules (the default) has none to run.
 */
class SetCookiesAllocationTest {
    private static final int ROUNDS = 20_000;
    // Made once: AsciiString.cached makes a new object per call.
    private static final AsciiString SET_COOKIE = AsciiString.cached("Set-Cookie");

    @Test
    void noRulesMeansNothingToRun() {
        assertNull(SetCookies.of(List.of(), List.of()));
    }

    @Test
    void fieldsNoRuleChangesAreScannedWithoutAllocating() {
        SetCookies rules = SetCookies.of(List.of(CookieRewrite.path("/two/", "/one/"),
                CookieRewrite.regexIgnoreCase(CookieRewrite.Attribute.PATH, "^/three/(.*)$", "/3/$1"),
                CookieRewrite.domain("backend.local", "example.com"),
                CookieRewrite.regex(CookieRewrite.Attribute.DOMAIN, "\\.internal$", "example.com")),
                List.of(CookieFlags.cookie("sid").secure().sameSite(StickyCookie.SameSite.LAX).build(),
                        CookieFlags.cookieRegex("^track_").noHttpOnly().build()));
        Rewrites.Matchers matchers = new Rewrites.Matchers();
        // Paths and domains no rule matches; sid already has what its rule adds; no cookie named track_*.
        String a = "sid=1; Path=/elsewhere/; Domain=www.example.com; Secure; SameSite=lax";
        String b = "theme=dark; path=/; HttpOnly; Max-Age=60";
        long perHead = ThreadAllocation.perUpstreamHead(SET_COOKIE, a, SET_COOKIE, b, h -> rules.apply(h, matchers),
                ROUNDS, h -> assertEquals(List.of(a, b), h.getAll("Set-Cookie")));
        assertTrue(perHead == 0, perHead + " bytes per head");
    }
}
