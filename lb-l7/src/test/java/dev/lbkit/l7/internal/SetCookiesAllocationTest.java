package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.l7.CookieFlags;
import dev.lbkit.l7.CookieRewrite;
import dev.lbkit.l7.StickyCookie;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A response head whose Set-Cookie fields no cookie rule changes (or that has none) costs no allocation,
 * with prefix, domain, regex and flags rules; a route without cookie rules (the default) has none to run.
 */
class SetCookiesAllocationTest {
    private static final int ROUNDS = 20_000;
    // Made once: AsciiString.cached makes a new object per call.
    private static final AsciiString CONTENT_TYPE = AsciiString.cached("Content-Type");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("Content-Length");
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
        byte[] bytes = (a + b).getBytes(StandardCharsets.ISO_8859_1);
        CompactHeaders withFields = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        CompactHeaders without = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        Runnable head = () -> {
            // As the upstream decoder fills its one head again per response: values still bytes.
            withFields.refill(4, bytes.length);
            withFields.addChecked(CONTENT_TYPE, "text/html");
            withFields.addLazy(SET_COOKIE, bytes, 0, a.length());
            withFields.addLazy(SET_COOKIE, bytes, a.length(), b.length());
            rules.apply(withFields, matchers);
            without.refill(2, 0);
            without.addChecked(CONTENT_TYPE, "text/html");
            without.addChecked(CONTENT_LENGTH, "12");
            rules.apply(without, matchers);
        };
        long perHead = ThreadAllocation.perRun(head, ROUNDS);
        assertEquals(List.of(a, b), withFields.getAll("Set-Cookie"));
        assertTrue(perHead == 0, perHead + " bytes per head");
    }
}
