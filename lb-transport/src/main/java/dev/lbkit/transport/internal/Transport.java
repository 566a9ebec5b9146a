package dev.lbkit.transport.internal;

import dev.lbkit.transport.TransportType;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.channels.spi.SelectorProvider;
import java.util.Objects;

/**
 * The Netty transport of lbkit's DNS, L4 and L7 tiers: epoll, io_uring or NIO, with the same behaviour
 * on each. Immutable and thread-safe.
 *
 * <p>Internal to lbkit: not a user API, it may change in any release. Users choose with each balancer's
 * {@code transport(TransportType)} (or {@code nativeTransport(boolean)}) option.
 */
public final class Transport {
    private static final Transport NIO = new Transport(TransportType.NIO);
    private final TransportType type;
    private final ChannelFactory<SocketChannel> ipv4;
    private final ChannelFactory<SocketChannel> ipv6;
    private final ChannelFactory<SocketChannel> dualStack;

    private Transport(TransportType type) {
        this.type = type;
        switch (type) {
            case EPOLL -> {
                ipv4 = () -> new EpollSocketChannel(SocketProtocolFamily.INET);
                ipv6 = () -> new EpollSocketChannel(SocketProtocolFamily.INET6);
                dualStack = EpollSocketChannel::new;
            }
            case IO_URING -> {
                // Netty's io_uring channel opens a socket of the connect address's family itself.
                ipv4 = IoUringSocketChannel::new;
                ipv6 = IoUringSocketChannel::new;
                dualStack = IoUringSocketChannel::new;
            }
            default -> {
                SelectorProvider provider = SelectorProvider.provider();
                ipv4 = () -> new NioSocketChannel(provider, SocketProtocolFamily.INET);
                ipv6 = () -> new NioSocketChannel(provider, SocketProtocolFamily.INET6);
                dualStack = NioSocketChannel::new;
            }
        }
    }

    /** Native epoll if {@code preferNative} and it loads on this machine, NIO otherwise. */
    public static Transport choose(boolean preferNative) {
        return choose(preferNative ? TransportType.AUTO : TransportType.NIO);
    }

    /**
     * The system property that changes what {@link TransportType#AUTO} picks, for an operator who
     * cannot change the code: {@code epoll}, {@code io_uring} or {@code nio} (any case). AUTO then
     * picks that transport when it loads here, and its usual choice otherwise.
     */
    public static final String AUTO_PROPERTY = "dev.lbkit.transport";

    /**
     * The transport {@code type} names; {@link TransportType#AUTO} is epoll when it loads, NIO
     * otherwise, unless {@value #AUTO_PROPERTY} names another transport that loads.
     *
     * @throws IllegalStateException if {@code type} is {@code EPOLL} or {@code IO_URING} and it does not
     *         load here, naming the cause
     */
    public static Transport choose(TransportType type) {
        Objects.requireNonNull(type, "type");
        switch (type) {
            case AUTO:
                TransportType preferred = autoPreference(System.getProperty(AUTO_PROPERTY));
                if (preferred != TransportType.AUTO && TransportType.available().contains(preferred)) {
                    return preferred == TransportType.NIO ? NIO : new Transport(preferred);
                }
                return Epoll.isAvailable() ? new Transport(TransportType.EPOLL) : NIO;
            case EPOLL:
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("transport EPOLL is not available here: "
                            + Epoll.unavailabilityCause(), Epoll.unavailabilityCause());
                }
                return new Transport(TransportType.EPOLL);
            case IO_URING:
                if (!IoUring.isAvailable()) {
                    throw new IllegalStateException("transport IO_URING is not available here: "
                            + IoUring.unavailabilityCause(), IoUring.unavailabilityCause());
                }
                return new Transport(TransportType.IO_URING);
            default:
                return NIO;
        }
    }

    /**
     * What {@value #AUTO_PROPERTY} asks AUTO to pick: {@code AUTO} when unset or blank.
     *
     * @throws IllegalArgumentException naming the value when it names no transport
     */
    static TransportType autoPreference(String value) {
        if (value == null || value.isBlank()) {
            return TransportType.AUTO;
        }
        switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "epoll":
                return TransportType.EPOLL;
            case "io_uring":
                return TransportType.IO_URING;
            case "nio":
                return TransportType.NIO;
            default:
                throw new IllegalArgumentException("-D" + AUTO_PROPERTY + "=" + value
                        + ": not a transport (epoll, io_uring, nio)");
        }
    }

    /** The transport in use: {@code EPOLL}, {@code IO_URING} or {@code NIO}, never {@code AUTO}. */
    public TransportType type() {
        return type;
    }

    /** Whether this is a native (Linux) transport: epoll or io_uring. */
    public boolean isNative() {
        return type != TransportType.NIO;
    }

    /** Whether this is the epoll transport (whose channel options some tiers set). */
    public boolean isEpoll() {
        return type == TransportType.EPOLL;
    }

    /** {@code "epoll"}, {@code "io_uring"} or {@code "nio"}. */
    public String name() {
        return switch (type) {
            case EPOLL -> "epoll";
            case IO_URING -> "io_uring";
            default -> "nio";
        };
    }

    /** A new factory of the I/O handlers of this transport's event loops. */
    public IoHandlerFactory ioHandlerFactory() {
        return switch (type) {
            case EPOLL -> new EpollKeepRegistered();
            case IO_URING -> IoUringIoHandler.newFactory();
            default -> NioIoHandler.newFactory();
        };
    }

    public Class<? extends ServerChannel> serverChannel() {
        return switch (type) {
            case EPOLL -> EpollServerSocketChannel.class;
            case IO_URING -> IoUringServerSocketChannel.class;
            default -> NioServerSocketChannel.class;
        };
    }

    public Class<? extends SocketChannel> socketChannel() {
        return switch (type) {
            case EPOLL -> EpollSocketChannel.class;
            case IO_URING -> IoUringSocketChannel.class;
            default -> NioSocketChannel.class;
        };
    }

    public Class<? extends DatagramChannel> datagramChannel() {
        return switch (type) {
            case EPOLL -> EpollDatagramChannel.class;
            case IO_URING -> IoUringDatagramChannel.class;
            default -> NioDatagramChannel.class;
        };
    }

    /**
     * A factory of client channels whose socket has the family of {@code remote}: an IPv4 socket for an
     * IPv4 address. A default epoll or NIO channel is an IPv6 socket accepting both, which costs a system
     * call per connection (clearing {@code IPV6_V6ONLY}) and an IPv4-mapped address in every address
     * read. For an unresolved address (resolved later by the bootstrap's resolver) a socket of either
     * family.
     */
    public ChannelFactory<SocketChannel> socketChannelFactory(InetSocketAddress remote) {
        Objects.requireNonNull(remote, "remote");
        if (remote.isUnresolved()) {
            return dualStack;
        }
        return remote.getAddress() instanceof Inet4Address ? ipv4 : ipv6;
    }

    /**
     * Sends a FIN on {@code ch} after the bytes the kernel already holds, as
     * {@code DuplexChannel.shutdownOutput()} does, but for epoll and io_uring channels with one
     * {@code shutdown(SHUT_WR)} call: Netty's version builds a {@code ChannelOutputShutdownException}
     * with its stack trace on every call, even with nothing to fail (about 3 % of lbkit's CPU per
     * proxied L4 connection, async-profiler). Must run on the channel's event loop after every write
     * to {@code ch} completed; nothing may be written to {@code ch} after it.
     *
     * <p>The method also turns {@link ChannelOption#ALLOW_HALF_CLOSURE} off on {@code ch}: the peer's
     * FIN then closes {@code ch} (both directions are over) instead of a {@code shutdown(SHUT_RD)} of a
     * socket that is no longer connected, which fails and builds another exception.
     *
     * @return {@code false}, doing nothing, when {@code ch} is not an epoll or io_uring channel
     * @throws IOException when the system call fails
     */
    public static boolean shutdownOutput(Channel ch) throws IOException {
        if (!(ch instanceof UnixChannel)) {
            return false;
        }
        Socket socket = nettySocket(ch);
        if (socket == null) {
            socket = new Socket(((UnixChannel) ch).fd().intValue());
        }
        socket.shutdown(false, true);
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
        return true;
    }

    /**
     * Turns auto-read back on for {@code ch}, which back-pressure paused. If a reset (or another socket
     * error) reached {@code ch} meanwhile and the transport would not report it, fires it through {@code
     * ch}'s pipeline as a {@link SocketException} instead, as a failed read would be. A no-op when {@code
     * ch} already reads on its own. Event-loop only.
     *
     * <p>Why: when reads are paused as the peer's RST arrives, Netty 4.2's io_uring channel reads the
     * bytes still queued but not the error after them, and on resuming waits for a poll event the socket
     * will never raise again, so the channel would never read again. On io_uring this method therefore
     * asks the socket for its pending error first ({@code getsockopt(SO_ERROR)}, one system call per
     * resume, none in the steady state); epoll and NIO report the error themselves once reads resume.
     */
    public static void resumeReads(Channel ch) {
        if (ch.config().isAutoRead()) {
            return;
        }
        int errno = ch instanceof IoUringSocketChannel && ch.isOpen() ? pendingError(ch) : 0;
        if (errno != 0) {
            ch.pipeline().fireExceptionCaught(
                    new SocketException("socket error (errno " + errno + ") while reads were paused"));
            return;
        }
        ch.config().setAutoRead(true);
    }

    /** The socket's pending error, cleared by reading it; 0 when there is none or it cannot be read. */
    private static int pendingError(Channel ch) {
        Socket socket = nettySocket(ch);
        if (socket == null) {
            return 0;
        }
        try {
            return socket.getSoError();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * The channel's own {@link Socket} (Netty keeps it in a non-public field), so that Netty's view of
     * the socket records the shutdown and no second wrapper is built: {@code new Socket(fd)} asks the
     * kernel for the socket's family, one system call more per half-close. Null when this Netty
     * version has no such field.
     */
    private static Socket nettySocket(Channel ch) {
        MethodHandle getter = SOCKET_FIELD.get(ch.getClass());
        if (getter == null) {
            return null;
        }
        try {
            return (Socket) getter.invoke(ch);
        } catch (Throwable e) {
            return null;
        }
    }

    private static final ClassValue<MethodHandle> SOCKET_FIELD = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                try {
                    Field f = c.getDeclaredField("socket");
                    if (Socket.class.isAssignableFrom(f.getType())) {
                        f.setAccessible(true);
                        return MethodHandles.lookup().unreflectGetter(f);
                    }
                } catch (NoSuchFieldException e) {
                    // not declared here: look in the superclass
                } catch (ReflectiveOperationException | RuntimeException e) {
                    return null;
                }
            }
            return null;
        }
    };
}
