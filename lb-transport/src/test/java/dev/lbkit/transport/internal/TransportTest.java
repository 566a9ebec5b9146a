package dev.lbkit.transport.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.ChildJvm;
import dev.lbkit.transport.TransportType;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TransportTest {

    @Test
    void autoIsEpollWhenItLoadsAndNioOtherwise() {
        Transport auto = Transport.choose(TransportType.AUTO);
        assertEquals(Epoll.isAvailable() ? TransportType.EPOLL : TransportType.NIO, auto.type());
        assertEquals(auto.type(), Transport.choose(true).type());
        assertEquals(TransportType.NIO, Transport.choose(false).type());
        assertNotEquals(TransportType.AUTO, auto.type());
    }

    @ParameterizedTest
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void echoesOverAConnectionOfTheTargetsFamily(TransportType type) throws Exception {
        Transport t = Transport.choose(type);
        assertEquals(type, t.type());
        assertEquals(type != TransportType.NIO, t.isNative());
        assertEquals(type.name().toLowerCase(java.util.Locale.ROOT), t.name());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, t.ioHandlerFactory());
        try {
            Channel server = new ServerBootstrap().group(group).channel(t.serverChannel())
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ctx.writeAndFlush(msg);
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            InetSocketAddress target = (InetSocketAddress) server.localAddress();
            CompletableFuture<String> echoed = new CompletableFuture<>();
            Channel client = new Bootstrap().group(group).channelFactory(t.socketChannelFactory(target))
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            echoed.complete(b.toString(StandardCharsets.US_ASCII));
                            b.release();
                        }
                    }).connect(target).sync().channel();
            assertInstanceOf(t.socketChannel(), client);
            InetSocketAddress local = (InetSocketAddress) client.localAddress();
            // An IPv4 socket: a plain IPv4 address, not an IPv4-mapped IPv6 one.
            assertInstanceOf(Inet4Address.class, local.getAddress());
            assertTrue(local.getAddress().isLoopbackAddress());
            client.writeAndFlush(Unpooled.copiedBuffer("ping", StandardCharsets.US_ASCII));
            assertEquals("ping", echoed.get(5, TimeUnit.SECONDS));
            client.close().sync();
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @ParameterizedTest
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void connectsToIpv6WithAnIpv6Socket(TransportType type) throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        Transport t = Transport.choose(type);
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
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void anExplicitNativeChoiceThatCannotLoadFailsNamingIt() throws Exception {
        try (ChildJvm child = ChildJvm.start(NoNative.class)) {
            child.awaitLine("auto NIO");
            child.awaitLine("EPOLL refused");
            child.awaitLine("IO_URING refused");
        }
    }

    /** Runs with Netty's native transports switched off, as on a machine where they do not load. */
    static final class NoNative {
        private NoNative() {}

        public static void main(String[] args) {
            System.setProperty("io.netty.transport.noNative", "true");
            System.out.println("auto " + Transport.choose(TransportType.AUTO).type());
            for (TransportType type : new TransportType[] {TransportType.EPOLL, TransportType.IO_URING}) {
                try {
                    Transport.choose(type);
                    System.out.println(type + " taken");
                } catch (IllegalStateException e) {
                    System.out.println(e.getMessage());
                    System.out.println(e.getMessage().startsWith("transport " + type + " is not available here")
                            ? type + " refused" : type + " wrong message");
                }
            }
        }
    }

    /**
     * The half-close lb-l4 uses: the peer reads every byte written before it, then EOF; Netty's own
     * socket records it (the channel's field was found, not a second wrapper); the peer's FIN then
     * closes the channel. NIO channels are left to Netty's shutdownOutput.
     */
    @ParameterizedTest
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void shutdownOutputSendsTheBytesThenAFinAndThePeersFinCloses(TransportType type) throws Exception {
        Transport t = Transport.choose(type);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, t.ioHandlerFactory());
        try (java.net.ServerSocket peer = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress target = (InetSocketAddress) peer.getLocalSocketAddress();
            Channel ch = new Bootstrap().group(group).channelFactory(t.socketChannelFactory(target))
                    .option(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .handler(new ChannelInboundHandlerAdapter()).connect(target).sync().channel();
            try (java.net.Socket accepted = peer.accept()) {
                byte[] payload = new byte[256 * 1024];
                java.util.Arrays.fill(payload, (byte) 'x');
                CompletableFuture<Boolean> direct = new CompletableFuture<>();
                ch.writeAndFlush(Unpooled.wrappedBuffer(payload)).addListener(f -> {
                    try {
                        boolean done = f.isSuccess() && Transport.shutdownOutput(ch);
                        if (!done) {
                            ((io.netty.channel.socket.DuplexChannel) ch).shutdownOutput();
                        }
                        direct.complete(done);
                    } catch (java.io.IOException e) {
                        direct.completeExceptionally(e);
                    }
                });
                accepted.setSoTimeout(10_000);
                byte[] read = accepted.getInputStream().readAllBytes();   // ends at the FIN
                assertEquals(payload.length, read.length);
                if (type == TransportType.NIO) {
                    assertEquals(false, direct.get(5, TimeUnit.SECONDS));
                    return;
                }
                assertTrue(direct.get(5, TimeUnit.SECONDS));
                assertTrue(((io.netty.channel.socket.DuplexChannel) ch).isOutputShutdown(),
                        "Netty's own socket must record the shutdown");
                assertTrue(ch.isActive(), "a half-closed channel still reads");
                accepted.shutdownOutput();
                assertTrue(ch.closeFuture().await(5, TimeUnit.SECONDS), "the peer's FIN closes the channel");
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A peer's reset that arrives while reads are paused is reported once they resume, on every
     * transport. The channel has been reading before the pause: that is the case where Netty's io_uring
     * channel would wait for good without {@link Transport#resumeReads}'s own check.
     */
    @ParameterizedTest
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void aResetWhileReadsArePausedIsReportedWhenTheyResume(TransportType type) throws Exception {
        Transport t = Transport.choose(type);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, t.ioHandlerFactory());
        try {
            CompletableFuture<Channel> accepted = new CompletableFuture<>();
            CompletableFuture<Throwable> failed = new CompletableFuture<>();
            AtomicLong read = new AtomicLong();
            Channel server = new ServerBootstrap().group(group).channel(t.serverChannel())
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            accepted.complete(ctx.channel());
                        }

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            read.addAndGet(((ByteBuf) msg).readableBytes());
                            ((ByteBuf) msg).release();
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            failed.complete(cause);
                            ctx.close();
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            InetSocketAddress target = (InetSocketAddress) server.localAddress();
            try (Socket peer = new Socket(target.getAddress(), target.getPort())) {
                Channel ch = accepted.get(5, TimeUnit.SECONDS);
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    byte[] chunk = new byte[16 * 1024];
                    try {
                        for (;;) {
                            peer.getOutputStream().write(chunk);
                        }
                    } catch (IOException e) {
                        // the reset below ends it
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (read.get() < 1024 * 1024 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                ch.eventLoop().submit(() -> ch.config().setAutoRead(false)).get(5, TimeUnit.SECONDS);
                Thread.sleep(200); // the writer fills the socket buffers and blocks
                peer.setSoLinger(true, 0);
                peer.close();
                writer.get(5, TimeUnit.SECONDS);
                Thread.sleep(200);
                // epoll reports an error event even with reads off, and may have closed the channel already.
                ch.eventLoop().submit(() -> Transport.resumeReads(ch)).get(5, TimeUnit.SECONDS);
                Throwable cause = failed.get(5, TimeUnit.SECONDS);
                assertInstanceOf(IOException.class, cause);
                assertTrue(ch.closeFuture().await(5, TimeUnit.SECONDS));
            }
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void thePropertyNamesWhatAutoPicks() {
        assertEquals(TransportType.AUTO, Transport.autoPreference(null));
        assertEquals(TransportType.AUTO, Transport.autoPreference(" "));
        assertEquals(TransportType.EPOLL, Transport.autoPreference("epoll"));
        assertEquals(TransportType.IO_URING, Transport.autoPreference("IO_URING"));
        assertEquals(TransportType.IO_URING, Transport.autoPreference(" io_uring "));
        assertEquals(TransportType.NIO, Transport.autoPreference("Nio"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> Transport.autoPreference("kqueue"));
        assertTrue(e.getMessage().contains("dev.lbkit.transport=kqueue"), e.getMessage());
    }

    @Test
    void autoFollowsThePropertyWhenThatTransportLoads() {
        String before = System.getProperty(Transport.AUTO_PROPERTY);
        try {
            System.setProperty(Transport.AUTO_PROPERTY, "nio");
            assertEquals(TransportType.NIO, Transport.choose(TransportType.AUTO).type());
            // An explicit choice is not changed by it.
            Assumptions.assumeTrue(Epoll.isAvailable());
            assertEquals(TransportType.EPOLL, Transport.choose(TransportType.EPOLL).type());
            System.setProperty(Transport.AUTO_PROPERTY, "io_uring");
            assertEquals(TransportType.available().contains(TransportType.IO_URING)
                    ? TransportType.IO_URING : TransportType.EPOLL, Transport.choose(TransportType.AUTO).type());
            System.setProperty(Transport.AUTO_PROPERTY, "poll");
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> Transport.choose(TransportType.AUTO));
        } finally {
            if (before == null) {
                System.clearProperty(Transport.AUTO_PROPERTY);
            } else {
                System.setProperty(Transport.AUTO_PROPERTY, before);
            }
        }
    }
}
