package dev.lbkit.l4.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import java.net.InetSocketAddress;

/**
 * The listener of one TCP virtual service: accepts clients with auto-read off and half-closure allowed,
 * and gives each a {@link TcpConnection}. The whole path of a byte is assembled here and there.
 */
public final class TcpProxy implements Listener {
    private final ServiceState state;
    private final NettyTransport transport;
    private Channel listener;

    public TcpProxy(ServiceState state, NettyTransport transport) {
        this.state = state;
        this.transport = transport;
    }

    /** Binds the listener; blocks until bound. Returns the bound address. */
    public InetSocketAddress bind() {
        ServerBootstrap b = new ServerBootstrap()
                .group(transport.group())
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                // Nothing is read from a client before a real server is connected: a failed connect can
                // move it to the next server without losing a byte.
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, transport.recvAllocator())
                // TCP_NODELAY is Netty's default: setting it again would cost a system call per connection.
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        transport.channels().add(ch);
                        ChannelPipeline p = ch.pipeline();
                        if (state.config().acceptProxyProtocol()) {
                            p.addLast(new HAProxyMessageDecoder());
                        }
                        p.addLast(new TcpConnection(state, transport, ch).frontend());
                    }
                });
        listener = b.bind(state.config().address()).syncUninterruptibly().channel();
        InetSocketAddress bound = (InetSocketAddress) listener.localAddress();
        state.localAddress(bound);
        return bound;
    }

    @Override
    public void applyNodest(ServiceState.Dest d) {
        state.connectionTable().applyNodest(state, d);
    }

    /** Stops accepting; established connections go on. Blocks until the listener is closed. */
    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
    }
}
