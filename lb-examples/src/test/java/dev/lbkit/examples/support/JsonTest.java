package dev.lbkit.examples.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
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
