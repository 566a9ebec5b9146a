package dev.lbkit.l7.internal;

import dev.lbkit.l7.ErrorPage;
import dev.lbkit.l7.ErrorPages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * {@link ErrorPages} in sending form: per status, the status to send and the page's bytes, encoded once
 * into a direct buffer shared by every connection, which no write releases and which is freed once the
 * balancer or route table holding it is garbage (each write sends a duplicate of it, so serving a page
 * copies nothing). Immutable; built when the balancer or its routes are.
 */
final class ErrorResponses {
    /** One page, ready to send. */
    static final class Page {
        /** The status sent, or null to send the error's own. */
        final HttpResponseStatus status;
        private final ByteBuf body;
        final AsciiString contentType;
        final int length;
        /** The Retry-After value, or null. */
        final AsciiString retryAfter;

        private Page(ErrorPage p) {
            this.status = p.status().isPresent() ? HttpResponseStatus.valueOf(p.status().getAsInt()) : null;
            byte[] bytes = p.body();
            // A JDK direct buffer wrapped, not one from Netty's allocator: it is freed when the balancer (or its
            // old route table) is garbage, instead of being reported by the leak detector as never released.
            this.body = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(
                    java.nio.ByteBuffer.allocateDirect(bytes.length).put(bytes).flip()).asReadOnly());
            this.contentType = AsciiString.cached(p.contentType());
            this.length = bytes.length;
            this.retryAfter = p.retryAfter().map(d -> AsciiString.cached(Long.toString(d.getSeconds()))).orElse(null);
        }

        /** The body for one write: a view of the shared bytes with its own indexes (not to be released). */
        ByteBuf body() {
            return body.duplicate();
        }

        /** The status to send for an error with {@code s}. */
        HttpResponseStatus status(HttpResponseStatus s) {
            return status != null ? status : s;
        }
    }

    private final Page[] byStatus = new Page[600];

    private ErrorResponses(ErrorPages pages) {
        // A page given for several statuses is encoded once.
        Map<ErrorPage, Page> encoded = new IdentityHashMap<>();
        for (Map.Entry<Integer, ErrorPage> e : pages.pages().entrySet()) {
            byStatus[e.getKey()] = encoded.computeIfAbsent(e.getValue(), Page::new);
        }
    }

    /** The sending form of {@code pages} (with none, every error keeps its built-in body). */
    static ErrorResponses of(ErrorPages pages) {
        return new ErrorResponses(pages);
    }

    /** The page for {@code status}, or null. */
    Page get(int status) {
        return status >= 0 && status < byStatus.length ? byStatus[status] : null;
    }
}
