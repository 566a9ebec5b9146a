package dev.lbkit.l7.internal;

import dev.lbkit.l7.Http2Options;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

/**
 * Where an HTTP/2-enabled listener's connection chooses its protocol, in front of the HTTP/1.1 handlers:
 * after the TLS handshake by ALPN, or on a cleartext connection by its first bytes (the HTTP/2 preface:
 * prior knowledge, RFC 9113 §3.3). For h2 it hands the connection to {@link Http2Frontend}; otherwise it
 * only leaves the pipeline, and the connection goes on as HTTP/1.1, unchanged.
 */
final class Http2Switch {
    /** The client connection preface (RFC 9113 §3.4). */
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final FrontendHandler frontend;
    private final Http2Options options;
    private final ProxyState state;
    private final boolean tls;
    private final RealAddress.Config realIp;

    private Http2Switch(FrontendHandler frontend, Http2Options options, ProxyState state, boolean tls,
            RealAddress.Config realIp) {
        this.frontend = frontend;
        this.options = options;
        this.state = state;
        this.tls = tls;
        this.realIp = realIp;
    }

    /** The handler that chooses for {@code frontend}'s connection, to go right before its decoder. */
    static ChannelHandler newHandler(FrontendHandler frontend, Http2Options options, ProxyState state, boolean tls,
            RealAddress.Config realIp) {
        Http2Switch s = new Http2Switch(frontend, options, state, tls, realIp);
        frontend.awaitProtocol();
        return tls ? s.new Alpn() : new PriorKnowledge(s::toHttp2, frontend::http1Chosen);
    }

    private boolean toHttp2(ChannelHandlerContext at) {
        return Http2Frontend.takeOver(at, frontend, options, state, tls, realIp);
    }

    /**
     * ALPN's choice, after the TLS handshake (Netty's handler holds what is read until then). A failed
     * handshake's exception goes on to the frontend, which counts and logs it as before.
     */
    private final class Alpn extends ApplicationProtocolNegotiationHandler {
        Alpn() {
            super(ApplicationProtocolNames.HTTP_1_1);
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                toHttp2(ctx);
            } else {
                frontend.http1Chosen();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.fireExceptionCaught(cause);
        }
    }

    /**
     * The cleartext choice: a connection whose first bytes are the HTTP/2 preface is HTTP/2 ({@code toHttp2}
     * sets up the handlers after this one); at the first byte that differs from it, HTTP/1.1 ({@code toHttp1}
     * is told before the bytes go on). Either way the bytes go on, unchanged, to the handler after it, and it
     * leaves. Holds at most the preface's 24 bytes meanwhile.
     */
    static final class PriorKnowledge extends ChannelInboundHandlerAdapter {
        private final Predicate<ChannelHandlerContext> toHttp2;
        private final Runnable toHttp1;
        private ByteBuf held;

        PriorKnowledge(Predicate<ChannelHandlerContext> toHttp2, Runnable toHttp1) {
            this.toHttp2 = toHttp2;
            this.toHttp1 = toHttp1;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf)) {
                ctx.fireChannelRead(msg);
                return;
            }
            ByteBuf in = (ByteBuf) msg;
            if (held != null) {
                ByteBuf all = ctx.alloc().buffer(held.readableBytes() + in.readableBytes());
                all.writeBytes(held).writeBytes(in);
                held.release();
                in.release();
                held = null;
                in = all;
            }
            int n = Math.min(in.readableBytes(), PREFACE.length);
            boolean h2 = true;
            for (int i = 0; i < n && h2; i++) {
                h2 = in.getByte(in.readerIndex() + i) == PREFACE[i];
            }
            if (h2 && n < PREFACE.length) {
                held = in;
                return;
            }
            if (h2) {
                toHttp2.test(ctx);
            } else {
                toHttp1.run();
            }
            ctx.pipeline().remove(this);
            // The removed context still leads to the handler after it: the codec, or the HTTP/1.1 decoder.
            ctx.fireChannelRead(in);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (held != null) {
                held.release();
                held = null;
            }
        }
    }
}
