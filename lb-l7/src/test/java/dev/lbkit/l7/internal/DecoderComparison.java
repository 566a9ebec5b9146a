package dev.lbkit.l7.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Runs an HTTP/1 decoder over bytes split into reads and describes what it produced, so that a
 * decoder's fast path can be compared with the path through Netty's decoder; and makes the random
 * pieces (field values, chunked bodies) both decoders' properties generate.
 */
final class DecoderComparison {
    private DecoderComparison() {}

    /**
     * Feeds {@code bytes} to {@code decoder} in reads split at {@code splits}, then closes; describes the
     * output. Each message is described as the decoder passes it on, as lb-l7's handlers read it: the
     * response decoder fills one head again for the next response.
     */
    static List<String> run(ChannelHandler decoder, byte[] bytes, int[] splits) {
        List<String> seen = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(decoder, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object m) {
                try {
                    seen.add(describe(m));
                } finally {
                    ReferenceCountUtil.release(m);
                }
            }
        });
        int at = 0;
        for (int split : splits) {
            ch.writeInbound(Unpooled.copiedBuffer(bytes, at, split - at));
            drain(ch, seen);
            at = split;
        }
        ch.writeInbound(Unpooled.copiedBuffer(bytes, at, bytes.length - at));
        drain(ch, seen);
        ch.finish();
        drain(ch, seen);
        return seen;
    }

    static void drain(EmbeddedChannel ch, List<String> seen) {
        Object m;
        while ((m = ch.readInbound()) != null) {
            try {
                seen.add(describe(m));
            } finally {
                ReferenceCountUtil.release(m);
            }
        }
    }

    static String describe(Object m) {
        StringBuilder sb = new StringBuilder();
        if (m instanceof HttpResponse || m instanceof HttpRequest) {
            io.netty.handler.codec.http.HttpMessage r = (io.netty.handler.codec.http.HttpMessage) m;
            sb.append("head ").append(r.protocolVersion()).append(' ');
            if (m instanceof HttpResponse) {
                sb.append(((HttpResponse) m).status().code()).append(' ').append(((HttpResponse) m).status().reasonPhrase());
            } else {
                sb.append(((HttpRequest) m).method()).append(' ').append(((HttpRequest) m).uri());
            }
            // Netty's decoder leaves its HttpMessageDecoderResult on a head; the fast path, the shared SUCCESS.
            sb.append(' ').append(result((HttpObject) m))
                    .append(((HttpObject) m).decoderResult() == io.netty.handler.codec.DecoderResult.SUCCESS ? " (fast)" : "")
                    .append(" [");
            for (Map.Entry<CharSequence, CharSequence> e : (Iterable<Map.Entry<CharSequence, CharSequence>>)
                    r.headers()::iteratorCharSequence) {
                sb.append(e.getKey()).append('=').append(e.getValue())
                        .append("; ");
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

    /** The descriptions without which path decoded each head. */
    static List<String> asText(List<String> described) {
        List<String> text = new ArrayList<>();
        for (String d : described) {
            text.add(d.replace(" (fast)", ""));
        }
        return text;
    }

    static String result(HttpObject o) {
        return o.decoderResult().isSuccess() ? "ok" : "failed: " + o.decoderResult().cause().getClass().getSimpleName();
    }

    static byte[] chunked(Random r, byte[] body) {
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

    static String randomValue(Random r) {
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

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /**
     * Ends {@code head} with a framing for {@code body} (a Content-Length most of the time; otherwise
     * chunked, none, or one of the malformed framings), writes head and body to {@code out} (now and then
     * cut off mid-head, as by a close) and says which framing it was. Without a length the body is left
     * out, unless {@code closeDelimited} (the message may end with the connection).
     */
    static String frame(Random r, StringBuilder head, byte[] body, boolean closeDelimited, ByteArrayOutputStream out) {
        String what;
        byte[] sent = body;
        switch (r.nextInt(12)) {
            case 0 -> {
                what = "chunked";
                head.append("Transfer-Encoding: chunked\r\n");
                sent = chunked(r, sent);
            }
            case 1 -> {
                what = "no length";
                if (!closeDelimited) {
                    sent = new byte[0];
                }
            }
            case 2 -> {
                what = "leading zero";
                head.append("Content-Length: 0").append(sent.length).append("\r\n");
            }
            case 3 -> {
                what = "two lengths";
                head.append("Content-Length: ").append(sent.length).append("\r\ncontent-length: ").append(sent.length)
                        .append("\r\n");
            }
            case 4 -> {
                what = "bad length";
                head.append("Content-Length: 1x\r\n");
            }
            case 5 -> {
                what = "length and chunked";
                head.append("Content-Length: ").append(sent.length).append("\r\nTransfer-Encoding: chunked\r\n");
                sent = chunked(r, sent);
            }
            case 6 -> {
                what = "cut short";
                head.append("Content-Length: ").append(sent.length + 10).append("\r\n");
            }
            default -> {
                what = "length";
                head.append(r.nextBoolean() ? "Content-Length: " : "content-length:\t").append(sent.length)
                        .append(r.nextInt(10) == 0 ? " \r\n" : "\r\n");
            }
        }
        head.append("\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (r.nextInt(40) == 0) {
            headBytes = Arrays.copyOf(headBytes, r.nextInt(headBytes.length)); // the connection ends mid-head
            sent = new byte[0];
        }
        out.writeBytes(headBytes);
        out.writeBytes(sent);
        return what + " " + sent.length;
    }
}
