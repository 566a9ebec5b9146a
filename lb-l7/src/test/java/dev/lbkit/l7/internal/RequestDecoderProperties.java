package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The request decoder's fast path decodes exactly what its path through Netty's decoder decodes (with
 * lb-l7's RFC 9112 checks): the same messages, heads, field order and spelling, body pieces and
 * failures, for well-formed and malformed requests, within the decoder's limits or over them, however
 * the bytes are split across reads, pipelined or cut off by a close.
 */
class RequestDecoderProperties {

    /** One generated case: the bytes a client sends, where reads split them, the decoder's head limits. */
    record Case(byte[] bytes, int[] splits, int maxInitialLine, int maxHeaderSize, String description) {
        @Override
        public String toString() {
            return description + " split at " + Arrays.toString(splits) + " limits " + maxInitialLine + "/"
                    + maxHeaderSize;
        }
    }

    @Property(tries = 3000)
    void theFastPathDecodesExactlyAsTheNettyPath(@ForAll("cases") Case c) {
        assertEquals(DecoderComparison.asText(decode(c, false)), DecoderComparison.asText(decode(c, true)),
                c.toString());
    }

    @Test
    void aRecycledHeadIsFilledAgainForTheNextRequestAndOnlyTheNewestComesBack() {
        Codecs.RequestDecoder decoder = new Codecs.RequestDecoder(Codecs.requestConfig(4096, 8192), null);
        io.netty.channel.embedded.EmbeddedChannel ch = new io.netty.channel.embedded.EmbeddedChannel(decoder);
        io.netty.handler.codec.http.HttpRequest first = nextHead(ch, "POST /first?a=1 HTTP/1.1\r\nHost: one\r\n"
                + "X-A: " + "a".repeat(200) + "\r\nX-B: b\r\nX-C: c\r\nContent-Length: 2\r\n\r\nok");
        assertEquals("a".repeat(200), first.headers().get("x-a"));
        decoder.recycle(first);
        io.netty.handler.codec.http.HttpRequest second = nextHead(ch, "GET /second HTTP/1.0\r\nHost: two\r\nX-Z: z\r\n\r\n");
        assertSame(first, second);
        assertEquals(io.netty.handler.codec.http.HttpMethod.GET, second.method());
        assertEquals("/second", second.uri());
        assertEquals(io.netty.handler.codec.http.HttpVersion.HTTP_1_0, second.protocolVersion());
        assertEquals(List.of("Host=two", "X-Z=z"), second.headers().entries().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).toList());
        decoder.recycle(second);
        // Two pipelined heads: the first comes back while the second is in use, so it is not taken back.
        io.netty.handler.codec.http.HttpRequest third = nextHead(ch, "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n"
                + "GET /4 HTTP/1.1\r\nHost: h\r\n\r\n");
        io.netty.handler.codec.http.HttpRequest fourth = nextHead(ch, "");
        assertSame(second, third);
        assertTrue(third != fourth);
        assertEquals("/3", third.uri());
        decoder.recycle(third);
        io.netty.handler.codec.http.HttpRequest fifth = nextHead(ch, "GET /5 HTTP/1.1\r\nHost: h\r\n\r\n");
        assertTrue(fifth != third && fifth != fourth);
        assertEquals("/4", fourth.uri());
        assertEquals("/5", fifth.uri());
        // The same Host again on a recycled head: the previous request's String, not a copy.
        String host = fifth.headers().get("host");
        decoder.recycle(fifth);
        io.netty.handler.codec.http.HttpRequest sixth = nextHead(ch, "GET /6 HTTP/1.1\r\nHost: h\r\n\r\n");
        assertSame(fifth, sixth);
        assertSame(host, sixth.headers().get("host"));
        ch.finishAndReleaseAll();
    }

    @Test
    void theSameTargetAsThePreviousRequestsIsThatStringAndADifferentOneIsItsOwn() {
        Codecs.RequestDecoder decoder = new Codecs.RequestDecoder(Codecs.requestConfig(4096, 8192), null);
        io.netty.channel.embedded.EmbeddedChannel ch = new io.netty.channel.embedded.EmbeddedChannel(decoder);
        io.netty.handler.codec.http.HttpRequest first = nextHead(ch, "GET /poll?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
        String target = first.uri();
        decoder.recycle(first);
        io.netty.handler.codec.http.HttpRequest second = nextHead(ch, "GET /poll?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
        assertSame(target, second.uri());
        // Not recycled, pipelined: a new head, the same target String.
        io.netty.handler.codec.http.HttpRequest third = nextHead(ch, "HEAD /poll?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
                + "GET /poll?x=2 HTTP/1.1\r\nHost: h\r\n\r\n");
        io.netty.handler.codec.http.HttpRequest fourth = nextHead(ch, "");
        assertSame(target, third.uri());
        assertEquals("/poll?x=1", third.uri());
        assertEquals("/poll?x=2", fourth.uri());
        // Same length, the last byte apart: compared byte by byte, not by length.
        io.netty.handler.codec.http.HttpRequest fifth = nextHead(ch, "GET /poll?x=3 HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals("/poll?x=3", fifth.uri());
        assertEquals("/poll?x=2", fourth.uri());
        ch.finishAndReleaseAll();
    }

    /**
     * Writes {@code text} (if any) to {@code ch} and returns the next request head decoded, releasing the
     * request's content that follows it (one message: these requests' bodies arrive with their heads).
     */
    private static io.netty.handler.codec.http.HttpRequest nextHead(io.netty.channel.embedded.EmbeddedChannel ch,
            String text) {
        if (!text.isEmpty()) {
            ch.writeInbound(io.netty.buffer.Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
        }
        io.netty.handler.codec.http.HttpRequest head = ch.readInbound();
        io.netty.util.ReferenceCountUtil.release(ch.readInbound());
        return head;
    }

    @Test
    void aWrkRequestAndAPostTakeTheFastPath() {
        byte[] bytes = ("GET / HTTP/1.1\r\nHost: 127.0.0.1:8888\r\n\r\n"
                + "POST /api/items?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 20000\r\n\r\n"
                + "y".repeat(20000)).getBytes(StandardCharsets.US_ASCII);
        Case c = new Case(bytes, new int[] {30, 5000}, 8192, 16384, "wrk and post");
        List<String> fast = decode(c, true);
        assertEquals(DecoderComparison.asText(decode(c, false)), DecoderComparison.asText(fast));
        assertTrue(fast.get(0).startsWith("head HTTP/1.1 GET / ok (fast) [Host=127.0.0.1:8888;"), fast.get(0));
        assertTrue(fast.get(2).startsWith("head HTTP/1.1 POST /api/items?x=1 ok (fast) ["), fast.get(2));
    }

    @Test
    void aHeadTricklingInByteByByteDecodesTheSame() {
        byte[] bytes = ("GET /slow HTTP/1.1\r\nHost: a\r\nUser-Agent: slowloris\r\n\r\n"
                + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        int[] everyByte = new int[bytes.length - 1];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = i + 1;
        }
        Case c = new Case(bytes, everyByte, 8192, 16384, "byte by byte");
        List<String> fast = decode(c, true);
        assertEquals(DecoderComparison.asText(decode(c, false)), DecoderComparison.asText(fast));
        // Found incomplete twice, the head is left to Netty's incremental parser rather than scanned per byte.
        assertTrue(!fast.get(0).contains("(fast)") && !fast.get(2).contains("(fast)"), fast.toString());
    }

    @Test
    void headsOverTheFastPathsLimitsGoToNettysDecoder() {
        // More than 64 fields, then a head over 8 KiB (within the decoder's 16 KiB header limit): both
        // decoded by Netty's decoder, as the fast path would have decoded them.
        String manyFields = "GET /many HTTP/1.1\r\nHost: a\r\n" + "X-F: v\r\n".repeat(70) + "\r\n";
        String longHead = "GET /long HTTP/1.1\r\nHost: a\r\nX-Long: " + "v".repeat(9000) + "\r\n\r\n";
        Case c = new Case((manyFields + longHead).getBytes(StandardCharsets.US_ASCII), new int[0], 8192, 16384,
                "over the fast path's limits");
        List<String> fast = decode(c, true);
        assertEquals(DecoderComparison.asText(decode(c, false)), DecoderComparison.asText(fast));
        assertEquals(4, fast.size(), fast.toString());
        assertTrue(fast.get(0).startsWith("head HTTP/1.1 GET /many ok ["), fast.get(0));
        assertTrue(fast.get(2).startsWith("head HTTP/1.1 GET /long ok ["), fast.get(2));
    }

    private static List<String> decode(Case c, boolean fastPath) {
        return DecoderComparison.run(new Codecs.RequestDecoder(Codecs.requestConfig(c.maxInitialLine(),
                c.maxHeaderSize()), null, fastPath), c.bytes(), c.splits());
    }

    @Provide
    Arbitrary<Case> cases() {
        return Arbitraries.randomValue(RequestDecoderProperties::generate);
    }

    private static final String[] METHODS = {"GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS",
        "PATCH", "TRACE", "CONNECT", "QUERY", "get", "FOO", "G@T"};
    private static final String[] TARGETS = {"/", "/", "/index.html", "/a/b?c=d&e=%20", "http://host:8080/x", "*",
        "example.com:443", "/\u00fc", "/a b", "/a\tb", "", "/a\u0001b"};
    private static final String[] NAMES = {"Host", "User-Agent", "Accept", "Cookie", "Connection", "Keep-Alive",
        "X-Forwarded-For", "Expect", "Upgrade", "X-Custom", "x-lower", "Sec-WebSocket-Key1", "Sec-WebSocket-Key2"};

    private static Case generate(Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder description = new StringBuilder();
        int requests = 1 + r.nextInt(3);
        for (int i = 0; i < requests; i++) {
            description.append(oneRequest(r, out)).append(" | ");
        }
        byte[] bytes = out.toByteArray();
        int pieces = r.nextInt(4) == 0 ? 0 : r.nextInt(6);
        int[] splits = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            splits[i] = r.nextInt(bytes.length + 1);
        }
        Arrays.sort(splits);
        int[][] limits = {{8192, 16384}, {8192, 16384}, {4096, 8192}, {64, 256}, {256, 64}, {40, 16384}};
        int[] l = limits[r.nextInt(limits.length)];
        return new Case(bytes, splits, l[0], l[1], description.toString());
    }

    private static String oneRequest(Random r, ByteArrayOutputStream out) {
        String method = r.nextInt(4) != 0 ? "GET" : METHODS[r.nextInt(METHODS.length)];
        String target = r.nextInt(3) != 0 ? "/" : TARGETS[r.nextInt(TARGETS.length)];
        String version = r.nextInt(10) != 0 ? "HTTP/1.1" : r.nextBoolean() ? "HTTP/1.0" : r.nextBoolean() ? "HTTP/2.0"
                : "HTTP/1.1 ";
        String line = r.nextInt(30) == 0 ? method + "  " + target + " " + version : method + " " + target + " " + version;
        StringBuilder h = new StringBuilder(line).append(r.nextInt(40) == 0 ? "\n" : "\r\n");
        int fields = r.nextInt(8);
        for (int i = 0; i < fields; i++) {
            String name = NAMES[r.nextInt(NAMES.length)];
            String value = DecoderComparison.randomValue(r);
            switch (r.nextInt(60)) {
                case 0 -> h.append(name).append(" : ").append(value).append("\r\n");
                case 1 -> h.append(name).append(": ").append(value).append("\r\n  folded\r\n");
                case 2 -> h.append(name).append(": ").append(value).append("\n");
                case 3 -> h.append("NoColonHere\r\n");
                case 4 -> h.append(name).append(": a\u0000b\r\n");
                case 5 -> h.append(name).append(": a\rb\r\n");
                case 6 -> h.append(name).append(": ").append("v".repeat(300)).append("\r\n");
                default -> h.append(name).append(": ").append(value).append("\r\n");
            }
        }
        byte[] body = new byte[r.nextInt(5) == 0 ? r.nextInt(40_000) : r.nextInt(100)];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('a' + r.nextInt(26));
        }
        byte[] sent = body;
        String what = DecoderComparison.frame(r, h, sent, false, out);
        return method + " " + what;
    }
}
