package dev.lbkit.dns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;

/**
 * Answers UDP queries. Answers made on the spot are written without flushing and flushed once per read
 * batch ({@link #channelReadComplete}), so a burst of queries costs one system call per batch.
 */
@ChannelHandler.Sharable
public final class UdpHandler extends ChannelInboundHandlerAdapter {
    private final DnsEngine engine;

    public UdpHandler(DnsEngine engine) {
        this.engine = engine;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        DatagramPacket packet = (DatagramPacket) msg;
        try {
            InetSocketAddress sender = packet.sender();
            Channel ch = ctx.channel();
            ByteBuf answer = engine.handle(packet.content(), ctx.alloc(), false,
                    m -> ch.writeAndFlush(new DatagramPacket(m, sender)));
            if (answer != null) {
                ctx.write(new DatagramPacket(answer, sender), ctx.voidPromise());
            }
        } finally {
            packet.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A UDP socket error (an ICMP unreachable for one client, say) concerns that client only.
    }
}
