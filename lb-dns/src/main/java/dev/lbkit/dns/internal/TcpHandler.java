package dev.lbkit.dns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Answers DNS-over-TCP queries (RFC 7766), several per connection, after a length-field frame decoder
 * and before a 2-byte length prepender. The idle timer restarts only when a whole query arrives or an
 * answer is sent, so a client trickling a partial message, or announcing a length it never sends, is
 * closed after the idle timeout like a silent one. Stops reading while the client does not read its
 * answers.
 */
public final class TcpHandler extends ChannelInboundHandlerAdapter {
    private final DnsEngine engine;
    private final long idleNanos;
    private final Counters counters;
    private ScheduledFuture<?> idle;
    private volatile long lastActivity;

    public TcpHandler(DnsEngine engine, long idleNanos, Counters counters) {
        this.engine = engine;
        this.idleNanos = idleNanos;
        this.counters = counters;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        lastActivity = System.nanoTime();
        idle = ctx.executor().schedule(() -> checkIdle(ctx), idleNanos, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    private void checkIdle(ChannelHandlerContext ctx) {
        long left = idleNanos - (System.nanoTime() - lastActivity);
        if (left <= 0) {
            counters.increment(Counters.TCP_IDLE_CLOSED);
            ctx.close();
        } else {
            idle = ctx.executor().schedule(() -> checkIdle(ctx), left, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idle != null) {
            idle.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ByteBuf frame = (ByteBuf) msg;
        lastActivity = System.nanoTime();
        try {
            Channel ch = ctx.channel();
            ByteBuf answer = engine.handle(frame, ctx.alloc(), true, m -> {
                lastActivity = System.nanoTime();
                ch.writeAndFlush(m);
            });
            if (answer != null) {
                ctx.write(answer);
            }
        } finally {
            frame.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        if (!ctx.channel().isWritable()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            ctx.channel().config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset or a frame over 65535 bytes ends this connection only.
        ctx.close();
    }
}
