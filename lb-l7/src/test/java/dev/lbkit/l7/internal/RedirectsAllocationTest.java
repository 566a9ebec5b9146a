package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.l7.RedirectRewrite;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A response head whose Location and Refresh no rule matches (or that has neither) costs no allocation,
 * with prefix and regex rules: what the head path of every proxied response runs.
 */
class RedirectsAllocationTest {
    private static final int ROUNDS = 20_000;
    // Made once: AsciiString.cached makes a new object per call.
    private static final AsciiString CONTENT_TYPE = AsciiString.cached("Content-Type");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("Content-Length");
    private static final AsciiString LOCATION = AsciiString.cached("Location");
    private static final AsciiString REFRESH = AsciiString.cached("Refresh");

    @Test
    void valuesNoRuleMatchesAreCheckedWithoutAllocating() {
        Redirects rules = Redirects.of(List.of(RedirectRewrite.prefix("http://backend/two/", "/one/"),
                RedirectRewrite.regexIgnoreCase("^https?://front\\.example/two/(.*)$", "/one/$1")));
        Rewrites.Matchers matchers = new Rewrites.Matchers();
        String location = "http://elsewhere.example/two/x?y=1";
        String refresh = "5; url=http://elsewhere.example/two/z";
        byte[] bytes = (location + refresh).getBytes(StandardCharsets.ISO_8859_1);
        CompactHeaders withFields = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        CompactHeaders without = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        Runnable head = () -> {
            // As the upstream decoder fills its one head again per response: values still bytes.
            withFields.refill(4, bytes.length);
            withFields.addChecked(CONTENT_TYPE, "text/html");
            withFields.addLazy(LOCATION, bytes, 0, location.length());
            withFields.addLazy(REFRESH, bytes, location.length(), refresh.length());
            rules.apply(withFields, matchers);
            without.refill(2, 0);
            without.addChecked(CONTENT_TYPE, "text/html");
            without.addChecked(CONTENT_LENGTH, "12");
            rules.apply(without, matchers);
        };
        long perHead = ThreadAllocation.perRun(head, ROUNDS);
        assertEquals(location, withFields.get("Location"));
        assertEquals(refresh, withFields.get("Refresh"));
        assertTrue(perHead == 0, perHead + " bytes per head");
    }
}
