package dev.lbkit.transport.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TransportTest {

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void connectsWithASocketOfTheTargetsFamily(boolean preferNative) throws Exception {
        Transport t = Transport.choose(preferNative);
        assertEquals(preferNative && Epoll.isAvailable(), t.isNative());
        assertEquals(t.isNative() ? "epoll" : "nio", t.name());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, t.ioHandlerFactory());
        try {
            Channel server = new ServerBootstrap().group(group).channel(t.serverChannel())
                    .childHandler(new ChannelInboundHandlerAdapter())
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            InetSocketAddress target = (InetSocketAddress) server.localAddress();
            Channel client = new Bootstrap().group(group).channelFactory(t.socketChannelFactory(target))
                    .handler(new ChannelInboundHandlerAdapter()).connect(target).sync().channel();
            assertInstanceOf(t.socketChannel(), client);
            InetSocketAddress local = (InetSocketAddress) client.localAddress();
            // An IPv4 socket: a plain IPv4 address, not an IPv4-mapped IPv6 one.
            assertInstanceOf(Inet4Address.class, local.getAddress());
            assertTrue(local.getAddress().isLoopbackAddress());
            client.close().sync();
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void connectsToIpv6WithAnIpv6Socket(boolean preferNative) throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        Transport t = Transport.choose(preferNative);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, t.ioHandlerFactory());
        try {
            Channel server;
            try {
                server = new ServerBootstrap().group(group).channel(t.serverChannel())
                        .childHandler(new ChannelInboundHandlerAdapter()).bind(new InetSocketAddress(v6, 0)).sync().channel();
            } catch (Exception e) {
                Assumptions.abort("no IPv6 loopback here: " + e);
                return;
            }
            InetSocketAddress target = (InetSocketAddress) server.localAddress();
            Channel client = new Bootstrap().group(group).channelFactory(t.socketChannelFactory(target))
                    .handler(new ChannelInboundHandlerAdapter()).connect(target).sync().channel();
            assertInstanceOf(Inet6Address.class, ((InetSocketAddress) client.localAddress()).getAddress());
            client.close().sync();
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }
}
