package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
        assertEquals(asText(decode(c, false)), asText(decode(c, true)), c.toString());
    }

    @Test
    void aCommonResponseTakesTheFastPathWithItsBodyInPieces() {
        byte[] body = new byte[40_000];
        Arrays.fill(body, (byte) 'x');
        byte[] head = ("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 40000\r\n"
                + "Content-Type: text/html\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        Case c = new Case(concat(head, body), new int[0], false, false, "nginx-like");
        List<String> fast = decode(c, true);
        assertEquals(asText(decode(c, false)), asText(fast));
        assertTrue(fast.get(0).startsWith("head HTTP/1.1 200 OK ok [Server=nginx (AsciiString)"), fast.get(0));
        // Three pieces of at most 16 KiB, the last one last.
        assertEquals(4, fast.size(), fast.toString());
        assertTrue(fast.get(3).startsWith("last 7232 "), fast.get(3));
    }

    @Test
    void aStandardReasonGivesTheSharedStatusAndAnOtherAnOwnOne() {
        EmbeddedChannel ch = new EmbeddedChannel(new Codecs.ResponseDecoder());
        ch.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                + "HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n", StandardCharsets.US_ASCII));
        HttpResponse first = ch.readInbound();
        ReferenceCountUtil.release(ch.readInbound());
        HttpResponse second = ch.readInbound();
        ReferenceCountUtil.release(ch.readInbound());
        assertTrue(first.status() == HttpResponseStatus.NOT_FOUND);
        assertEquals("Nope", second.status().reasonPhrase());
        assertInstanceOf(io.netty.util.AsciiString.class, second.headers().iteratorCharSequence().next().getValue());
        ch.finishAndReleaseAll();
    }

    private static List<String> decode(Case c, boolean fastPath) {
        Codecs.ResponseDecoder decoder = new Codecs.ResponseDecoder(fastPath);
        decoder.headRequest = c.headRequest();
        decoder.connectRequest = c.connectRequest();
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        List<String> seen = new ArrayList<>();
        int at = 0;
        for (int split : c.splits()) {
            ch.writeInbound(Unpooled.copiedBuffer(c.bytes(), at, split - at));
            drain(ch, seen);
            at = split;
        }
        ch.writeInbound(Unpooled.copiedBuffer(c.bytes(), at, c.bytes().length - at));
        drain(ch, seen);
        ch.finish();
        drain(ch, seen);
        return seen;
    }

    private static void drain(EmbeddedChannel ch, List<String> seen) {
        Object m;
        while ((m = ch.readInbound()) != null) {
            try {
                seen.add(describe(m));
            } finally {
                ReferenceCountUtil.release(m);
            }
        }
    }

    private static String describe(Object m) {
        StringBuilder sb = new StringBuilder();
        if (m instanceof HttpResponse) {
            HttpResponse r = (HttpResponse) m;
            sb.append("head ").append(r.protocolVersion()).append(' ').append(r.status().code()).append(' ')
                    .append(r.status().reasonPhrase()).append(' ').append(result((HttpObject) m)).append(" [");
            for (Map.Entry<CharSequence, CharSequence> e : (Iterable<Map.Entry<CharSequence, CharSequence>>)
                    r.headers()::iteratorCharSequence) {
                sb.append(e.getKey()).append('=').append(e.getValue())
                        .append(e.getValue() instanceof io.netty.util.AsciiString ? " (AsciiString)" : "").append("; ");
            }
            sb.append(']');
        }
        if (m instanceof HttpContent) {
            HttpContent content = (HttpContent) m;
            ByteBuf b = content.content();
            sb.append(m instanceof LastHttpContent ? "last " : "content ").append(b.readableBytes()).append(' ')
                    .append(b.toString(StandardCharsets.ISO_8859_1).hashCode()).append(' ').append(result(content));
            if (m instanceof LastHttpContent) {
                sb.append(" trailers ").append(((LastHttpContent) m).trailingHeaders().entries());
            }
        } else if (m instanceof ByteBuf) {
            sb.append("bytes ").append(((ByteBuf) m).toString(StandardCharsets.ISO_8859_1));
        }
        return sb.toString();
    }

    /** Values are AsciiStrings on the fast path and Strings on Netty's: equal text, compared as text. */
    private static List<String> asText(List<String> described) {
        List<String> text = new ArrayList<>();
        for (String d : described) {
            text.add(d.replace(" (AsciiString)", ""));
        }
        return text;
    }

    private static String result(HttpObject o) {
        return o.decoderResult().isSuccess() ? "ok" : "failed: " + o.decoderResult().cause().getClass().getSimpleName();
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
            String value = randomValue(r);
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
        int framing = r.nextInt(12);
        String what;
        byte[] sent = bodyless && r.nextInt(10) != 0 ? new byte[0] : body;
        switch (framing) {
            case 0 -> {
                what = "chunked";
                h.append("Transfer-Encoding: chunked\r\n");
                sent = chunked(r, sent);
            }
            case 1 -> {
                what = "no length";
                if (!last) {
                    h.append("Content-Length: ").append(sent.length).append("\r\n");
                }
            }
            case 2 -> {
                what = "leading zero";
                h.append("Content-Length: 0").append(sent.length).append("\r\n");
            }
            case 3 -> {
                what = "two lengths";
                h.append("Content-Length: ").append(sent.length).append("\r\ncontent-length: ").append(sent.length)
                        .append("\r\n");
            }
            case 4 -> {
                what = "bad length";
                h.append("Content-Length: 1x\r\n");
            }
            case 5 -> {
                what = "length and chunked";
                h.append("Content-Length: ").append(sent.length).append("\r\nTransfer-Encoding: chunked\r\n");
                sent = chunked(r, sent);
            }
            case 6 -> {
                what = "cut short";
                h.append("Content-Length: ").append(sent.length + 10).append("\r\n");
            }
            default -> {
                what = "length";
                h.append(r.nextBoolean() ? "Content-Length: " : "content-length:\t").append(sent.length)
                        .append(r.nextInt(10) == 0 ? " \r\n" : "\r\n");
            }
        }
        h.append("\r\n");
        byte[] headBytes = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (r.nextInt(40) == 0) {
            headBytes = Arrays.copyOf(headBytes, r.nextInt(headBytes.length)); // the connection ends mid-head
            sent = new byte[0];
        }
        out.writeBytes(headBytes);
        out.writeBytes(sent);
        return code + " " + what + " " + sent.length;
    }

    private static byte[] chunked(Random r, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        while (at < body.length) {
            int n = Math.min(body.length - at, 1 + r.nextInt(5000));
            out.writeBytes((Integer.toHexString(n) + (r.nextInt(5) == 0 ? ";ext=1" : "") + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body, at, n);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            at += n;
        }
        out.writeBytes((r.nextInt(4) == 0 ? "0\r\nX-Trailer: t\r\n\r\n" : "0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static String randomValue(Random r) {
        StringBuilder v = new StringBuilder();
        if (r.nextInt(8) == 0) {
            v.append(r.nextBoolean() ? " " : "\t");
        }
        int n = r.nextInt(30);
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(40);
            v.append(k < 30 ? (char) ('a' + r.nextInt(26)) : k < 34 ? ' ' : k < 36 ? ',' : k < 37 ? '\t'
                    : k < 38 ? '\u00e9' : k < 39 ? '"' : r.nextInt(20) == 0 ? (char) r.nextInt(0x20) : '=');
            if (r.nextInt(400) == 0) {
                v.append('\u007f');
            }
        }
        if (r.nextInt(8) == 0) {
            v.append(r.nextBoolean() ? " " : "\t");
        }
        return v.toString();
    }

    private static String pick(Random r, int oneIn, String usual, String... others) {
        return r.nextInt(oneIn) != 0 ? usual : others[r.nextInt(others.length)];
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
