package dev.lbkit.l4.internal;

import dev.lbkit.transport.TransportType;
import dev.lbkit.transport.internal.TcpReads;
import dev.lbkit.transport.internal.Transport;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** lb-l4's I/O threads on the shared {@link Transport}, and the registry of its open channels. */
public final class NettyTransport {
    private final Transport transport;
    private final EventLoopGroup group;
    /** Every open channel, so that closing the balancer closes them all (group shutdown does not). */
    private final ChannelGroup channels = new DefaultChannelGroup("lbkit-l4", GlobalEventExecutor.INSTANCE);
    private final boolean splice;
    private final int bufferSize;
    /** Shared by every TCP channel: it keeps no state of its own (each channel has its own handle). */
    private final RecvByteBufAllocator recvAllocator;
    /** Each loop's pipe pool, made on the loop's first spliced connection. */
    private final Map<EventLoop, Pipes> pipes = new ConcurrentHashMap<>();

    /**
     * {@code zeroCopy}: splice TCP connections when the transport is epoll (ignored otherwise);
     * {@code bufferSize}: the most bytes one TCP read or splice takes.
     */
    public NettyTransport(TransportType type, int threads, boolean zeroCopy, int bufferSize) {
        this.transport = Transport.choose(type);
        this.splice = zeroCopy && transport.isEpoll();
        this.bufferSize = bufferSize;
        this.recvAllocator = TcpReads.allocator(bufferSize);
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("lbkit-l4", true),
                transport.ioHandlerFactory());
    }

    /** Open channels; closed ones leave by themselves. */
    public ChannelGroup channels() {
        return channels;
    }

    public EventLoopGroup group() {
        return group;
    }

    public Class<? extends ServerChannel> serverChannel() {
        return transport.serverChannel();
    }

    /** Channels to {@code remote}, with a socket of its address family. */
    public ChannelFactory<SocketChannel> socketChannelFactory(InetSocketAddress remote) {
        return transport.socketChannelFactory(remote);
    }

    public Class<? extends DatagramChannel> datagramChannel() {
        return transport.datagramChannel();
    }

    public String name() {
        return transport.name();
    }

    /**
     * Whether a datagram socket can report each datagram's destination address (epoll's
     * {@code IP_RECVORIGDSTADDR}; IPv4 datagrams only): Netty's io_uring and NIO channels give the
     * socket's own address.
     */
    public boolean readsDatagramDestinations() {
        return transport.isEpoll();
    }

    /** Whether TCP connections are forwarded with splice(2) (zero-copy asked for, and epoll in use). */
    public boolean splice() {
        return splice;
    }

    /** The most bytes one TCP read or splice takes. */
    public int bufferSize() {
        return bufferSize;
    }

    /** The read-size policy of TCP channels: adaptive, never above {@link #bufferSize}. */
    public RecvByteBufAllocator recvAllocator() {
        return recvAllocator;
    }

    /** The pipe pool of {@code loop}; call on that loop. */
    Pipes pipes(EventLoop loop) {
        return pipes.computeIfAbsent(loop, l -> new Pipes());
    }

    /** Stops the I/O threads (blocks up to about 2 s) and closes the pooled pipes. */
    public void shutdown() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        for (Pipes p : pipes.values()) {
            p.close();
        }
    }
}
