package dev.lbkit.l4.internal;

import dev.lbkit.transport.TransportType;
import dev.lbkit.transport.internal.Transport;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;

/** lb-l4's I/O threads on the shared {@link Transport}, and the registry of its open channels. */
public final class NettyTransport {
    private final Transport transport;
    private final EventLoopGroup group;
    /** Every open channel, so that closing the balancer closes them all (group shutdown does not). */
    private final ChannelGroup channels = new DefaultChannelGroup("lbkit-l4", GlobalEventExecutor.INSTANCE);

    public NettyTransport(TransportType type, int threads) {
        this.transport = Transport.choose(type);
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
}
