package dev.lbkit.l7.internal;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames;
import java.util.List;

/**
 * Netty's conversion of a stream's frames to HTTP/1.1 messages and back, with the request made what an
 * HTTP/1.1 client would have sent, for {@link FrontendHandler}: a request without a body is a head and its
 * end (not one full message), {@code :authority} is the Host (Netty's conversion adds it, and a {@code host}
 * field the client sent as well, which Netty's validation let through only when it names the same, is not
 * repeated), the fields Netty adds for its own use ({@code x-http2-stream-id}, {@code x-http2-scheme}) are
 * removed, a {@code :path} longer than an HTTP/1.1 request line may be is refused with 414, and a CONNECT,
 * which has no {@code :path}, names its authority as its target (and is refused with 405). Malformed heads
 * and connection-specific fields never come in: Netty's header validation refuses them (a stream error), and
 * the conversion back drops such fields from responses. Stateless: one per connection, shared by its streams.
 */
@Sharable
final class Http2Requests extends Http2StreamFrameToHttpObjectCodec {
    private final int maxTargetLength;

    Http2Requests(int maxTargetLength) {
        super(true, true);
        this.maxTargetLength = maxTargetLength;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, Http2StreamFrame frame, List<Object> out) throws Exception {
        if (frame instanceof Http2HeadersFrame) {
            Http2Headers h = ((Http2HeadersFrame) frame).headers();
            if (h.path() == null && h.method() != null && HttpMethod.CONNECT.asciiName().contentEquals(h.method())) {
                h.path(h.authority() != null ? h.authority() : "");
            }
        }
        int from = out.size();
        super.decode(ctx, frame, out);
        Object m = out.size() == from + 1 ? out.get(from) : null;
        if (m instanceof FullHttpRequest) {
            // A request without a body (HEADERS with END_STREAM): a head and its end, as HTTP/1.1's decoder
            // gives them, for the frontend writes the head on and keeps the body apart.
            FullHttpRequest full = (FullHttpRequest) m;
            HttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(),
                    full.headers());
            LastHttpContent end;
            if (full.content().isReadable() || !full.trailingHeaders().isEmpty()) {
                end = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
            } else {
                end = LastHttpContent.EMPTY_LAST_CONTENT;
                full.release();
            }
            out.set(from, head);
            out.add(end);
            m = head;
        }
        if (m instanceof HttpRequest) {
            asHttp11((HttpRequest) m);
        }
    }

    /**
     * A stream error the codec found (a body past the window, a header block it cannot convert) resets the
     * stream with its code, as Netty does when nobody handles it, and goes on to the frontend, which ends the
     * request as one whose client went away.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Http2Exception embedded = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
        Http2Error error = cause instanceof Http2FrameStreamException ? ((Http2FrameStreamException) cause).error()
                : embedded != null ? embedded.error() : null;
        if (error != null) {
            ctx.channel().writeAndFlush(new DefaultHttp2ResetFrame(error));
        }
        ctx.fireExceptionCaught(cause);
    }

    private void asHttp11(HttpRequest req) {
        HttpHeaders h = req.headers();
        h.remove(ExtensionHeaderNames.STREAM_ID.text());
        h.remove(ExtensionHeaderNames.SCHEME.text());
        h.remove(ExtensionHeaderNames.PATH.text());
        List<String> hosts = h.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1 && hosts.stream().allMatch(v -> v.equalsIgnoreCase(hosts.get(0)))) {
            h.set(HttpHeaderNames.HOST, hosts.get(0));
        }
        if (req.uri().length() > maxTargetLength) {
            req.setDecoderResult(DecoderResult.failure(new TooLongHttpLineException(
                    "the request target is longer than " + maxTargetLength + " bytes")));
        }
    }
}
