package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;
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
 * The response decoder's fast path decodes exactly what Netty's decoder alone decodes: the same
 * messages, heads, field order and spelling, body pieces and failures, for well-formed and malformed
 * responses alike, however the bytes are split across reads, pipelined or cut off by a close.
 */
class ResponseDecoderProperties {

    /** One generated case: the bytes an upstream sends, where reads split them, the request's method. */
    record Case(byte[] bytes, int[] splits, boolean headRequest, boolean connectRequest, String description) {
        @Override
        public String toString() {
            return description + " split at " + Arrays.toString(splits) + (headRequest ? " (HEAD)" : "")
                    + (connectRequest ? " (CONNECT)" : "");
        }
    }

    @Property(tries = 3000)
    void theFastPathDecodesExactlyAsNettysDecoder(@ForAll("cases") Case c) {
        assertEquals(DecoderComparison.asText(decode(c, false)), DecoderComparison.asText(decode(c, true)), c.toString());
    }

    @Test
    void aCommonResponseTakesTheFastPathWithItsBodyInPieces() {
        byte[] body = new byte[40_000];
        Arrays.fill(body, (byte) 'x');
        byte[] head = ("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 40000\r\n"
                + "Content-Type: text/html\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        Case c = new Case(DecoderComparison.concat(head, body), new int[0], false, false, "nginx-like");
        List<String> fast = decode(c, true);
        assertEquals(DecoderComparison.asText(decode(c, false)), DecoderComparison.asText(fast));
        assertTrue(fast.get(0).startsWith("head HTTP/1.1 200 OK ok (fast) [Server=nginx;"), fast.get(0));
        // Three pieces of at most 16 KiB, the last one last.
        assertEquals(4, fast.size(), fast.toString());
        assertTrue(fast.get(3).startsWith("last 7232 "), fast.get(3));
    }

    @Test
    void headsOverTheFastPathsLimitsGoToNettysDecoder() {
        // More than 64 fields, then a head over 8 KiB: both decoded by Netty's decoder, with the same result.
        String manyFields = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + "X-F: v\r\n".repeat(70) + "\r\n";
        String longHead = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Long: " + "v".repeat(9000) + "\r\n\r\n";
        Case c = new Case((manyFields + longHead).getBytes(StandardCharsets.US_ASCII), new int[0], false, false,
                "over the fast path's limits");
        List<String> fast = decode(c, true);
        assertEquals(DecoderComparison.asText(decode(c, false)), DecoderComparison.asText(fast));
        assertEquals(4, fast.size(), fast.toString());
        assertTrue(fast.get(0).startsWith("head HTTP/1.1 200 OK ok ["), fast.get(0));
        assertTrue(fast.get(2).startsWith("head HTTP/1.1 200 OK ok ["), fast.get(2));
    }

    @Test
    void aStandardReasonGivesTheSharedStatusAndAnOtherAnOwnOne() {
        EmbeddedChannel ch = new EmbeddedChannel(new Codecs.ResponseDecoder());
        ch.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                StandardCharsets.US_ASCII));
        HttpResponse first = ch.readInbound();
        ReferenceCountUtil.release(ch.readInbound());
        assertTrue(first.status() == HttpResponseStatus.NOT_FOUND);
        ch.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n",
                StandardCharsets.US_ASCII));
        HttpResponse second = ch.readInbound();
        ReferenceCountUtil.release(ch.readInbound());
        assertEquals("Nope", second.status().reasonPhrase());
        assertEquals("0", second.headers().get("content-length"));
        ch.finishAndReleaseAll();
    }

    @Test
    void oneConnectionsResponsesFillOneHeadWithNothingOfThePreviousLeft() {
        EmbeddedChannel ch = new EmbeddedChannel(new Codecs.ResponseDecoder());
        String big = "HTTP/1.1 200 OK\r\nServer: nginx\r\nX-A: " + "a".repeat(300) + "\r\nX-B: b\r\nX-C: c\r\n"
                + "X-D: d\r\nX-E: e\r\nX-F: f\r\nX-G: g\r\nX-H: h\r\nX-I: i\r\nContent-Length: 2\r\n\r\nok";
        ch.writeInbound(Unpooled.copiedBuffer(big, StandardCharsets.US_ASCII));
        HttpResponse first = ch.readInbound();
        assertEquals("a".repeat(300), first.headers().get("x-a"));
        assertEquals(11, first.headers().size());
        ReferenceCountUtil.release(ch.readInbound());
        // Smaller, fewer fields, another version and status: the same object, only the new head in it.
        ch.writeInbound(Unpooled.copiedBuffer("HTTP/1.0 503 Service Unavailable\r\nX-Z: zz\r\n"
                + "Content-Length: 0\r\n\r\n", StandardCharsets.US_ASCII));
        HttpResponse second = ch.readInbound();
        ReferenceCountUtil.release(ch.readInbound());
        assertSame(first, second);
        assertEquals(HttpResponseStatus.SERVICE_UNAVAILABLE, second.status());
        assertEquals(io.netty.handler.codec.http.HttpVersion.HTTP_1_0, second.protocolVersion());
        assertEquals(List.of(java.util.Map.entry("X-Z", "zz"), java.util.Map.entry("Content-Length", "0")),
                second.headers().entries().stream().map(e -> java.util.Map.entry(e.getKey(), e.getValue())).toList());
        assertNull(second.headers().get("x-a"));
        // Larger again than the arrays kept: they grow.
        StringBuilder many = new StringBuilder("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 40; i++) {
            many.append("X-").append(i).append(": ").append("v".repeat(i)).append("\r\n");
        }
        ch.writeInbound(Unpooled.copiedBuffer(many.append("Content-Length: 0\r\n\r\n").toString(),
                StandardCharsets.US_ASCII));
        HttpResponse third = ch.readInbound();
        ReferenceCountUtil.release(ch.readInbound());
        assertSame(first, third);
        assertEquals(41, third.headers().size());
        for (int i = 0; i < 40; i++) {
            assertEquals("v".repeat(i), third.headers().get("x-" + i));
        }
        assertNull(third.headers().get("x-z"));
        ch.finishAndReleaseAll();
    }

    private static List<String> decode(Case c, boolean fastPath) {
        Codecs.ResponseDecoder decoder = new Codecs.ResponseDecoder(fastPath);
        decoder.headRequest = c.headRequest();
        decoder.connectRequest = c.connectRequest();
        return DecoderComparison.run(decoder, c.bytes(), c.splits());
    }

    @Provide
    Arbitrary<Case> cases() {
        return Arbitraries.randomValue(ResponseDecoderProperties::generate);
    }

    private static final int[] CODES = {200, 200, 200, 201, 204, 206, 301, 304, 404, 429, 500, 502, 503, 599,
        100, 101, 103, 199, 299, 600, 999, 99};
    private static final String[] NAMES = {"Server", "Date", "Content-Type", "ETag", "Vary", "Set-Cookie",
        "Connection", "Keep-Alive", "X-Custom", "x-lower", "Last-Modified", "Accept-Ranges", "Upgrade"};

    private static Case generate(Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder description = new StringBuilder();
        boolean head = r.nextInt(8) == 0;
        boolean connect = r.nextInt(30) == 0;
        int responses = 1 + r.nextInt(3);
        for (int i = 0; i < responses; i++) {
            boolean last = i == responses - 1;
            description.append(oneResponse(r, out, head, last)).append(" | ");
        }
        byte[] bytes = out.toByteArray();
        int pieces = r.nextInt(4) == 0 ? 0 : r.nextInt(6);
        int[] splits = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            splits[i] = bytes.length == 0 ? 0 : r.nextInt(bytes.length + 1);
        }
        Arrays.sort(splits);
        return new Case(bytes, splits, head, connect, description.toString());
    }

    /** Writes one response (well-formed most of the time); returns what it is, for failure messages. */
    private static String oneResponse(Random r, ByteArrayOutputStream out, boolean headRequest, boolean last) {
        int code = CODES[r.nextInt(CODES.length)];
        String version = pick(r, 10, "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "http/1.1", "HTTP/1.1 ");
        String standard = code >= 100 && code < 600 ? HttpResponseStatus.valueOf(code).reasonPhrase() : "Whatever";
        String reason = pick(r, 8, standard, "Fine Thanks", "", " OK", "OK ", "Tab\there", "Caf\u00e9", "Bad\u0001");
        String statusLine = r.nextInt(20) == 0 ? version + " " + code + "\r\n"
                : r.nextInt(30) == 0 ? version + "  " + code + " " + reason + "\r\n"
                : version + " " + String.format("%03d", code) + " " + reason + "\r\n";
        StringBuilder h = new StringBuilder(statusLine);
        int fields = r.nextInt(9);
        for (int i = 0; i < fields; i++) {
            String name = NAMES[r.nextInt(NAMES.length)];
            if (r.nextInt(4) == 0) {
                name = name.toLowerCase();
            }
            String value = DecoderComparison.randomValue(r);
            int anomaly = r.nextInt(60);
            switch (anomaly) {
                case 0 -> h.append(name).append(" : ").append(value).append("\r\n");
                case 1 -> h.append(name).append(": ").append(value).append("\r\n  folded\r\n");
                case 2 -> h.append(name).append(": ").append(value).append("\n");
                case 3 -> h.append("NoColonHere\r\n");
                case 4 -> h.append("Na me: ").append(value).append("\r\n");
                case 5 -> h.append(name).append(": a\u0000b\r\n");
                case 6 -> h.append(name).append(": a\rb\r\n");
                default -> h.append(name).append(": ").append(value).append("\r\n");
            }
        }
        byte[] body = new byte[r.nextInt(5) == 0 ? r.nextInt(40_000) : r.nextInt(300)];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('a' + r.nextInt(26));
        }
        boolean bodyless = headRequest || code == 204 || code == 304 || code / 100 == 1;
        byte[] sent = bodyless && r.nextInt(10) != 0 ? new byte[0] : body;
        String what = DecoderComparison.frame(r, h, sent, last, out);
        return code + " " + what;
    }

    private static String pick(Random r, int oneIn, String usual, String... others) {
        return r.nextInt(oneIn) != 0 ? usual : others[r.nextInt(others.length)];
    }

}
