package dev.lbkit.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * For the connector tests: an NIO event loop and a client bootstrap per test, and whatever the test
 * started with {@link #keep}, closed after it (before the event loop).
 */
abstract class ConnectorFixture {
    protected EventLoopGroup group;
    protected Bootstrap bootstrap;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void startEventLoop() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter());
            }
        });
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Closes {@code c} after the test. */
    protected <T extends AutoCloseable> T keep(T c) {
        closeables.add(c);
        return c;
    }
}
