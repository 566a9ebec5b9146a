package dev.lbkit.api.resolve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class UpstreamEntryTest {

    @Test
    void parsesTheDocumentedEntryWithDefaults() {
        Upstream u = UpstreamEntry.parse("{\"host\":\"127.0.0.1\",\"port\":8081}");
        assertEquals("127.0.0.1:8081", u.key());
        assertEquals(1, u.weight());
        assertFalse(u.isBackup());
        assertTrue(u.metadata().isEmpty());
    }

    @Test
    void parsesEveryMemberAndIgnoresUnknownOnes() {
        Upstream u = UpstreamEntry.parse(" {\"host\":\"::1\",\"port\":9000,\"weight\":7,\"backup\":true,"
                + "\"metadata\":{\"zone\":\"a\",\"n\":3,\"tls\":false},\"future\":[1,2]} ");
        assertEquals("[::1]:9000", u.key());
        assertEquals(7, u.weight());
        assertTrue(u.isBackup());
        assertEquals(Map.of("zone", "a", "n", "3", "tls", "false"), u.metadata());
    }

    @Test
    void refusesBadEntriesNamingTheProblem() {
        assertMessage("not JSON", "host=127.0.0.1");
        assertMessage("port\" must be in 1..65535, got 0", "{\"host\":\"h\",\"port\":0}");
        assertMessage("port\" must be in 1..65535, got 70000", "{\"host\":\"h\",\"port\":70000}");
        assertMessage("weight\" must be in 0..65535, got -1", "{\"host\":\"h\",\"port\":1,\"weight\":-1}");
        assertMessage("must be an integer", "{\"host\":\"h\",\"port\":1.5}");
        assertMessage("\"host\"", "{\"port\":1}");
        assertMessage("\"port\"", "{\"host\":\"h\"}");
        assertMessage("backup", "{\"host\":\"h\",\"port\":1,\"backup\":\"yes\"}");
        assertMessage("metadata", "{\"host\":\"h\",\"port\":1,\"metadata\":{\"a\":{}}}");
        assertMessage("JSON object", "[1]");
        assertMessage("duplicate", "{\"host\":\"h\",\"host\":\"i\",\"port\":1}");
        assertMessage("port\" must be in 1..65535", "{\"host\":\"h\",\"port\":1e30}");
    }

    @Test
    void aFractionWithAHugeExponentIsRefusedWithoutSpellingItOut() {
        // Written out in full, this number has a billion digits: the message must not try.
        assertMessage("port\" must be an integer, got 1.5E-999999999",
                "{\"host\":\"h\",\"port\":1.5e-999999999}");
        assertMessage("weight\" must be an integer", "{\"host\":\"h\",\"port\":1,\"weight\":-2.5e-999999999}");
    }

    private static void assertMessage(String part, String json) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UpstreamEntry.parse(json));
        assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' should contain '" + part + "'");
    }

    @Property(tries = 200)
    void writtenEntriesParseBackToTheSameUpstream(@ForAll @IntRange(min = 1, max = 65535) int port,
            @ForAll @IntRange(min = 0, max = 65535) int weight, @ForAll boolean backup,
            @ForAll @StringLength(max = 12) String key, @ForAll @StringLength(max = 12) String value,
            @ForAll @AlphaChars @StringLength(min = 1, max = 20) String host) {
        Upstream u = Upstream.builder(host, port).weight(weight).backup(backup).metadata(key, value).build();
        Upstream back = UpstreamEntry.parse(UpstreamEntry.toJson(u));
        assertTrue(u.sameAs(back), () -> u + " vs " + back);
        assertEquals(u.metadata(), back.metadata());
    }

    @Property(tries = 200)
    void arbitraryTextNeverThrowsAnythingButIllegalArgument(@ForAll @StringLength(max = 40) String text) {
        try {
            UpstreamEntry.parse(text);
        } catch (IllegalArgumentException expected) {
            // The only allowed failure.
        }
    }
}
