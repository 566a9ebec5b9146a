package dev.lbkit.l7.internal;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

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
                .setMaxChunkSize(16 * 1024).setStrictLineParsing(true).setAllowDuplicateContentLengths(true)
                .setValidateHeaders(true);
    }

    /**
     * Rejects Content-Length together with Transfer-Encoding instead of dropping Content-Length, and
     * marks as invalid a request whose header section has an obs-fold (a line starting with SP or HTAB),
     * a bare CR or a NUL (RFC 9112 §2.2, §5.2), which Netty's decoder would otherwise accept or fold.
     */
    static final class RequestDecoder extends HttpRequestDecoder {
        private boolean inHead = true;
        private boolean sawContent;
        private boolean prevLf;
        private boolean prevCr;
        private boolean invalid;
        private int scannedAhead;

        RequestDecoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected void decode(io.netty.channel.ChannelHandlerContext ctx, io.netty.buffer.ByteBuf buffer,
                java.util.List<Object> out) throws Exception {
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
                }
                if (o instanceof io.netty.handler.codec.http.LastHttpContent) {
                    inHead = true;
                    sawContent = false;
                    prevLf = false;
                    prevCr = false;
                    invalid = false;
                    scannedAhead = 0;
                    return;
                }
            }
            scannedAhead = inHead && scanEnd >= 0 ? Math.max(0, scanEnd - buffer.readerIndex()) : 0;
        }

        /** Scans header bytes from {@code from}; returns where it stopped. */
        private int scanHead(io.netty.buffer.ByteBuf buf, int from) {
            int end = buf.writerIndex();
            for (int i = from; i < end; i++) {
                byte b = buf.getByte(i);
                if (prevCr && b != '\n') {
                    invalid = true;
                }
                if (b == '\n') {
                    if (prevLf && sawContent) {
                        inHead = false;
                        return i + 1;
                    }
                    prevLf = true;
                    prevCr = false;
                    continue;
                }
                if (b == '\r') {
                    prevCr = true;
                    continue;
                }
                if (b == 0) {
                    invalid = true;
                }
                if (prevLf && sawContent && (b == ' ' || b == '\t')) {
                    invalid = true;
                }
                sawContent = true;
                prevLf = false;
                prevCr = false;
            }
            return end;
        }

        @Override
        protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
            throw new AmbiguousFramingException();
        }
    }

    /** Knows when the response answers a HEAD request (the frontend handles one request at a time). */
    static final class ResponseEncoder extends HttpResponseEncoder {
        boolean headRequest;

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            return headRequest || super.isContentAlwaysEmpty(msg);
        }
    }
}
