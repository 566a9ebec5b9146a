package dev.lbkit.api.internal;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one small JSON (RFC 8259) implementation of lbkit, so that no module brings a JSON library: a strict
 * reader ({@link #parse}, {@link #parseObject}: objects become {@code LinkedHashMap}s in document order,
 * arrays {@code ArrayList}s, numbers {@link BigDecimal}s, {@code null} {@link #NULL}; {@link #parseSimpleObject}
 * for Java-typed values), a tree writer ({@link #write(Object)}) and a streaming {@link Writer}. Not part of
 * the public API.
 *
 * <p>The static methods are thread-safe (stateless); a {@link Writer} is not.
 */
public final class Json {
    /** Stands for JSON {@code null} (maps cannot tell a {@code null} value from an absent key otherwise). */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** Deeper nesting than this is refused, so that hostile input cannot exhaust the stack. */
    private static final int MAX_DEPTH = 64;

    private final String text;
    private int pos;

    private Json(String text) {
        this.text = text;
    }

    /**
     * Parses one JSON value that must span the whole text (surrounding white space allowed).
     *
     * @throws IllegalArgumentException naming the offset and the problem if the text is not JSON
     */
    public static Object parse(String text) {
        Json p = new Json(Checks.notNull(text, "text"));
        p.skipSpace();
        Object v = p.value(0);
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("trailing characters");
        }
        return v;
    }

    /**
     * Parses a JSON object.
     *
     * @throws IllegalArgumentException if the text is not JSON or not an object
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException("expected a JSON object, got " + describe(v));
        }
        return (Map<String, Object>) v;
    }

    /** A short name of a parsed value's JSON type, for error messages. */
    public static String describe(Object v) {
        if (v instanceof Map) {
            return "an object";
        } else if (v instanceof List) {
            return "an array";
        } else if (v instanceof String) {
            return "a string";
        } else if (v instanceof BigDecimal) {
            return "the number " + v;
        } else if (v instanceof Boolean) {
            return "a boolean";
        }
        return "null";
    }

    /**
     * Parses a JSON object into plain Java values: integral numbers become {@link Long}s, other numbers
     * {@link Double}s, {@code null} Java {@code null}; objects and arrays as in {@link #parse}.
     *
     * @throws IllegalArgumentException if the text is not JSON or not an object
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseSimpleObject(String text) {
        return (Map<String, Object>) simple(parseObject(text));
    }

    private static Object simple(Object v) {
        if (v == NULL) {
            return null;
        } else if (v instanceof BigDecimal d) {
            if (d.scale() == 0 && d.unscaledValue().bitLength() < 64) {
                return d.longValueExact();
            }
            return d.doubleValue();
        } else if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(k, simple(x)));
            return out;
        } else if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(x -> out.add(simple(x)));
            return out;
        }
        return v;
    }

    /**
     * {@code value} as compact JSON: a {@link Map} becomes an object in the map's order (keys by
     * {@code String.valueOf}), a {@link List} an array, a {@link Number} or {@link Boolean} itself,
     * {@code null} or {@link #NULL} {@code null}, anything else its {@code toString()} as a string.
     */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v) {
        if (v == null || v == NULL) {
            sb.append("null");
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                quote(sb, String.valueOf(e.getKey())).append(':');
                write(sb, e.getValue());
                if (it.hasNext()) {
                    sb.append(',');
                }
            }
            sb.append('}');
        } else if (v instanceof List<?> list) {
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                write(sb, list.get(i));
            }
            sb.append(']');
        } else if (v instanceof Number || v instanceof Boolean) {
            sb.append(v);
        } else {
            quote(sb, v.toString());
        }
    }

    /**
     * Appends {@code s} as a JSON string literal, quotes included. Also escapes what could end a script
     * block or an HTML attribute ({@code <}, {@code >}, {@code &}, U+2028, U+2029), so that the output can
     * be embedded in a page as is.
     */
    public static StringBuilder quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }

    /**
     * A streaming JSON writer: containers, names and values appended in order, commas placed for the
     * caller. Not thread-safe; nesting deeper than 63 levels is not supported.
     */
    public static final class Writer {
        private final StringBuilder out;
        /** One flag per open container: whether the next value needs a comma before it. */
        private final boolean[] needComma = new boolean[64];
        private int depth;
        private boolean afterName;

        /** A writer appending to {@code out}. */
        public Writer(StringBuilder out) {
            this.out = Checks.notNull(out, "out");
        }

        /** A writer with its own buffer. */
        public Writer() {
            this(new StringBuilder(256));
        }

        public Writer beginObject() {
            prefix();
            out.append('{');
            needComma[++depth] = false;
            return this;
        }

        public Writer endObject() {
            depth--;
            out.append('}');
            return this;
        }

        public Writer beginArray() {
            prefix();
            out.append('[');
            needComma[++depth] = false;
            return this;
        }

        public Writer endArray() {
            depth--;
            out.append(']');
            return this;
        }

        public Writer name(String name) {
            prefix();
            quote(out, name);
            out.append(':');
            afterName = true;
            return this;
        }

        public Writer value(String s) {
            prefix();
            if (s == null) {
                out.append("null");
            } else {
                quote(out, s);
            }
            return this;
        }

        public Writer value(long n) {
            prefix();
            out.append(n);
            return this;
        }

        /** Writes {@code d}, or {@code null} if it is not finite (JSON has no NaN or infinity). */
        public Writer value(double d) {
            prefix();
            if (Double.isFinite(d)) {
                out.append(d);
            } else {
                out.append("null");
            }
            return this;
        }

        public Writer value(boolean b) {
            prefix();
            out.append(b);
            return this;
        }

        public Writer nullValue() {
            prefix();
            out.append("null");
            return this;
        }

        public Writer field(String name, String value) {
            return name(name).value(value);
        }

        public Writer field(String name, long value) {
            return name(name).value(value);
        }

        public Writer field(String name, double value) {
            return name(name).value(value);
        }

        public Writer field(String name, boolean value) {
            return name(name).value(value);
        }

        /** What has been written so far. */
        @Override
        public String toString() {
            return out.toString();
        }

        private void prefix() {
            if (afterName) {
                afterName = false;
                return;
            }
            if (depth > 0) {
                if (needComma[depth]) {
                    out.append(',');
                }
                needComma[depth] = true;
            }
        }
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        if (pos >= text.length()) {
            throw error("unexpected end");
        }
        char c = text.charAt(pos);
        switch (c) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", NULL);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error("unexpected character '" + c + "'");
        }
    }

    private Map<String, Object> object(int depth) {
        pos++;
        Map<String, Object> map = new LinkedHashMap<>();
        skipSpace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        for (;;) {
            skipSpace();
            if (peek() != '"') {
                throw error("expected a member name");
            }
            String name = string();
            skipSpace();
            expect(':');
            skipSpace();
            if (map.put(name, value(depth + 1)) != null) {
                throw error("duplicate member \"" + name + "\"");
            }
            skipSpace();
            char c = next();
            if (c == '}') {
                return map;
            }
            if (c != ',') {
                throw error("expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) {
        pos++;
        List<Object> list = new ArrayList<>();
        skipSpace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        for (;;) {
            skipSpace();
            list.add(value(depth + 1));
            skipSpace();
            char c = next();
            if (c == ']') {
                return list;
            }
            if (c != ',') {
                throw error("expected ',' or ']'");
            }
        }
    }

    private String string() {
        pos++;
        StringBuilder sb = new StringBuilder();
        for (;;) {
            char c = next();
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                throw error("control character in string");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) {
                        throw error("short \\u escape");
                    }
                    int cp = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(text.charAt(pos++), 16);
                        if (d < 0) {
                            throw error("bad \\u escape");
                        }
                        cp = cp * 16 + d;
                    }
                    sb.append((char) cp);
                }
                default -> throw error("bad escape '\\" + e + "'");
            }
        }
    }

    private BigDecimal number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (!digits()) {
            throw error("bad number");
        }
        if (peek() == '.') {
            pos++;
            if (!digits()) {
                throw error("bad fraction");
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!digits()) {
                throw error("bad exponent");
            }
        }
        try {
            return new BigDecimal(text.substring(start, pos));
        } catch (NumberFormatException e) {
            throw error("bad number");
        }
    }

    private boolean digits() {
        int start = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        return pos > start;
    }

    private Object literal(String word, Object v) {
        if (!text.startsWith(word, pos)) {
            throw error("unexpected word");
        }
        pos += word.length();
        return v;
    }

    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private char next() {
        if (pos >= text.length()) {
            throw error("unexpected end");
        }
        return text.charAt(pos++);
    }

    private void expect(char c) {
        if (next() != c) {
            pos--;
            throw error("expected '" + c + "'");
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("not JSON: " + what + " at offset " + pos);
    }
}
