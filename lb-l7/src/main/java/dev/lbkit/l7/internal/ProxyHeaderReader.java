package dev.lbkit.l7.internal;

import dev.lbkit.transport.internal.ProxyHeaders;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyMessage;

/**
 * Right after Netty's PROXY header decoder on a client connection: gives the frontend the addresses the
 * header names and leaves the pipeline, so that the requests after it pass no extra handler. A malformed
 * header reaches the frontend as the decoder's exception (it has closed the connection). Event-loop confined.
 */
final class ProxyHeaderReader extends ChannelInboundHandlerAdapter {
    private final FrontendHandler frontend;

    ProxyHeaderReader(FrontendHandler frontend) {
        this.frontend = frontend;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage)) {
            ctx.fireChannelRead(msg);
            return;
        }
        HAProxyMessage m = (HAProxyMessage) msg;
        try {
            frontend.proxyHeaderRead(ProxyHeaders.source(m, frontend.clientAddress()),
                    ProxyHeaders.destination(m, frontend.localAddress()));
        } finally {
            m.release();
        }
        ctx.pipeline().remove(this);
    }
}
