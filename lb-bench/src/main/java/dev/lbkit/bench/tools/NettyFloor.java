package dev.lbkit.bench.tools;

import dev.lbkit.transport.TransportType;
import dev.lbkit.transport.internal.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A measuring stick, not a product: the least work a Netty proxy does for the benchmark's traffic, on one
 * event loop and the same transport as lbkit's contender, so that a run can tell how much of lbkit's CPU
 * per operation is Netty's channels and the kernel (this floor) and how much is lbkit's own.
 *
 * <ul>
 *   <li>{@code l7 LISTEN UPSTREAM}: for each client connection one upstream connection, opened on accept
 *       and kept for the client's life (what a warm keep-alive pool gives); a request head is copied with
 *       {@code X-high-load-test: 123} added; a response is passed on as read, its end found from its
 *       {@code Content-Length}. No parsing beyond that: requests must have no body, responses a
 *       Content-Length, heads at most 64 KiB; anything else closes the connection.</li>
 *   <li>{@code l4 LISTEN REAL}: a TCP forwarder: connect on accept, copy both ways, pass each FIN on,
 *       close both when both directions are done.</li>
 * </ul>
 *
 * <p>No timeouts, limits, health, statistics or scheduling: it shows a lower bound, not a fair peer. The
 * transport is {@code -Dlbkit.transport=...} as for {@link LbkitContender} (AUTO: epoll when it loads).
 * Prints one line once listening, runs until SIGTERM; exits 2 with a usage line on bad arguments.
 */
public final class NettyFloor {
    private static final String USAGE = "usage: NettyFloor l7 LISTEN UPSTREAM | l4 LISTEN REAL   (HOST:PORT addresses)";
    private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};
    private static final ByteBuf HEAD_END_BUF = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(HEAD_END));
    private static final byte[] EXTRA = "X-high-load-test: 123\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTENT_LENGTH = "\r\ncontent-length:".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_HEAD = 64 * 1024;

    private NettyFloor() {
    }

    /**
     * Entry point.
     *
     * @param args see the class description
     * @throws InterruptedException if interrupted while serving
     */
    public static void main(String[] args) throws InterruptedException {
        LbkitContender.serve("NettyFloor", USAGE, args, NettyFloor::start);
    }

    /** The Netty classes of one transport. */
    private record Netty(String name, IoHandlerFactory factory, Class<? extends ServerChannel> server,
            Class<? extends Channel> client) {
        static Netty of(TransportType t) {
            return switch (t) {
                case IO_URING -> new Netty("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                        IoUringSocketChannel.class);
                case NIO -> new Netty("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
                case EPOLL -> epoll();
                default -> Epoll.isAvailable() ? epoll()
                        : new Netty("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
            };
        }

        private static Netty epoll() {
            return new Netty("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class);
        }
    }

    /** Starts the floor args describe, adding what must be closed to parts. */
    static LbkitContender.Started start(String[] args, List<AutoCloseable> parts) {
        if (args.length == 0) {
            throw new IllegalArgumentException("no tier given");
        }
        if (!args[0].equals("l7") && !args[0].equals("l4")) {
            throw new IllegalArgumentException("unknown tier '" + args[0] + "' (l7, l4)");
        }
        if (args.length != 3) {
            throw new IllegalArgumentException(args[0] + " takes 2 arguments, got " + (args.length - 1));
        }
        boolean http = args[0].equals("l7");
        InetSocketAddress listen = LbkitContender.address(args[1]);
        InetSocketAddress target = LbkitContender.address(args[2]);
        Netty netty = Netty.of(LbkitContender.TRANSPORT);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, netty.factory());
        parts.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
        Channel bound = new ServerBootstrap().group(group).channel(netty.server())
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, !http)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(http ? new HttpFront(target, netty) : new TcpPair(target, netty));
                    }
                }).bind(listen).syncUninterruptibly().channel();
        parts.add(() -> bound.close().syncUninterruptibly());
        InetSocketAddress address = (InetSocketAddress) bound.localAddress();
        return new LbkitContender.Started("netty floor " + args[0] + " listening on " + address + ", "
                + (http ? "upstream " : "real server ") + target + ", 1 event loop on " + netty.name(), address);
    }

    /**
     * Opens the connection to {@code target} for {@code client}, reading the client only once it is up
     * (epoll still reads bytes that come with a FIN meanwhile: the handlers keep them for then).
     */
    private static void connect(Channel client, InetSocketAddress target, Netty netty, ChannelHandler handler,
            boolean halfClose, java.util.function.Consumer<Channel> onConnected) {
        new Bootstrap().group(client.eventLoop()).channel(netty.client())
                .option(ChannelOption.ALLOW_HALF_CLOSURE, halfClose)
                .handler(handler)
                .connect(target).addListener((ChannelFuture f) -> {
                    if (!f.isSuccess() || !client.isActive()) {
                        f.channel().close();
                        client.close();
                        return;
                    }
                    onConnected.accept(f.channel());
                    // After a FIN, epoll has dropped the socket's read interest: asking to read again fails.
                    if (!((DuplexChannel) client).isInputShutdown()) {
                        client.config().setAutoRead(true);
                    }
                });
    }

    /** The client side of the HTTP floor: adds the seed's header to each request head. */
    private static final class HttpFront extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress target;
        private final Netty netty;
        private Channel upstream;
        private ByteBuf pending;

        HttpFront(InetSocketAddress target, Netty netty) {
            this.target = target;
            this.netty = netty;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            connect(client, target, netty, new HttpBack(client), false, ch -> {
                upstream = ch;
                if (pending != null) {
                    ByteBuf early = pending;
                    pending = null;
                    channelRead(ctx, early);
                }
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            if (pending != null) {
                pending.writeBytes(in);
                in.release();
                in = pending;
                pending = null;
            }
            if (upstream == null) {
                pending = in;
                return;
            }
            int end = headEnd(in);
            if (end < 0) {
                if (in.readableBytes() > MAX_HEAD) {
                    in.release();
                    ctx.close();
                    return;
                }
                pending = ctx.alloc().buffer(Math.max(1024, in.readableBytes() * 2));
                pending.writeBytes(in);
                in.release();
                return;
            }
            int lastCrlf = end + 2;
            ByteBuf out = ctx.alloc().ioBuffer(in.readableBytes() + EXTRA.length);
            out.writeBytes(in, in.readerIndex(), lastCrlf - in.readerIndex());
            out.writeBytes(EXTRA);
            out.writeBytes(in, lastCrlf, in.writerIndex() - lastCrlf);
            in.release();
            upstream.writeAndFlush(out, upstream.voidPromise());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (pending != null) {
                pending.release();
                pending = null;
            }
            if (upstream != null) {
                upstream.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The upstream side of the HTTP floor: passes responses on, finding each one's end. */
    private static final class HttpBack extends ChannelInboundHandlerAdapter {
        private final Channel client;
        /** Body bytes still to come of the current response; -1 between responses. */
        private long remaining = -1;

        HttpBack(Channel client) {
            this.client = client;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            if (remaining < 0) {
                int end = headEnd(in);
                long length = end < 0 ? -1 : contentLength(in, end);
                if (length < 0) {
                    in.release();
                    ctx.close();
                    return;
                }
                remaining = length - (in.writerIndex() - (end + HEAD_END.length));
            } else {
                remaining -= in.readableBytes();
            }
            if (remaining == 0) {
                remaining = -1;
            } else if (remaining < 0) {
                // More than one response in a read: not this floor's traffic.
                in.release();
                ctx.close();
                return;
            }
            client.write(in, client.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            client.flush();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            client.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Both directions of one forwarded TCP connection. */
    private static final class TcpPair extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress target;
        private final Netty netty;
        private Channel client;
        private Channel server;
        private boolean clientEof;
        private boolean serverEof;
        /** Client bytes read before the server connection was up. */
        private ByteBuf early;

        TcpPair(InetSocketAddress target, Netty netty) {
            this.target = target;
            this.netty = netty;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            client = ctx.channel();
            connect(client, target, netty, new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext c, Object msg) {
                    client.write(msg, client.voidPromise());
                }

                @Override
                public void channelReadComplete(ChannelHandlerContext c) {
                    client.flush();
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext c, Object evt) {
                    if (evt instanceof ChannelInputShutdownEvent) {
                        serverEof = true;
                        finished(client);
                    }
                }

                @Override
                public void channelInactive(ChannelHandlerContext c) {
                    client.close();
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
                    c.close();
                }
            }, true, ch -> {
                server = ch;
                if (early != null) {
                    server.write(early, server.voidPromise());
                    early = null;
                }
                server.flush();
                if (clientEof) {
                    finished(server);
                }
            });
        }

        /** The direction towards {@code to} has ended: a FIN after its bytes, or close both when both ended. */
        private void finished(Channel to) {
            if (clientEof && serverEof) {
                client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                server.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            // As lb-l4 does: one shutdown(SHUT_WR) on native channels, without Netty's exception per call.
            to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFuture f) -> {
                try {
                    if (!Transport.shutdownOutput(to)) {
                        ((DuplexChannel) to).shutdownOutput();
                    }
                } catch (IOException e) {
                    to.close();
                }
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (server == null) {
                ByteBuf in = (ByteBuf) msg;
                if (early == null) {
                    early = ctx.alloc().buffer(in.readableBytes());
                }
                early.writeBytes(in);
                in.release();
                return;
            }
            server.write(msg, server.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (server != null) {
                server.flush();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                clientEof = true;
                if (server != null) {
                    finished(server);
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (early != null) {
                early.release();
                early = null;
            }
            if (server != null) {
                server.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Where the head's blank line starts in {@code buf} (an absolute index), or -1. */
    private static int headEnd(ByteBuf buf) {
        return ByteBufUtil.indexOf(HEAD_END_BUF, buf);
    }

    /** The Content-Length of the head ending at {@code headEnd} (case-insensitive name), or -1. */
    private static long contentLength(ByteBuf buf, int headEnd) {
        int from = buf.readerIndex();
        for (int i = from; i + CONTENT_LENGTH.length <= headEnd; i++) {
            boolean match = true;
            for (int j = 0; j < CONTENT_LENGTH.length; j++) {
                byte b = buf.getByte(i + j);
                if (b >= 'A' && b <= 'Z') {
                    b += 'a' - 'A';
                }
                if (b != CONTENT_LENGTH[j]) {
                    match = false;
                    break;
                }
            }
            if (match) {
                long n = 0;
                int k = i + CONTENT_LENGTH.length;
                while (k < headEnd && buf.getByte(k) == ' ') {
                    k++;
                }
                int digits = 0;
                for (; k < headEnd; k++, digits++) {
                    byte b = buf.getByte(k);
                    if (b < '0' || b > '9') {
                        break;
                    }
                    n = n * 10 + (b - '0');
                }
                return digits == 0 || digits > 15 ? -1 : n;
            }
        }
        return -1;
    }
}
