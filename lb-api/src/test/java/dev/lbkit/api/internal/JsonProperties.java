package dev.lbkit.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class JsonProperties {

    @Property(tries = 200)
    void whatTheWriterWritesTheParserReadsBack(@ForAll @StringLength(max = 40) String name,
            @ForAll @StringLength(max = 80) String text, @ForAll long n, @ForAll boolean b) {
        Json.Writer j = new Json.Writer();
        j.beginObject().field("s", text).field("n", n).field("b", b).name("a").beginArray().value(text).value(n)
                .endArray().name("o").beginObject().field(name, text).endObject().endObject();
        String out = j.toString();
        assertFalse(out.contains("<") || out.contains(">"), "could end a script block: " + out);
        Map<String, Object> m = Json.parseSimpleObject(out);
        assertEquals(text, m.get("s"));
        assertEquals(n, m.get("n"));
        assertEquals(b, m.get("b"));
        assertEquals(List.of(text, n), m.get("a"));
        assertEquals(Map.of(name, text), m.get("o"));
    }

    @Property(tries = 200)
    void theParserNeverFailsOtherThanWithAMessage(@ForAll @StringLength(max = 60) String junk) {
        try {
            Json.parseSimpleObject(junk);
        } catch (IllegalArgumentException e) {
            assertFalse(e.getMessage().isEmpty());
        }
    }

    @Test
    void rejectsWhatIsNotOneObject() {
        assertThrows(IllegalArgumentException.class, () -> Json.parseSimpleObject("[1]"));
        assertThrows(IllegalArgumentException.class, () -> Json.parseSimpleObject("{} {}"));
        assertThrows(IllegalArgumentException.class, () -> Json.parseSimpleObject("{\"a\":1,\"a\":2}"));
        assertThrows(IllegalArgumentException.class, () -> Json.parseSimpleObject("{\"a\":" + "[".repeat(100) + "}"));
        assertEquals(Map.of("w", 3L, "x", 1.5, "y", "é\n"), Json.parseSimpleObject(" {\"w\":3, \"x\":1.5, \"y\":\"\\u00e9\\n\"} "));
    }

    @Test
    void writesNestedValuesInOrderAndEscapesStrings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "a\"b\\c\n");
        m.put("n", 7);
        m.put("ok", true);
        m.put("list", List.of(1, "x"));
        m.put("none", null);
        assertEquals("{\"name\":\"a\\\"b\\\\c\\n\",\"n\":7,\"ok\":true,\"list\":[1,\"x\"],\"none\":null}", Json.write(m));
        assertEquals("\"\\u0001\"", Json.write("\u0001"));
    }
}
