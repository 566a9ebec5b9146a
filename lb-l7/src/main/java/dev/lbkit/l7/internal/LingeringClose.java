package dev.lbkit.l7.internal;

import dev.lbkit.transport.internal.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * nginx's lingering close, for a client connection that ends while the client may still be sending (a
 * refused request whose body was not all read or whose framing is unknown, such as a 400, 413 or 417; a
 * 504 before the body was sent; an upstream that answered early; requests pipelined behind the last one
 * answered). Closing at once with unread bytes makes the kernel reset the connection, and the reset can
 * destroy the response before the client reads it. Instead, once the response is written, the output is
 * shut down (FIN) and whatever the client still sends is read and dropped until it closes, stays silent
 * for {@code lingering_timeout}, or {@code lingering_time} has passed in all; then the connection closes.
 * On a TLS connection, close_notify goes out before the FIN (nginx's SSL shutdown before its lingering
 * close), and what the client still sends is dropped below the TLS handler, never decrypted.
 *
 * <p>Used as the listener of the response's write: one instance per lingering connection (a rare path).
 * Event-loop confined.
 */
final class LingeringClose extends ChannelInboundHandlerAdapter implements ChannelFutureListener {
    private final long timeNanos;
    private final long timeoutNanos;
    private Deadline quiet;
    private ScheduledFuture<?> total;

    LingeringClose(long timeNanos, long timeoutNanos) {
        this.timeNanos = timeNanos;
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void operationComplete(ChannelFuture f) {
        Channel ch = f.channel();
        if (!f.isSuccess() || !ch.isActive() || !(ch instanceof DuplexChannel)) {
            ch.close();
            return;
        }
        // First in the pipeline, below a TLS handler too, so nothing the client still sends reaches the
        // decoders: TLS records are dropped undecrypted, as nginx reads them raw after its SSL shutdown.
        ch.pipeline().addFirst(this);
        total = ch.eventLoop().schedule((Runnable) ch::close, timeNanos, TimeUnit.NANOSECONDS);
        quiet = new Deadline(ch.eventLoop(), ch::close);
        quiet.arm(timeoutNanos);
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        if (tls != null) {
            // close_notify before the FIN, so that a TLS client can tell this end from a truncation.
            tls.closeOutbound().addListener((ChannelFutureListener) LingeringClose::shutdownOutput);
        } else {
            shutdownOutput(f);
        }
        ch.config().setAutoRead(true);
        Transport.resumeReads(ch);
    }

    /** Shuts the output down once what {@code written} wrote is out, or closes if that failed. */
    private static void shutdownOutput(ChannelFuture written) {
        Channel ch = written.channel();
        if (!written.isSuccess()) {
            ch.close();
            return;
        }
        ((DuplexChannel) ch).shutdownOutput().addListener((ChannelFutureListener) s -> {
            if (!s.isSuccess()) {
                s.channel().close();
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        quiet.arm(timeoutNanos);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!ctx.channel().config().isAutoRead()) {
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent || evt instanceof ChannelInputShutdownReadComplete) {
            ctx.close(); // the client has sent everything
        } else {
            ReferenceCountUtil.release(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        quiet.cancel();
        total.cancel(false);
        ctx.fireChannelInactive();
    }
}
