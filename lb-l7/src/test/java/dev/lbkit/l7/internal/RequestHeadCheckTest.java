package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * lb-l7's request head check (obs-fold, bare CR, NUL) on buffers longer than the slice it scans at a
 * time, as one socket read can deliver once Netty's read buffers have grown.
 */
class RequestHeadCheckTest {
    private static final String LONG = "v".repeat(5000);

    private static HttpRequest decode(String wire, EmbeddedChannel ch) {
        ch.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
        Object first = ch.readInbound();
        assertTrue(first instanceof HttpRequest, String.valueOf(first));
        return (HttpRequest) first;
    }

    @Test
    void anObsFoldPastTheFirstSliceOfOneReadIsCaught() {
        EmbeddedChannel ch = new EmbeddedChannel(FrontendHandler.newDecoder(8192, 16384));
        try {
            HttpRequest req = decode("GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + LONG + "\r\n folded\r\n\r\n", ch);
            assertTrue(req.decoderResult().isFailure(), "obs-fold after 5000 bytes accepted");
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aLongValidHeadWithItsBodyInOneReadPasses() {
        EmbeddedChannel ch = new EmbeddedChannel(FrontendHandler.newDecoder(8192, 16384));
        try {
            String body = "b".repeat(10_000);
            HttpRequest req = decode("POST / HTTP/1.1\r\nHost: x\r\nX-Long: " + LONG + "\r\nContent-Length: "
                    + body.length() + "\r\n\r\n" + body, ch);
            assertFalse(req.decoderResult().isFailure(), String.valueOf(req.decoderResult()));
            assertEquals(LONG, req.headers().get("x-long"));
            int bodyBytes = 0;
            Object m;
            while ((m = ch.readInbound()) != null) {
                if (m instanceof HttpContent c) {
                    bodyBytes += c.content().readableBytes();
                }
                ReferenceCountUtil.release(m);
            }
            assertEquals(body.length(), bodyBytes);
            // The next request on the connection is checked from its own first byte.
            HttpRequest next = decode("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n", ch);
            assertTrue(next.decoderResult().isFailure(), "obs-fold in the second request accepted");
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
