package dev.lbkit.l7.internal;

import dev.lbkit.api.Member;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler on an upstream channel: hands what arrives to the exchange using the connection,
 * or, while the connection idles in the pool, watches it for a close. Event-loop confined.
 */
final class UpstreamConnection extends ChannelInboundHandlerAdapter {
    final Member member;
    final UpstreamConnectionPool pool;
    /** This connection's response decoder: told which method each request has (HEAD, CONNECT). */
    final Codecs.ResponseDecoder decoder = new Codecs.ResponseDecoder(this);
    Channel channel;
    int requests;
    /** The frontend using the connection, or null while idle. */
    FrontendHandler user;
    /** When the connection last went back to the pool ({@link System#nanoTime()}). */
    long idleSince;

    UpstreamConnection(Member member, UpstreamConnectionPool pool) {
        this.member = member;
        this.pool = pool;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        FrontendHandler u = user;
        if (u != null) {
            u.onUpstreamMessage(this, msg);
        } else {
            // An idle connection must be silent (its decoder closes it when bytes arrive); what is decoded
            // after its exchange ended, from bytes that came with the response, means it cannot be reused.
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        FrontendHandler u = user;
        if (u != null) {
            u.onUpstreamReadComplete(this);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        FrontendHandler u = user;
        if (u != null) {
            u.onUpstreamWritabilityChanged(this);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        FrontendHandler u = user;
        if (u != null) {
            user = null;
            u.onUpstreamClosed(this, null);
        } else {
            pool.remove(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        FrontendHandler u = user;
        if (u != null) {
            user = null;
            u.onUpstreamClosed(this, cause);
        }
        ctx.close();
    }
}
