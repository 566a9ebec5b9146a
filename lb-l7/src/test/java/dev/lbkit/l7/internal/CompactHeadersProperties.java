package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** CompactHeaders behaves as Netty's DefaultHttpHeaders for every operation the proxy and the codecs use. */
class CompactHeadersProperties {
    private static final List<String> NAMES = List.of("Host", "host", "HOST", "Connection", "connection",
            "Content-Length", "X-A", "x-a", "Transfer-Encoding", "Set-Cookie");
    private static final List<String> VALUES = List.of("a", "b", "close", "Close", "keep-alive, close",
            "chunked", "gzip, chunked", "12", "", "x y", "a ,b", "a,", ",close", "CHUNKED ,", "b \t, c");

    record Op(int kind, String name, String value, List<String> values) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 5),
                Arbitraries.of(NAMES), Arbitraries.of(VALUES), Arbitraries.of(VALUES).list().ofMaxSize(3))
                .as(Op::new);
        return op.list().ofMaxSize(30);
    }

    /** Every value of {@link #VALUES} side by side: the one array lazy values of a section come from. */
    private static final byte[] LAZY = String.join("", VALUES).getBytes(StandardCharsets.US_ASCII);

    private static void addLazy(CompactHeaders h, String name, String value) {
        int offset = 0;
        for (String v : VALUES) {
            if (v.equals(value)) {
                break;
            }
            offset += v.length();
        }
        h.addLazy(io.netty.util.AsciiString.of(name), LAZY, offset, value.length());
    }

    @Property(tries = 300)
    void sameAsNettysHeaders(@ForAll("ops") List<Op> ops) {
        apply(ops, true);
    }

    /**
     * Values added as bytes ({@code addLazy}, as the head parser adds them) are encoded, copied, removed and
     * counted from their bytes, and read as the same values, whether or not anything read them before.
     */
    @Property(tries = 300)
    void lazyValuesAreTheirBytesUntilRead(@ForAll("ops") List<Op> ops) {
        apply(ops, false);
    }

    private static void apply(List<Op> ops, boolean checkEachStep) {
        HttpHeaders ref = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        HttpHeaders mine = CompactHeaders.FACTORY.newHeaders();
        // Sized up front as the head parser sizes it (0 to 6 fields), or not: the same either way.
        ((CompactHeaders) mine).capacity(ops.size() % 7);
        for (Op o : ops) {
            switch (o.kind()) {
                case 5 -> {
                    ref.add(o.name(), o.value());
                    addLazy((CompactHeaders) mine, o.name(), o.value());
                }
                case 0 -> {
                    ref.add(o.name(), o.value());
                    mine.add(o.name(), o.value());
                }
                case 1 -> {
                    ref.set(o.name(), o.value());
                    mine.set(o.name(), o.value());
                }
                case 2 -> {
                    ref.remove(o.name());
                    mine.remove(o.name());
                }
                case 3 -> {
                    ref.set(o.name(), o.values());
                    mine.set(o.name(), o.values());
                }
                default -> {
                    ref.add(o.name(), o.values());
                    mine.add(o.name(), o.values());
                }
            }
            if (checkEachStep) {
                assertSame(ref, mine);
            }
        }
        assertSame(ref.copy(), mine.copy());
        assertSame(ref, mine);
        ref.clear();
        mine.clear();
        assertSame(ref, mine);
    }

    private static void assertSame(HttpHeaders ref, HttpHeaders mine) {
        if (mine instanceof CompactHeaders c) {
            // First, before anything reads a value: bytes still only bytes are encoded from the bytes.
            String expected = expectedLines(ref);
            ByteBuf buf = Unpooled.buffer();
            try {
                c.encode(buf);
                assertEquals(expected, buf.toString(StandardCharsets.US_ASCII));
                assertEquals(buf.readableBytes(), c.encodedLength());
            } finally {
                buf.release();
            }
        }
        assertEquals(ref.size(), mine.size());
        assertEquals(ref.isEmpty(), mine.isEmpty());
        assertEquals(lines(ref), lines(mine));
        TreeSet<String> refNames = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        refNames.addAll(ref.names());
        TreeSet<String> myNames = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        myNames.addAll(mine.names());
        assertEquals(refNames, myNames);
        for (String n : NAMES) {
            assertEquals(ref.get(n), mine.get(n), n);
            assertEquals(ref.getAll(n), mine.getAll(n), n);
            assertEquals(ref.contains(n), mine.contains(n), n);
            assertEquals(ref.getInt(n), mine.getInt(n), n);
            for (String v : VALUES) {
                assertEquals(ref.contains(n, v, true), mine.contains(n, v, true), n + "=" + v);
                assertEquals(ref.contains(n, v, false), mine.contains(n, v, false), n + "=" + v);
                assertEquals(ref.containsValue(n, v, true), mine.containsValue(n, v, true), n + "~" + v);
                assertEquals(ref.containsValue(n, v, false), mine.containsValue(n, v, false), n + "~" + v);
                String trimmed = v.trim();
                assertEquals(ref.containsValue(n, trimmed, true), mine.containsValue(n, trimmed, true), n + "~" + trimmed);
            }
        }
        if (mine instanceof CompactHeaders c) {
            ByteBuf buf = Unpooled.buffer();
            try {
                c.encode(buf);
                assertEquals(expectedLines(ref), buf.toString(StandardCharsets.US_ASCII));
                assertEquals(buf.readableBytes(), c.encodedLength());
            } finally {
                buf.release();
            }
        }
    }

    private static String expectedLines(HttpHeaders ref) {
        return String.join("", lines(ref).stream().map(l -> l + "\r\n").toList());
    }

    private static List<String> lines(HttpHeaders h) {
        List<String> out = new ArrayList<>();
        var it = h.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            out.add(e.getKey() + ": " + e.getValue());
        }
        List<String> viaStrings = new ArrayList<>();
        for (Map.Entry<String, String> e : h) {
            viaStrings.add(e.getKey() + ": " + e.getValue());
        }
        assertEquals(out, viaStrings);
        return out;
    }

    @Test
    void rejectsWhatNettyRejects() {
        HttpHeaders ref = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        HttpHeaders mine = CompactHeaders.FACTORY.newHeaders();
        for (String bad : List.of("bad name", "", "a:b", "x\ty", "é")) {
            assertThrows(IllegalArgumentException.class, () -> ref.add(bad, "v"), bad);
            assertThrows(IllegalArgumentException.class, () -> mine.add(bad, "v"), bad);
        }
        for (String bad : List.of("a\r\nInjected: 1", "a\nb", "a\0b")) {
            assertThrows(IllegalArgumentException.class, () -> ref.add("X", bad), bad);
            assertThrows(IllegalArgumentException.class, () -> mine.add("X", bad), bad);
            assertThrows(IllegalArgumentException.class, () -> mine.set("X", bad), bad);
        }
        assertEquals(0, mine.size());
        HttpHeaders refTrailers = DefaultHttpHeadersFactory.trailersFactory().newHeaders();
        HttpHeaders myTrailers = CompactHeaders.TRAILERS.newHeaders();
        for (String framing : List.of("Content-Length", "transfer-encoding", "Trailer")) {
            assertThrows(IllegalArgumentException.class, () -> refTrailers.add(framing, "1"), framing);
            assertThrows(IllegalArgumentException.class, () -> myTrailers.add(framing, "1"), framing);
        }
        // The decoders' shared name constants skip the name check in headers, never in trailers.
        byte[] cl = "Content-Length".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        io.netty.util.AsciiString constant = Codecs.KnownNames.find(cl, 0, cl.length);
        assertTrue(Codecs.KnownNames.isConstant(constant));
        assertFalse(Codecs.KnownNames.isConstant(new io.netty.util.AsciiString("Content-Length")));
        assertThrows(IllegalArgumentException.class, () -> myTrailers.add(constant, "1"));
        mine.add(constant, "1");
        assertEquals("1", mine.get("content-length"));
        myTrailers.add("X-Checksum", "abc");
        assertEquals("abc", myTrailers.get("x-checksum"));
    }
}
