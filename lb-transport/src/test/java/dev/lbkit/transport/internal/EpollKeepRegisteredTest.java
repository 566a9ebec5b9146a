package dev.lbkit.transport.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lbkit.transport.TransportType;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.util.ReferenceCountUtil;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A server that writes a large answer after its client's FIN (a proxied download after a half-close): on
 * epoll, the channel's interest set is empty once the FIN is read, and Netty 4.2.18 took the socket out of
 * epoll then and failed the EPOLLOUT the large write needs (ENOENT): the client got a clean end of stream
 * with bytes missing, every time. Every byte must arrive, then the end of stream.
 */
class EpollKeepRegisteredTest {
    private static final int ANSWER = 8 * 1024 * 1024;

    @Test
    void aLargeWriteAfterThePeersFinArrivesWhole() throws Exception {
        assumeTrue(TransportType.available().contains(TransportType.EPOLL), "epoll does not load here");
        Transport epoll = Transport.choose(TransportType.EPOLL);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, epoll.ioHandlerFactory());
        try {
            Channel server = new ServerBootstrap().group(group).channel(epoll.serverChannel())
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ReferenceCountUtil.release(msg);
                        }

                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof ChannelInputShutdownReadComplete) {
                                // After Netty has done with the FIN (its interest set is empty by then).
                                ctx.executor().schedule(() -> ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[ANSWER]))
                                        .addListener(ChannelFutureListener.CLOSE), 50, TimeUnit.MILLISECONDS);
                            }
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            try (Socket client = new Socket()) {
                client.connect(server.localAddress(), 5000);
                client.setSoTimeout(10_000);
                client.shutdownOutput();
                // Not reading at first: the server's socket buffer fills, and its write needs EPOLLOUT.
                Thread.sleep(300);
                InputStream in = client.getInputStream();
                byte[] buf = new byte[64 * 1024];
                long total = 0;
                for (int n; (n = in.read(buf)) >= 0;) {
                    total += n;
                }
                assertEquals(ANSWER, total);
            } finally {
                server.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
