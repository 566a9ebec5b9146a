package dev.lbkit.dns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Answers DNS-over-TCP queries (RFC 7766), several per connection, after a length-field frame decoder
 * and before a 2-byte length prepender. The idle timer restarts only when a whole query arrives or an
 * answer is sent, so a client trickling a partial message, or announcing a length it never sends, is
 * closed after the idle timeout like a silent one; but never while a forwarded query of the connection
 * waits for its answer. Stops reading while the client does not read its answers.
 *
 * <p>The channel must allow half-closure: after the client's FIN (a client that half-closes after its
 * last query, {@code nc -q}), every query already received is answered, forwarded ones when their
 * answer or SERVFAIL comes, and then the connection is closed.
 *
 * <p>All state is confined to the channel's event loop; {@link #reply} hops onto it.
 */
public final class TcpHandler extends ChannelInboundHandlerAdapter implements Replier {
    private final DnsEngine engine;
    private final long idleNanos;
    private final Counters counters;
    /** Forwarded queries not answered yet. */
    private int outstanding;
    /** The client sent its FIN: close once {@link #outstanding} is 0 and the answers are written. */
    private boolean inputShutdown;
    /** The last answer written; writes complete in order, so when it is done, all are. */
    private ChannelFuture lastWrite;
    private ScheduledFuture<?> idle;
    private long lastActivity;
    private volatile Channel channel;

    public TcpHandler(DnsEngine engine, long idleNanos, Counters counters) {
        this.engine = engine;
        this.idleNanos = idleNanos;
        this.counters = counters;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        lastActivity = System.nanoTime();
        idle = ctx.executor().schedule(() -> checkIdle(ctx), idleNanos, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    private void checkIdle(ChannelHandlerContext ctx) {
        long left = idleNanos - (System.nanoTime() - lastActivity);
        if (left <= 0 && outstanding == 0) {
            counters.increment(Counters.TCP_IDLE_CLOSED);
            ctx.close();
        } else {
            // A connection with a forwarded query outstanding stays open for its answer (RFC 1035 section
            // 4.2.2, RFC 7766 section 6.2.3). That cannot last: the forwarder answers every query, with
            // SERVFAIL at the latest when its resolvers' timeouts have run out.
            idle = ctx.executor().schedule(() -> checkIdle(ctx), left > 0 ? left : idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void deferred() {
        outstanding++;
    }

    @Override
    public void reply(ByteBuf message) {
        EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            answered(message);
            return;
        }
        try {
            loop.execute(() -> answered(message));
        } catch (RejectedExecutionException e) {
            // The server is shutting down.
            message.release();
        }
    }

    private void answered(ByteBuf message) {
        outstanding--;
        lastActivity = System.nanoTime();
        lastWrite = channel.writeAndFlush(message);
        if (inputShutdown) {
            closeWhenAnswered();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        // The frame decoder before this handler has passed on every whole query that came before the FIN.
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
            ctx.flush();
            closeWhenAnswered();
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void closeWhenAnswered() {
        if (outstanding > 0) {
            return;
        }
        if (lastWrite == null || lastWrite.isDone()) {
            channel.close();
        } else {
            lastWrite.addListener(ChannelFutureListener.CLOSE);
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
            ByteBuf answer = engine.handle(frame, ctx.alloc(), true, this);
            if (answer != null) {
                lastWrite = ctx.write(answer);
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
