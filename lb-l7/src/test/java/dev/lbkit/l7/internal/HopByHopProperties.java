package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * {@link Headers#removeHopByHop} and {@link Headers#containsToken} against the plain reading of RFC 9110
 * §7.6.1: split {@code Connection} on commas, trim, remove every field named (a field named {@code close}
 * too), then the fixed hop-by-hop fields; on CompactHeaders as against Netty's DefaultHttpHeaders.
 */
class HopByHopProperties {
    private static final List<String> TOKENS = List.of("keep-alive", "Keep-Alive", "close", "CLOSE", "upgrade",
            "Upgrade", "te", "TE", "transfer-encoding", "proxy-connection", "connection", "x-hop", "X-Hop",
            "x-other", "keep-alivex", "clos", "", "cookie", "Date");
    private static final List<String> SPACE = List.of("", " ", "  ", "\t", " \t");
    private static final List<String> FIELDS = List.of("X-Hop", "x-other", "Keep-Alive", "TE", "Upgrade",
            "Transfer-Encoding", "Proxy-Connection", "Cookie", "Date", "Host", "close");

    /** {@code lazy}: the Connection values are added as bytes, as the head parser adds them. */
    record Message(List<String> connection, List<String> fields, boolean lazy) {}

    @Provide
    Arbitrary<Message> messages() {
        Arbitrary<String> item = Combinators.combine(Arbitraries.of(SPACE), Arbitraries.of(TOKENS), Arbitraries.of(SPACE))
                .as((a, t, b) -> a + t + b);
        // A decoded value has no whitespace at its ends (the decoder trims it, the header check refuses it).
        Arbitrary<String> value = item.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(",", l).strip())
                .filter(v -> !v.isEmpty());
        return Combinators.combine(value.list().ofMaxSize(3), Arbitraries.of(FIELDS).list().ofMaxSize(8),
                Arbitraries.of(true, false)).as(Message::new);
    }

    @Property(tries = 500)
    void removesWhatTheReferenceRemoves(@ForAll("messages") Message m) {
        HttpHeaders fast = CompactHeaders.FACTORY.newHeaders();
        HttpHeaders reference = new DefaultHttpHeaders();
        byte[] bytes = String.join("", m.connection()).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        for (HttpHeaders h : List.of(fast, reference)) {
            int at = 0;
            for (String c : m.connection()) {
                if (m.lazy() && h == fast) {
                    ((CompactHeaders) h).addLazy(io.netty.util.AsciiString.cached("Connection"), bytes, at, c.length());
                    at += c.length();
                } else {
                    h.add(HttpHeaderNames.CONNECTION, c);
                }
            }
            for (String f : m.fields()) {
                h.add(f, "v");
            }
        }
        Headers.removeHopByHop(fast);
        referenceRemove(reference);
        assertEquals(entries(reference), entries(fast));
        for (HttpHeaders h : List.of(fast, reference)) {
            for (String c : m.connection()) {
                h.add(HttpHeaderNames.CONNECTION, c);
            }
        }
        for (String t : List.of("upgrade", "close", "keep-alive", "x-hop")) {
            assertEquals(referenceContains(reference, t), Headers.containsToken(fast, HttpHeaderNames.CONNECTION, t), t);
        }
    }

    @Test
    void fieldsNamedInConnectionGoWithIt() {
        HttpHeaders h = CompactHeaders.FACTORY.newHeaders();
        h.add("Connection", "Keep-Alive ,X-Hop,\tclose");
        h.add("X-Hop", "1").add("Keep-Alive", "timeout=5").add("X-Kept", "2");
        Headers.removeHopByHop(h);
        assertEquals(List.of(Map.entry("X-Kept", "2")), entries(h));
        h.add("Connection", "keep-alive, Upgrade");
        assertTrue(Headers.containsToken(h, HttpHeaderNames.CONNECTION, "upgrade"));
        assertFalse(Headers.containsToken(h, HttpHeaderNames.CONNECTION, "upgrad"));
        assertFalse(Headers.containsToken(h, AsciiString.cached("x-none"), "upgrade"));
    }

    /** The reference: RFC 9110 §7.6.1 read plainly. */
    private static void referenceRemove(HttpHeaders h) {
        if (h.contains(HttpHeaderNames.CONNECTION)) {
            for (String v : h.getAll(HttpHeaderNames.CONNECTION)) {
                for (String t : v.split(",", -1)) {
                    String name = t.trim();
                    if (!name.isEmpty()) {
                        h.remove(name);
                    }
                }
            }
            h.remove(HttpHeaderNames.CONNECTION);
        }
        for (String n : List.of("proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade")) {
            h.remove(n);
        }
    }

    private static boolean referenceContains(HttpHeaders h, String token) {
        for (String v : h.getAll(HttpHeaderNames.CONNECTION)) {
            for (String t : v.split(",", -1)) {
                if (t.trim().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<Map.Entry<String, String>> entries(HttpHeaders h) {
        List<Map.Entry<String, String>> all = new ArrayList<>();
        for (Map.Entry<String, String> e : h) {
            all.add(Map.entry(e.getKey(), e.getValue()));
        }
        return all;
    }
}
