package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * lb-l7's encoders hold a head to send it with its body ({@link Codecs.HeldHead}): whatever the messages,
 * flushes and promises, the bytes on the wire must be exactly those of Netty's encoders writing each message
 * as it comes, for responses to clients and requests to upstreams.
 */
class EncoderProperties {

    /** Netty's encoder with the same HEAD rule, writing every message as it comes. */
    private static final class PlainEncoder extends HttpResponseEncoder {
        private final boolean headRequest;

        PlainEncoder(boolean headRequest) {
            this.headRequest = headRequest;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            return headRequest || super.isContentAlwaysEmpty(msg);
        }
    }

    /** What one test case writes: a head, body pieces, where flushes go and whether promises are void. */
    private record Exchange(int status, int framing, boolean headRequest, int bodyLength, int pieces,
            long flushMask, boolean voidPromises, boolean trailer, HttpMethod method, String uri) {
        /** 0: Content-Length, 1: chunked, 2: neither (ends with the connection). */
        static final int LENGTH = 0;
        static final int CHUNKED = 1;

        Exchange(int status, int framing, boolean headRequest, int bodyLength, int pieces, long flushMask,
                boolean voidPromises, boolean trailer) {
            this(status, framing, headRequest, bodyLength, pieces, flushMask, voidPromises, trailer, null, null);
        }

        /** A request of {@code method} for {@code uri} instead of a response (status and headRequest unused). */
        static Exchange request(HttpMethod method, String uri, int framing, int bodyLength, int pieces,
                long flushMask, boolean voidPromises, boolean trailer) {
            return new Exchange(0, framing, false, bodyLength, pieces, flushMask, voidPromises, trailer, method, uri);
        }

        List<Object> messages() {
            List<Object> out = new ArrayList<>();
            HttpMessage head = method == null
                    ? new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                            CompactHeaders.FACTORY)
                    : new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri, CompactHeaders.FACTORY);
            head.headers().add("Server", "test").add("Content-Type", "text/plain");
            if (framing == LENGTH) {
                head.headers().add(HttpHeaderNames.CONTENT_LENGTH, bodyLength);
            } else if (framing == CHUNKED) {
                head.headers().add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
            out.add(head);
            byte[] body = new byte[bodyLength];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) ('a' + i % 26);
            }
            int n = Math.max(1, pieces);
            int at = 0;
            for (int i = 0; i < n; i++) {
                int end = i == n - 1 ? body.length : Math.min(body.length, at + body.length / n);
                ByteBuf piece = Unpooled.copiedBuffer(body, at, end - at);
                at = end;
                if (i < n - 1) {
                    out.add(new DefaultHttpContent(piece));
                } else {
                    LastHttpContent last = new DefaultLastHttpContent(piece, CompactHeaders.TRAILERS);
                    if (trailer && framing == CHUNKED) {
                        last.trailingHeaders().add("X-Checksum", "abc");
                    }
                    out.add(last);
                }
            }
            return out;
        }
    }

    private static byte[] run(ChannelOutboundHandler encoder, Exchange e, List<Integer> buffers) {
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        List<Object> messages = e.messages();
        for (int i = 0; i < messages.size(); i++) {
            Object m = messages.get(i);
            if (e.voidPromises()) {
                ch.write(m, ch.voidPromise());
            } else {
                ch.write(m);
            }
            if ((e.flushMask() >>> i & 1) != 0) {
                ch.flush();
            }
        }
        ch.flush();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) o;
            if (b.isReadable()) {
                buffers.add(b.readableBytes());
            }
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            bytes.writeBytes(a);
            b.release();
        }
        assertFalse(ch.finish());
        return bytes.toByteArray();
    }

    @Property(tries = 400)
    void theBytesAreThoseOfWritingEachMessageAsItComes(
            @ForAll("statuses") int status, @ForAll @IntRange(min = 0, max = 2) int framing,
            @ForAll boolean headRequest, @ForAll @IntRange(min = 0, max = 3000) int bodyLength,
            @ForAll @IntRange(min = 1, max = 4) int pieces, @ForAll long flushMask,
            @ForAll boolean voidPromises, @ForAll boolean trailer) {
        boolean bodyless = headRequest || status == 204 || status == 304;
        Exchange e = new Exchange(status, framing, headRequest, bodyless ? 0 : bodyLength, pieces, flushMask,
                voidPromises, trailer);
        Codecs.ResponseEncoder mine = new Codecs.ResponseEncoder();
        mine.headRequest = headRequest;
        byte[] expected = run(new PlainEncoder(headRequest), e, new ArrayList<>());
        byte[] actual = run(mine, e, new ArrayList<>());
        assertArrayEquals(expected, actual, () -> e + "\nexpected:\n" + new String(expected, StandardCharsets.ISO_8859_1)
                + "\nactual:\n" + new String(actual, StandardCharsets.ISO_8859_1));
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Integer> statuses() {
        return net.jqwik.api.Arbitraries.of(200, 201, 204, 206, 301, 304, 404, 500, 503);
    }

    @Property(tries = 400)
    void requestsToUpstreamsAreTheBytesOfNettysEncoder(
            @ForAll("methods") HttpMethod method, @ForAll("uris") String uri,
            @ForAll @IntRange(min = 0, max = 2) int framing, @ForAll @IntRange(min = 0, max = 5000) int bodyLength,
            @ForAll @IntRange(min = 1, max = 4) int pieces, @ForAll long flushMask,
            @ForAll boolean voidPromises, @ForAll boolean trailer) {
        Exchange e = Exchange.request(method, uri, framing, bodyLength, pieces, flushMask, voidPromises, trailer);
        byte[] expected = run(new HttpRequestEncoder(), e, new ArrayList<>());
        byte[] actual = run(new Codecs.RequestEncoder(), e, new ArrayList<>());
        assertArrayEquals(expected, actual, () -> e + "\nexpected:\n" + new String(expected, StandardCharsets.ISO_8859_1)
                + "\nactual:\n" + new String(actual, StandardCharsets.ISO_8859_1));
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<HttpMethod> methods() {
        return net.jqwik.api.Arbitraries.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT,
                HttpMethod.DELETE, HttpMethod.OPTIONS);
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> uris() {
        // Netty's encoder adds a '/' to an empty target and to an absolute one without a path.
        return net.jqwik.api.Arbitraries.of("/", "/index.html", "/a/b?c=d&e", "", "http://example.com",
                "http://example.com?x=1", "http://example.com:8080/p", "*");
    }

    @Test
    void aSmallRequestWrittenBeforeAFlushGoesOutAsOneBuffer() {
        List<Integer> buffers = new ArrayList<>();
        byte[] bytes = run(new Codecs.RequestEncoder(),
                Exchange.request(HttpMethod.GET, "/", Exchange.LENGTH, 0, 1, 0, true, false), buffers);
        assertEquals(List.of(bytes.length), buffers, "a GET in one buffer");
        buffers.clear();
        bytes = run(new Codecs.RequestEncoder(),
                Exchange.request(HttpMethod.POST, "/f", Exchange.LENGTH, Codecs.HeldHead.MERGE_LIMIT, 1, 0, true, false),
                buffers);
        assertEquals(List.of(bytes.length), buffers, "a POST with a body of the merge limit in one buffer");
        buffers.clear();
        bytes = run(new Codecs.RequestEncoder(),
                Exchange.request(HttpMethod.POST, "/f", Exchange.LENGTH, Codecs.HeldHead.MERGE_LIMIT + 1, 1, 0, true,
                        false), buffers);
        assertEquals(2, buffers.size(), "a larger body follows its head: " + buffers);
        assertEquals(Codecs.HeldHead.MERGE_LIMIT + 1, buffers.get(1));
    }

    @Test
    void aSmallResponseWrittenBeforeAFlushGoesOutAsOneBuffer() {
        Exchange e = new Exchange(200, Exchange.LENGTH, false, 40, 1, 0, true, false);
        List<Integer> buffers = new ArrayList<>();
        Codecs.ResponseEncoder mine = new Codecs.ResponseEncoder();
        byte[] bytes = run(mine, e, buffers);
        assertEquals(List.of(bytes.length), buffers, "head and body in one buffer");

        // Chunked, or flushed between head and body, or a head with a promise: as before, apart.
        buffers.clear();
        run(new Codecs.ResponseEncoder(), new Exchange(200, Exchange.CHUNKED, false, 40, 1, 0, true, false), buffers);
        assertTrue(buffers.size() > 1, "head and chunks apart: " + buffers);
        buffers.clear();
        run(new Codecs.ResponseEncoder(), new Exchange(200, Exchange.LENGTH, false, 40, 1, 1, true, false), buffers);
        assertEquals(2, buffers.size(), "flushed after the head: " + buffers);
        buffers.clear();
        run(new Codecs.ResponseEncoder(), new Exchange(200, Exchange.LENGTH, false, 40, 1, 0, false, false), buffers);
        assertEquals(2, buffers.size(), "a head with a promise is written at once: " + buffers);
    }

    @Test
    void theLastContentsPromiseCompletesWhenTheWholeMessageIsWritten() {
        for (int length : new int[] {0, 10, Codecs.HeldHead.MERGE_LIMIT + 1000}) {
            for (boolean request : new boolean[] {false, true}) {
                Exchange e = request
                        ? Exchange.request(HttpMethod.POST, "/up", Exchange.LENGTH, length, 1, 0, true, false)
                        : new Exchange(200, Exchange.LENGTH, false, length, 1, 0, true, false);
                byte[] expected = run(request ? new HttpRequestEncoder() : new PlainEncoder(false), e, new ArrayList<>());
                EmbeddedChannel ch = new EmbeddedChannel(request ? new Codecs.RequestEncoder() : new Codecs.ResponseEncoder());
                List<Object> messages = e.messages();
                ch.write(messages.get(0), ch.voidPromise());
                LastHttpContent last = (LastHttpContent) messages.get(1);
                ByteBuf body = last.content();
                io.netty.channel.ChannelFuture done = ch.writeAndFlush(last);
                assertTrue(done.isSuccess(), "the promise of the last content: " + done.cause());
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                for (Object o; (o = ch.readOutbound()) != null; ) {
                    ByteBuf b = (ByteBuf) o;
                    bytes.writeBytes(ByteBufUtil.getBytes(b));
                    b.release();
                }
                if (length > 0) { // an empty body is Netty's shared, unreleasable empty buffer
                    assertEquals(0, body.refCnt(), "the body was released once written, length " + length);
                }
                assertArrayEquals(expected, bytes.toByteArray(), "length " + length + ", request " + request);
                assertFalse(ch.finish());
            }
        }
    }

    @Test
    void aHeldHeadIsWrittenWhenTheEncoderIsRemoved() {
        Codecs.ResponseEncoder mine = new Codecs.ResponseEncoder();
        EmbeddedChannel ch = new EmbeddedChannel(mine);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        head.headers().add(HttpHeaderNames.UPGRADE, "websocket").add(HttpHeaderNames.CONNECTION, "upgrade");
        ch.write(head, ch.voidPromise());
        ch.pipeline().remove(mine);
        ch.flush();
        ByteBuf out = ch.readOutbound();
        String text = out.toString(StandardCharsets.US_ASCII);
        out.release();
        assertEquals("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n", text);
        assertFalse(ch.finish());
    }
}
