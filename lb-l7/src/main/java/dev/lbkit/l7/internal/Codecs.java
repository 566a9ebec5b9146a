package dev.lbkit.l7.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

/** The client-side codec pieces, made strict where a proxy must be (RFC 9112 §6). */
final class Codecs {
    private Codecs() {}

    /** Thrown for a request with both Content-Length and Transfer-Encoding (request smuggling). */
    static final class AmbiguousFramingException extends IllegalArgumentException {
        AmbiguousFramingException() {
            super("both Content-Length and Transfer-Encoding");
        }
    }

    static HttpDecoderConfig requestConfig(int maxInitialLine, int maxHeaderSize) {
        return new HttpDecoderConfig().setMaxInitialLineLength(maxInitialLine).setMaxHeaderSize(maxHeaderSize)
                .setMaxChunkSize(MAX_CONTENT_PIECE).setStrictLineParsing(true).setAllowDuplicateContentLengths(true)
                .setHeadersFactory(CompactHeaders.FACTORY)
                .setTrailersFactory(CompactHeaders.TRAILERS);
    }

    /**
     * Rejects Content-Length together with Transfer-Encoding instead of dropping Content-Length, and
     * marks as invalid a request whose header section has an obs-fold (a line starting with SP or HTAB),
     * a bare CR or a NUL (RFC 9112 §2.2, §5.2), which Netty's decoder would otherwise accept or fold.
     *
     * <p>Fast path: a common request head ({@link HeadParser}: none of the bytes those checks look for,
     * a body framed by one plain Content-Length or none) is decoded in one pass into exactly the messages
     * the path through Netty's decoder produces; any other is left, unread, to that path, which then owns
     * the request to its end. {@code RequestDecoderProperties} checks the two against each other.
     */
    static final class RequestDecoder extends HttpRequestDecoder {
        private final FastPath fastPath;
        /** The longest head the fast path takes: within both of Netty's limits, whose errors Netty reports. */
        private final int maxFastHead;
        private boolean inHead = true;
        private boolean sawContent;
        private boolean prevLf;
        private boolean prevCr;
        private boolean invalid;
        private int scannedAhead;
        /** Content-Length fields of the head Netty's decoder is parsing (see {@link #splitHeaderName}). */
        private int contentLengths;

        /** Told when bytes arrive, before they are decoded; null when none is (benchmarks, tests). */
        private final FrontendHandler frontend;
        /** The last head the fast path made: the one {@link #recycle} takes back. */
        io.netty.handler.codec.http.HttpRequest lastFastHead;
        /** A head whose request is over, which the fast path fills for the next request; or null. */
        io.netty.handler.codec.http.DefaultHttpRequest spare;
        /** The Host value of the last head the fast path made (immutable, so shared with the next). */
        String lastHost;
        /** The request target of the last head the fast path made (shared as {@link #lastHost} is). */
        String lastTarget;

        RequestDecoder(HttpDecoderConfig config, FrontendHandler frontend) {
            this(config, frontend, true);
        }

        /** With {@code fastPath} false, the path through Netty's decoder alone (the reference in tests). */
        RequestDecoder(HttpDecoderConfig config, FrontendHandler frontend, boolean fastPath) {
            super(config);
            this.frontend = frontend;
            this.maxFastHead = Math.min(config.getMaxInitialLineLength(), config.getMaxHeaderSize());
            this.fastPath = new FastPath(fastPath, (buf, out) -> HeadParser.decodeRequest(this, buf, maxFastHead, out));
        }

        /**
         * Whether bytes past the messages decoded so far wait here (part of a message not all read yet):
         * asked before the connection closes, they show that the client is still sending.
         */
        boolean hasUnread() {
            return actualReadableBytes() > 0;
        }

        /** Called by {@link HeadParser} with a decoded head; {@code length} is -1 for no body. */
        void fastHead(io.netty.handler.codec.http.HttpRequest head, long length, java.util.List<Object> out) {
            fastPath.head(head, length, out);
        }

        /**
         * Takes back {@code head} once its request is over (its response complete, nothing left that reads
         * it): if it is the last head the fast path made, the next request's head is this one filled again,
         * not a new message, header map and arrays. A head pipelined behind it was made while it was in use,
         * so only the newest can come back. Event-loop confined, as the frontend that calls it.
         */
        void recycle(io.netty.handler.codec.http.HttpRequest head) {
            if (head != null && head == lastFastHead) {
                lastFastHead = null;
                spare = (io.netty.handler.codec.http.DefaultHttpRequest) head;
            }
        }

        @Override
        protected void decodeLast(io.netty.channel.ChannelHandlerContext ctx, io.netty.buffer.ByteBuf in,
                java.util.List<Object> out) throws Exception {
            fastPath.closing();
            super.decodeLast(ctx, in, out);
        }

        @Override
        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) throws Exception {
            if (frontend != null) {
                frontend.clientBytesArrived();
            }
            super.channelRead(ctx, msg);
        }

        @Override
        protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
            AsciiString known = KnownNames.find(sb, start, length);
            AsciiString name = known != null ? known : super.splitHeaderName(sb, start, length);
            if (isContentLength(name)) {
                contentLengths++;
            }
            return name;
        }

        @Override
        protected void decode(io.netty.channel.ChannelHandlerContext ctx, io.netty.buffer.ByteBuf buffer,
                java.util.List<Object> out) throws Exception {
            if (fastPath.decode(buffer, out, true)) {
                return;
            }
            int scanEnd = -1;
            if (inHead) {
                scanEnd = scanHead(buffer, buffer.readerIndex() + scannedAhead);
            }
            int before = out.size();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpMessage && invalid) {
                    ((HttpMessage) o).setDecoderResult(io.netty.handler.codec.DecoderResult.failure(
                            new IllegalArgumentException("obs-fold, bare CR or NUL in the header section")));
                } else if (o instanceof HttpMessage && repeatedContentLength(contentLengths, (HttpMessage) o)) {
                    ((HttpMessage) o).setDecoderResult(io.netty.handler.codec.DecoderResult.failure(
                            new IllegalArgumentException("Content-Length repeated in an HTTP/1.0 request")));
                }
                if (o instanceof io.netty.handler.codec.http.LastHttpContent) {
                    fastPath.delegated(out, before);
                    inHead = true;
                    sawContent = false;
                    prevLf = false;
                    prevCr = false;
                    invalid = false;
                    scannedAhead = 0;
                    contentLengths = 0;
                    return;
                }
            }
            fastPath.delegated(out, before);
            scannedAhead = inHead && scanEnd >= 0 ? Math.max(0, scanEnd - buffer.readerIndex()) : 0;
        }

        /**
         * Scans header bytes from {@code from}; returns where it stopped. The state lives in locals
         * during the loop (a field write per byte costs more than the check itself).
         */
        private int scanHead(io.netty.buffer.ByteBuf buf, int from) {
            int end = buf.writerIndex();
            if (from >= end) {
                return end;
            }
            // Copied a slice at a time into a fixed array, then a plain array loop: cheaper than a checked
            // read per byte of a direct buffer, and a body read with the head is never copied whole.
            byte[] bytes = HeadParser.scratch();
            boolean cr = prevCr;
            boolean lf = prevLf;
            boolean content = sawContent;
            boolean bad = invalid;
            int stop = -1;
            for (int base = from; base < end && stop < 0; base += bytes.length) {
                int n = Math.min(bytes.length, end - base);
                buf.getBytes(base, bytes, 0, n);
                for (int i = 0; i < n; i++) {
                    byte b = bytes[i];
                    if (b > ' ') {
                        // The common byte: visible, not a line break.
                        if (cr) {
                            bad = true;
                        }
                        content = true;
                        lf = false;
                        cr = false;
                        continue;
                    }
                    if (cr && b != '\n') {
                        bad = true;
                    }
                    if (b == '\n') {
                        if (lf && content) {
                            stop = base + i;
                            break;
                        }
                        lf = true;
                        cr = false;
                        continue;
                    }
                    if (b == '\r') {
                        cr = true;
                        continue;
                    }
                    if (b == 0 || lf && content && (b == ' ' || b == '\t')) {
                        bad = true;
                    }
                    content = true;
                    lf = false;
                    cr = false;
                }
            }
            prevCr = cr;
            prevLf = lf;
            sawContent = content;
            invalid = bad;
            if (stop < 0) {
                return end;
            }
            inHead = false;
            return stop + 1;
        }

        @Override
        protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
            throw new AmbiguousFramingException();
        }
    }

    /**
     * What {@link HeldHead} needs from the encoder it serves: Netty's protected steps for one head, and
     * the encoder's own write for everything it does not encode itself.
     */
    interface HeadSteps<H extends HttpMessage> {
        /** Netty's {@code isContentAlwaysEmpty}: the message has no body, whatever follows its head. */
        boolean alwaysEmpty(H head);

        /** The initial line, Netty's header sanitizing, the fields and the empty line, into {@code buf}. */
        void encodeHead(H head, boolean alwaysEmpty, ByteBuf buf) throws Exception;

        /** About how many bytes {@link #encodeHead} writes (the buffer grows if it is more). */
        int headLength(H head);

        /** Netty's encoder writing {@code msg} as it comes. */
        void writeThrough(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception;
    }

    /**
     * Holds a message head written with the void promise, unencoded (it owns no buffer), until the next
     * write or flush. When the next write is the last content of a message that is not chunked, the two are
     * encoded here in one pass into one buffer (the body copied in when it is at most {@link #MERGE_LIMIT}
     * bytes): one {@code send} instead of a {@code writev} of two buffers, and none of the message and list
     * objects of Netty's generic path. Any other write, a flush or the encoder's removal hands the held
     * head to Netty's encoder first, so the bytes and their order are those of writing each message as it
     * comes ({@code EncoderProperties} checks this against Netty's encoders). Event-loop confined.
     */
    static final class HeldHead<H extends HttpMessage> {
        /** The largest body copied into its head's buffer; a larger one follows as its own buffer. */
        static final int MERGE_LIMIT = 2048;
        private static final int CRLF = ('\r' << 8) | '\n';

        private final Class<H> type;
        private final HeadSteps<H> steps;
        private H held;
        /** Whether Netty's encoder is inside a message (a head passed through, its last content not yet). */
        private boolean open;

        HeldHead(Class<H> type, HeadSteps<H> steps) {
            this.type = type;
            this.steps = steps;
        }

        void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            H head = held;
            if (head != null) {
                held = null;
                if (msg instanceof LastHttpContent && !(msg instanceof HttpMessage)
                        && !io.netty.handler.codec.http.HttpUtil.isTransferEncodingChunked(head)) {
                    writeWhole(ctx, head, (LastHttpContent) msg, promise);
                    return;
                }
                pass(ctx, head, ctx.voidPromise());
            }
            if (!open && type.isInstance(msg) && !(msg instanceof io.netty.handler.codec.http.HttpContent)
                    && promise.isVoid()) {
                held = type.cast(msg);
                return;
            }
            pass(ctx, msg, promise);
        }

        /** Hands the held head, if any, to Netty's encoder (before a flush or the encoder's removal). */
        void release(ChannelHandlerContext ctx) throws Exception {
            H head = held;
            if (head != null) {
                held = null;
                pass(ctx, head, ctx.voidPromise());
            }
        }

        private void pass(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof LastHttpContent) {
                open = false;
            } else if (msg instanceof HttpMessage) {
                open = true;
            }
            steps.writeThrough(ctx, msg, promise);
        }

        private void writeWhole(ChannelHandlerContext ctx, H head, LastHttpContent last, ChannelPromise promise) {
            ByteBuf buf = null;
            ByteBuf body = null;
            try {
                boolean empty = steps.alwaysEmpty(head);
                ByteBuf content = last.content();
                int n = empty ? 0 : content.readableBytes();
                boolean merge = n <= MERGE_LIMIT;
                buf = ctx.alloc().buffer(steps.headLength(head) + (merge ? n : 0));
                steps.encodeHead(head, empty, buf);
                if (merge) {
                    buf.writeBytes(content, content.readerIndex(), n);
                } else {
                    body = content.retain();
                }
            } catch (Throwable t) {
                if (buf != null) {
                    buf.release();
                }
                throw t instanceof EncoderException ? (EncoderException) t : new EncoderException(t);
            } finally {
                io.netty.util.ReferenceCountUtil.release(head);
                last.release();
            }
            if (body == null) {
                ctx.write(buf, promise);
            } else if (promise.isVoid()) {
                ctx.write(buf, promise);
                ctx.write(body, promise);
            } else {
                io.netty.util.concurrent.PromiseCombiner both =
                        new io.netty.util.concurrent.PromiseCombiner(ctx.executor());
                both.add(ctx.write(buf));
                both.add(ctx.write(body));
                both.finish(promise);
            }
        }

        static void endHead(ByteBuf buf) {
            buf.writeShort(CRLF);
        }
    }

    /** The encoded size of {@code headers} when they are {@link CompactHeaders}, else a guess. */
    private static int fieldsLength(io.netty.handler.codec.http.HttpHeaders headers) {
        return headers instanceof CompactHeaders ? ((CompactHeaders) headers).encodedLength() : 256;
    }

    /**
     * Knows when the response answers a HEAD request (the frontend handles one request at a time), and
     * writes a response head together with its body when the whole body follows it before a flush
     * ({@link HeldHead}).
     */
    static final class ResponseEncoder extends HttpResponseEncoder implements HeadSteps<HttpResponse> {
        boolean headRequest;
        private final HeldHead<HttpResponse> held = new HeldHead<>(HttpResponse.class, this);

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            return headRequest || super.isContentAlwaysEmpty(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            held.write(ctx, msg, promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) throws Exception {
            held.release(ctx);
            super.flush(ctx);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
            held.release(ctx);
            super.handlerRemoved(ctx);
        }

        @Override
        public boolean alwaysEmpty(HttpResponse head) {
            return isContentAlwaysEmpty(head);
        }

        @Override
        public void encodeHead(HttpResponse head, boolean alwaysEmpty, ByteBuf buf) throws Exception {
            encodeInitialLine(buf, head);
            sanitizeHeadersBeforeEncode(head, alwaysEmpty);
            encodeHeaders(head.headers(), buf);
            HeldHead.endHead(buf);
        }

        @Override
        public int headLength(HttpResponse head) {
            // "HTTP/1.1 200 " and CRLF, the reason, the fields, the empty line.
            return 15 + head.status().reasonPhrase().length() + fieldsLength(head.headers()) + 2;
        }

        @Override
        public void writeThrough(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            super.write(ctx, msg, promise);
        }

        @Override
        protected void encodeHeaders(io.netty.handler.codec.http.HttpHeaders headers, ByteBuf buf) {
            if (!CompactHeaders.encodeIfCompact(headers, buf)) {
                super.encodeHeaders(headers, buf);
            }
        }
    }

    /**
     * The upstream side's request encoder: writes {@link CompactHeaders} without an entry per field, and a
     * request head together with its body when the whole body follows it before a flush ({@link HeldHead}).
     */
    static final class RequestEncoder extends io.netty.handler.codec.http.HttpRequestEncoder
            implements HeadSteps<HttpRequest> {
        private final HeldHead<HttpRequest> held = new HeldHead<>(HttpRequest.class, this);

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            held.write(ctx, msg, promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) throws Exception {
            held.release(ctx);
            super.flush(ctx);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
            held.release(ctx);
            super.handlerRemoved(ctx);
        }

        @Override
        public boolean alwaysEmpty(HttpRequest head) {
            return isContentAlwaysEmpty(head);
        }

        @Override
        public void encodeHead(HttpRequest head, boolean alwaysEmpty, ByteBuf buf) throws Exception {
            encodeInitialLine(buf, head);
            sanitizeHeadersBeforeEncode(head, alwaysEmpty);
            encodeHeaders(head.headers(), buf);
            HeldHead.endHead(buf);
        }

        @Override
        public int headLength(HttpRequest head) {
            // The method, SP, the target (and a '/' Netty may add), " HTTP/1.1" and CRLF, the fields, the empty line.
            return head.method().name().length() + head.uri().length() + 13 + fieldsLength(head.headers()) + 2;
        }

        @Override
        public void writeThrough(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            super.write(ctx, msg, promise);
        }

        @Override
        protected void encodeHeaders(io.netty.handler.codec.http.HttpHeaders headers, ByteBuf buf) {
            if (!CompactHeaders.encodeIfCompact(headers, buf)) {
                super.encodeHeaders(headers, buf);
            }
        }
    }

    /** The most body bytes in one decoded content message (Netty's {@code maxChunkSize}). */
    static final int MAX_CONTENT_PIECE = 16 * 1024;

    static HttpDecoderConfig responseConfig() {
        return new HttpDecoderConfig().setMaxInitialLineLength(8192).setMaxHeaderSize(64 * 1024)
                .setMaxChunkSize(MAX_CONTENT_PIECE).setHeadersFactory(CompactHeaders.FACTORY)
                .setTrailersFactory(CompactHeaders.TRAILERS);
    }

    /**
     * The upstream side's response decoder. It replaces Netty's client codec, whose request queue
     * only serves to know a HEAD or CONNECT response: an upstream connection carries one exchange at
     * a time, so the frontend says which method it sent. Common header names and status line words
     * come from shared constants instead of a copy per response.
     *
     * <p>Fast path: the common response (HTTP/1.x, a final status, well-formed CRLF lines, a body framed by
     * one plain Content-Length or none at all) is parsed here in one pass over a copy of its head and
     * decoded into exactly the messages Netty's decoder would produce. Anything else (interim and 101
     * responses, chunked or close-delimited bodies, whitespace or control bytes where the fast path does
     * not expect them, a head over 8 KiB, a field Netty's header rules refuse …) is left, unread, to
     * Netty's decoder, which then owns that response to its end. {@code ResponseDecoderProperties} checks
     * the two against each other on generated responses split at random points.
     */
    /** Whether a header name Netty's decoder split is Content-Length. */
    static boolean isContentLength(AsciiString name) {
        return name.length() == 14 && name.contentEqualsIgnoreCase(HttpHeaderNames.CONTENT_LENGTH);
    }

    /**
     * Whether {@code m}'s head, with {@code contentLengths} Content-Length fields, repeats it below HTTP/1.1.
     * Netty's decoder compares repeated values only from HTTP/1.1 on: below, it frames the body by the
     * first and drops the others, so two differing lengths would pass unseen (RFC 9112 §6.3: invalid
     * framing). Below 1.1 every repeated one is refused, as nginx refuses a repeated Content-Length in any
     * version (Netty already refuses one field listing a length twice there); from 1.1 on equal ones stay
     * folded. Both decoders ask it: a request so framed gets 400, a response 502.
     */
    static boolean repeatedContentLength(int contentLengths, HttpMessage m) {
        HttpVersion v = m.protocolVersion();
        return contentLengths > 1 && (v.majorVersion() < 1 || v.majorVersion() == 1 && v.minorVersion() == 0);
    }

    static final class ResponseDecoder extends HttpResponseDecoder {
        /** The method of the request this connection answers: HEAD and CONNECT responses have no body. */
        boolean headRequest;
        boolean connectRequest;
        /**
         * The head the fast path fills for each response, with its header map and arrays, instead of new
         * ones per response. A head is valid until the next one is decoded: its readers (the frontend and
         * the client's encoder) are done with it before that, because a response's last content, which
         * ends them, is passed on before the decoder parses the next head, on the same event loop.
         */
        DefaultHttpResponse reusedHead;
        /** Content-Length fields of the head Netty's decoder is parsing (see {@link #splitHeaderName}). */
        private int contentLengths;
        private final FastPath fastPath;
        /** The connection this decoder reads for, or null (benchmarks, tests). */
        private final UpstreamConnection connection;

        ResponseDecoder() {
            this(true, null);
        }

        /** With {@code fastPath} false, Netty's decoder alone (the reference in tests). */
        ResponseDecoder(boolean fastPath) {
            this(fastPath, null);
        }

        /** The decoder of {@code connection}, which closes it when bytes arrive while it has no user. */
        ResponseDecoder(UpstreamConnection connection) {
            this(true, connection);
        }

        private ResponseDecoder(boolean fastPath, UpstreamConnection connection) {
            super(responseConfig());
            this.fastPath = new FastPath(fastPath, (buf, out) -> HeadParser.decodeResponse(this, buf, out));
            this.connection = connection;
        }

        /**
         * Whether bytes past the messages decoded so far wait here: asked when a response is complete, they
         * are bytes the upstream sent after it.
         */
        boolean hasUnread() {
            return actualReadableBytes() > 0;
        }

        @Override
        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) throws Exception {
            UpstreamConnection c = connection;
            if (c != null && c.user == null) {
                // Idle in the pool, the upstream must be silent: a byte, even one that completes no message,
                // would be read as the start of the next exchange's response. Closed, as nginx does.
                io.netty.util.ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            super.channelRead(ctx, msg);
        }

        @Override
        protected void decode(io.netty.channel.ChannelHandlerContext ctx, io.netty.buffer.ByteBuf buffer,
                java.util.List<Object> out) throws Exception {
            // A CONNECT's 2xx starts a tunnel: Netty's decoder keeps that exchange.
            if (fastPath.decode(buffer, out, !connectRequest)) {
                return;
            }
            int before = out.size();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpMessage) {
                    if (repeatedContentLength(contentLengths, (HttpMessage) o)) {
                        ((HttpMessage) o).setDecoderResult(io.netty.handler.codec.DecoderResult.failure(
                                new IllegalArgumentException("Content-Length repeated in an HTTP/1.0 response")));
                    }
                    contentLengths = 0;
                } else if (o instanceof LastHttpContent) {
                    contentLengths = 0; // trailer fields are not the head's
                }
            }
            fastPath.delegated(out, before);
        }

        @Override
        protected void decodeLast(io.netty.channel.ChannelHandlerContext ctx, io.netty.buffer.ByteBuf in,
                java.util.List<Object> out) throws Exception {
            fastPath.closing();
            super.decodeLast(ctx, in, out);
        }

        /** Called by {@link HeadParser} with a decoded head; {@code length} is -1 for no body. */
        void fastHead(HttpResponse head, long length, java.util.List<Object> out) {
            fastPath.head(head, length, out);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            int code = ((HttpResponse) msg).status().code();
            if (code != 100 && code != 101 && (headRequest || connectRequest && code / 100 == 2)) {
                return true;
            }
            return super.isContentAlwaysEmpty(msg);
        }

        @Override
        protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
            AsciiString known = KnownNames.find(sb, start, length);
            AsciiString name = known != null ? known : super.splitHeaderName(sb, start, length);
            if (isContentLength(name)) {
                contentLengths++;
            }
            return name;
        }

        @Override
        protected String splitFirstWordInitialLine(byte[] sb, int start, int length) {
            return length == 8 && KnownNames.matches(sb, start, HTTP_1_1) ? "HTTP/1.1"
                    : super.splitFirstWordInitialLine(sb, start, length);
        }

        @Override
        protected String splitSecondWordInitialLine(byte[] sb, int start, int length) {
            return length == 3 && sb[start] == '2' && sb[start + 1] == '0' && sb[start + 2] == '0' ? "200"
                    : super.splitSecondWordInitialLine(sb, start, length);
        }

        @Override
        protected String splitThirdWordInitialLine(byte[] sb, int start, int length) {
            return length == 2 && sb[start] == 'O' && sb[start + 1] == 'K' ? "OK"
                    : super.splitThirdWordInitialLine(sb, start, length);
        }

        private static final byte[] HTTP_1_1 = {'H', 'T', 'T', 'P', '/', '1', '.', '1'};
    }

    /**
     * A decoder's fast path ({@link HeadParser}) beside Netty's: which of the two owns the message being
     * decoded, and what is left of a body the fast path reads. Netty's decoder owns a message from its
     * first byte to its last content once the fast path declined its head, and every further byte after
     * a failure or a 101 (Netty's decoder is then in its bad-message or upgraded state). One per decoder;
     * event-loop confined.
     */
    static final class FastPath {
        /** Parses a head at the reader index: {@link HeadParser#DECODED}, {@code NEED_MORE} or {@code DECLINED}. */
        interface Head {
            int decode(io.netty.buffer.ByteBuf buf, java.util.List<Object> out);
        }

        private final boolean enabled;
        private final Head head;
        private boolean delegating;
        private boolean delegatingForGood;
        /** The connection closed: a head cut short is Netty's decoder's to report. */
        private boolean closing;
        /** The head at the reader index was found incomplete once already. */
        private boolean waited;
        /** Body bytes still to come of a fast-path message, or -1 when none is being read. */
        private long remaining = -1;

        FastPath(boolean enabled, Head head) {
            this.enabled = enabled;
            this.head = head;
        }

        /**
         * Decodes what the fast path owns; true when the caller has nothing more to do with these bytes
         * now, false when Netty's decoder must decode them (the caller then reports its output to
         * {@link #delegated}). {@code allowed} false sends a new head to Netty's decoder.
         */
        boolean decode(io.netty.buffer.ByteBuf buffer, java.util.List<Object> out, boolean allowed) {
            if (remaining >= 0) {
                remaining = readFixedLength(buffer, remaining, out);
                return true;
            }
            if (enabled && allowed && !delegating && !delegatingForGood) {
                int r = head.decode(buffer, out);
                if (r == HeadParser.DECODED) {
                    waited = false;
                    remaining = readFixedLength(buffer, remaining, out);
                    return true;
                }
                // A head split over two reads is common; one trickling in over many is left to Netty's
                // decoder, which parses incrementally, instead of being copied and scanned again per read.
                if (r == HeadParser.NEED_MORE && !closing && !waited) {
                    waited = true;
                    return true;
                }
            }
            waited = false;
            delegating = true;
            return false;
        }

        /** Adds a head the fast path decoded, and the empty last content when {@code length} is -1 or 0. */
        void head(HttpMessage message, long length, java.util.List<Object> out) {
            out.add(message);
            if (length <= 0) {
                out.add(LastHttpContent.EMPTY_LAST_CONTENT);
            } else {
                remaining = length;
            }
        }

        /** What Netty's decoder added to {@code out} from {@code from} on. */
        void delegated(java.util.List<Object> out, int from) {
            for (int i = from; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpObject && ((HttpObject) o).decoderResult().isFailure()
                        || o instanceof HttpResponse && ((HttpResponse) o).status().code() == 101) {
                    delegatingForGood = true;
                }
                if (o instanceof LastHttpContent) {
                    delegating = false;
                }
            }
        }

        /** The connection closed: what is left goes to Netty's decoder's end-of-input handling. */
        void closing() {
            closing = true;
        }
    }

    /**
     * Reads what has arrived of a fixed-length body as Netty's decoder does: pieces of at most {@link
     * #MAX_CONTENT_PIECE}, the last one a {@link LastHttpContent}. Returns the bytes still to come, or -1
     * once the body is complete.
     */
    private static long readFixedLength(io.netty.buffer.ByteBuf buffer, long remaining, java.util.List<Object> out) {
        while (remaining > 0) {
            int readable = buffer.readableBytes();
            if (readable == 0) {
                return remaining;
            }
            int n = (int) Math.min(Math.min(readable, MAX_CONTENT_PIECE), remaining);
            io.netty.buffer.ByteBuf piece = buffer.readRetainedSlice(n);
            remaining -= n;
            if (remaining == 0) {
                // A fixed-length body has no trailers, and the proxy only reads them: the shared empty,
                // read-only section instead of a new one per message.
                out.add(new io.netty.handler.codec.http.DefaultLastHttpContent(piece,
                        io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE));
                return -1;
            }
            out.add(new io.netty.handler.codec.http.DefaultHttpContent(piece));
        }
        return remaining;
    }

    /**
     * Header names seen in most requests and responses, matched byte for byte (case included, so what
     * is forwarded keeps the sender's spelling) to share one constant instead of a copy per message.
     */
    static final class KnownNames {
        private static final AsciiString[][] BY_LENGTH = new AsciiString[32][];

        static {
            String[] names = {"Host", "Date", "ETag", "Vary", "Accept", "Server", "Cookie", "Expires",
                    "Referer", "Location", "Connection", "Keep-Alive", "User-Agent", "Set-Cookie",
                    "Content-Type", "Accept-Ranges", "Cache-Control", "Last-Modified", "Authorization",
                    "Content-Length", "Accept-Encoding", "Accept-Language", "Content-Encoding",
                    "Transfer-Encoding", "X-Forwarded-For", "If-Modified-Since", "If-None-Match"};
            for (String n : names) {
                AsciiString c = AsciiString.cached(n);
                AsciiString[] row = BY_LENGTH[c.length()];
                AsciiString[] grown = row == null ? new AsciiString[1] : java.util.Arrays.copyOf(row, row.length + 1);
                grown[grown.length - 1] = c;
                BY_LENGTH[c.length()] = grown;
            }
        }

        private KnownNames() {}

        /** The shared constant spelled exactly as {@code sb[start, start + length)}, or null. */
        static AsciiString find(byte[] sb, int start, int length) {
            if (length >= BY_LENGTH.length) {
                return null;
            }
            AsciiString[] row = BY_LENGTH[length];
            if (row == null) {
                return null;
            }
            for (AsciiString n : row) {
                if (matches(sb, start, n.array(), n.arrayOffset(), length)) {
                    return n;
                }
            }
            return null;
        }

        /** Whether {@code name} is one of these constants itself (identity, not spelling). */
        static boolean isConstant(CharSequence name) {
            int length = name.length();
            if (!(name instanceof AsciiString) || length >= BY_LENGTH.length) {
                return false;
            }
            AsciiString[] row = BY_LENGTH[length];
            if (row != null) {
                for (AsciiString n : row) {
                    if (n == name) {
                        return true;
                    }
                }
            }
            return false;
        }

        static boolean matches(byte[] sb, int start, byte[] expected) {
            return matches(sb, start, expected, 0, expected.length);
        }

        private static boolean matches(byte[] sb, int start, byte[] expected, int offset, int length) {
            for (int i = 0; i < length; i++) {
                if (sb[start + i] != expected[offset + i]) {
                    return false;
                }
            }
            return true;
        }
    }
}
