package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.l7.RedirectRewrite;
import io.netty.util.AsciiString;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A response head whose Location and Refresh no rule matches (or that has neither) costs no allocation,
 * with prefix and regex rules: what the head path of every proxied response runs.
 */
class RedirectsAllocationTest {
    private static final int ROUNDS = 20_000;
    // Made once: AsciiString.cached makes a new object per call.
    private static final AsciiString LOCATION = AsciiString.cached("Location");
    private static final AsciiString REFRESH = AsciiString.cached("Refresh");

    @Test
    void valuesNoRuleMatchesAreCheckedWithoutAllocating() {
        Redirects rules = Redirects.of(List.of(RedirectRewrite.prefix("http://backend/two/", "/one/"),
                RedirectRewrite.regexIgnoreCase("^https?://front\\.example/two/(.*)$", "/one/$1")));
        Rewrites.Matchers matchers = new Rewrites.Matchers();
        String location = "http://elsewhere.example/two/x?y=1";
        String refresh = "5; url=http://elsewhere.example/two/z";
        long perHead = ThreadAllocation.perUpstreamHead(LOCATION, location, REFRESH, refresh,
                h -> rules.apply(h, matchers), ROUNDS, h -> {
                    assertEquals(location, h.get("Location"));
                    assertEquals(refresh, h.get("Refresh"));
                });
        assertTrue(perHead == 0, perHead + " bytes per head");
    }
}
