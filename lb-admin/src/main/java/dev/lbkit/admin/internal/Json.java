package dev.lbkit.admin.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON lb-admin needs, so that it brings no JSON library: a streaming writer for the state it
 * serves and a strict parser for the small request bodies it accepts. Not thread-safe.
 */
public final class Json {
    /** Deepest nesting the parser accepts; request bodies are flat objects. */
    private static final int MAX_DEPTH = 16;

    private final StringBuilder out;
    /** One flag per open container: whether the next value needs a comma before it. */
    private final boolean[] needComma = new boolean[64];
    private int depth;
    private boolean afterName;

    public Json(StringBuilder out) {
        this.out = out;
    }

    public Json() {
        this(new StringBuilder(256));
    }

    public Json beginObject() {
        prefix();
        out.append('{');
        needComma[++depth] = false;
        return this;
    }

    public Json endObject() {
        depth--;
        out.append('}');
        return this;
    }

    public Json beginArray() {
        prefix();
        out.append('[');
        needComma[++depth] = false;
        return this;
    }

    public Json endArray() {
        depth--;
        out.append(']');
        return this;
    }

    public Json name(String name) {
        prefix();
        quote(out, name);
        out.append(':');
        afterName = true;
        return this;
    }

    public Json value(String s) {
        prefix();
        if (s == null) {
            out.append("null");
        } else {
            quote(out, s);
        }
        return this;
    }

    public Json value(long n) {
        prefix();
        out.append(n);
        return this;
    }

    public Json value(double d) {
        prefix();
        if (Double.isFinite(d)) {
            out.append(d);
        } else {
            out.append("null");
        }
        return this;
    }

    public Json value(boolean b) {
        prefix();
        out.append(b);
        return this;
    }

    public Json nullValue() {
        prefix();
        out.append("null");
        return this;
    }

    public Json field(String name, String value) {
        return name(name).value(value);
    }

    public Json field(String name, long value) {
        return name(name).value(value);
    }

    public Json field(String name, double value) {
        return name(name).value(value);
    }

    public Json field(String name, boolean value) {
        return name(name).value(value);
    }

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

    /** Appends {@code s} as a JSON string; escapes what could end a script block too ({@code <}, {@code >}, {@code &}). */
    static void quote(StringBuilder out, String s) {
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
        out.append('"');
    }

    /**
     * Parses one JSON object: strings, numbers (as {@link Long} when integral, else {@link Double}),
     * booleans, null, nested objects ({@link Map}) and arrays ({@link List}).
     *
     * @throws IllegalArgumentException with a message naming what is wrong and where
     */
    public static Map<String, Object> parseObject(String text) {
        Parser p = new Parser(text);
        p.skipSpace();
        if (p.pos >= text.length() || text.charAt(p.pos) != '{') {
            throw new IllegalArgumentException("body must be a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) p.value(0);
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the object");
        }
        return m;
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(String s) {
            this.s = s;
        }

        Object value(int level) {
            if (level > MAX_DEPTH) {
                throw error("nested too deeply");
            }
            skipSpace();
            if (pos >= s.length()) {
                throw error("unexpected end of input");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return object(level);
                case '[':
                    return array(level);
                case '"':
                    return string();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected character '" + c + "'");
            }
        }

        Map<String, Object> object(int level) {
            Map<String, Object> m = new LinkedHashMap<>();
            pos++;
            skipSpace();
            if (peek() == '}') {
                pos++;
                return m;
            }
            for (;;) {
                skipSpace();
                if (peek() != '"') {
                    throw error("expected a field name");
                }
                String name = string();
                skipSpace();
                expect(':');
                if (m.containsKey(name)) {
                    throw error("duplicate field \"" + name + "\"");
                }
                m.put(name, value(level + 1));
                skipSpace();
                char c = peek();
                pos++;
                if (c == '}') {
                    return m;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}'");
                }
            }
        }

        List<Object> array(int level) {
            List<Object> l = new ArrayList<>();
            pos++;
            skipSpace();
            if (peek() == ']') {
                pos++;
                return l;
            }
            for (;;) {
                l.add(value(level + 1));
                skipSpace();
                char c = peek();
                pos++;
                if (c == ']') {
                    return l;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']'");
                }
            }
        }

        String string() {
            pos++;
            StringBuilder b = new StringBuilder();
            while (pos < s.length()) {
                char c = s.charAt(pos++);
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\') {
                    if (pos >= s.length()) {
                        break;
                    }
                    char e = s.charAt(pos++);
                    switch (e) {
                        case '"', '\\', '/' -> b.append(e);
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'n' -> b.append('\n');
                        case 'r' -> b.append('\r');
                        case 't' -> b.append('\t');
                        case 'u' -> {
                            if (pos + 4 > s.length()) {
                                throw error("short \\u escape");
                            }
                            try {
                                b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                            } catch (NumberFormatException ex) {
                                throw error("bad \\u escape");
                            }
                            pos += 4;
                        }
                        default -> throw error("bad escape '\\" + e + "'");
                    }
                } else if (c < 0x20) {
                    throw error("control character in string");
                } else {
                    b.append(c);
                }
            }
            throw error("unterminated string");
        }

        Object number() {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            boolean integral = true;
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c >= '0' && c <= '9') {
                    pos++;
                } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                    integral = false;
                    pos++;
                } else {
                    break;
                }
            }
            String t = s.substring(start, pos);
            try {
                return integral ? (Object) Long.parseLong(t) : (Object) Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw error("bad number '" + t + "'");
            }
        }

        Object literal(String word, Object v) {
            if (!s.startsWith(word, pos)) {
                throw error("unexpected token");
            }
            pos += word.length();
            return v;
        }

        void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        char peek() {
            return pos < s.length() ? s.charAt(pos) : '\0';
        }

        void skipSpace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("invalid JSON at offset " + pos + ": " + what);
        }
    }
}
