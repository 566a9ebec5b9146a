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

    /** Rejects Content-Length together with Transfer-Encoding instead of dropping Content-Length. */
    static final class RequestDecoder extends HttpRequestDecoder {
        RequestDecoder(HttpDecoderConfig config) {
            super(config);
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
