package dev.lbkit.transport.internal;

import io.netty.channel.ChannelFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;

/**
 * The Netty transport of lbkit's DNS, L4 and L7 tiers: native epoll when it loads and is wanted, NIO
 * otherwise, with the same behaviour on both. Immutable and thread-safe.
 *
 * <p>Internal to lbkit: not a user API, it may change in any release. Users choose the transport with
 * each balancer's {@code nativeTransport(boolean)} option.
 */
public final class Transport {
    private static final Transport NIO = new Transport(false);
    private final boolean epoll;
    private final ChannelFactory<SocketChannel> ipv4;
    private final ChannelFactory<SocketChannel> ipv6;
    private final ChannelFactory<SocketChannel> dualStack;

    private Transport(boolean epoll) {
        this.epoll = epoll;
        if (epoll) {
            ipv4 = () -> new EpollSocketChannel(SocketProtocolFamily.INET);
            ipv6 = () -> new EpollSocketChannel(SocketProtocolFamily.INET6);
            dualStack = EpollSocketChannel::new;
        } else {
            SelectorProvider provider = SelectorProvider.provider();
            ipv4 = () -> new NioSocketChannel(provider, SocketProtocolFamily.INET);
            ipv6 = () -> new NioSocketChannel(provider, SocketProtocolFamily.INET6);
            dualStack = NioSocketChannel::new;
        }
    }

    /** Native epoll if {@code preferNative} and it loads on this machine, NIO otherwise. */
    public static Transport choose(boolean preferNative) {
        return preferNative && Epoll.isAvailable() ? new Transport(true) : NIO;
    }

    /** Whether this is the native epoll transport. */
    public boolean isNative() {
        return epoll;
    }

    /** {@code "epoll"} or {@code "nio"}. */
    public String name() {
        return epoll ? "epoll" : "nio";
    }

    /** A new factory of the I/O handlers of this transport's event loops. */
    public IoHandlerFactory ioHandlerFactory() {
        return epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    public Class<? extends ServerChannel> serverChannel() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends SocketChannel> socketChannel() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    public Class<? extends DatagramChannel> datagramChannel() {
        return epoll ? EpollDatagramChannel.class : NioDatagramChannel.class;
    }

    /**
     * A factory of client channels whose socket has the family of {@code remote}: an IPv4 socket for an
     * IPv4 address. A default channel is an IPv6 socket accepting both, which costs a system call per
     * connection (clearing {@code IPV6_V6ONLY}) and an IPv4-mapped address in every address read. For an
     * unresolved address (resolved later by the bootstrap's resolver) a socket of either family.
     */
    public ChannelFactory<SocketChannel> socketChannelFactory(InetSocketAddress remote) {
        Objects.requireNonNull(remote, "remote");
        if (remote.isUnresolved()) {
            return dualStack;
        }
        return remote.getAddress() instanceof Inet4Address ? ipv4 : ipv6;
    }
}
