package dev.lbkit.transport.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * PROXY protocol headers (HAProxy's v1 text and v2 binary format) on TCP connections, as lb-l4 and lb-l7
 * read them from a front balancer and send them to servers. Netty's {@code HAProxyMessageDecoder} and
 * encoder do the parsing and the bytes; this class turns a decoded header into addresses and addresses
 * into a header. Stateless and thread-safe.
 */
public final class ProxyHeaders {
    private static final byte[] V1_UNKNOWN = "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);
    private ProxyHeaders() {}

    /**
     * The client a decoded header names: its source for a PROXY command over TCP4 or TCP6; {@code fallback}
     * (the socket's own peer) for a LOCAL command (v2), {@code UNKNOWN} (v1) or another family, as HAProxy.
     */
    public static InetSocketAddress source(HAProxyMessage m, InetSocketAddress fallback) {
        if (!namesTcpPeers(m) || m.sourceAddress() == null) {
            return fallback;
        }
        // The decoder has validated the literal, so this does not resolve names.
        return new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(m.sourceAddress()), m.sourcePort());
    }

    /** The address the client connected to, as {@link #source} reads it; {@code fallback} likewise. */
    public static InetSocketAddress destination(HAProxyMessage m, InetSocketAddress fallback) {
        if (!namesTcpPeers(m) || m.destinationAddress() == null) {
            return fallback;
        }
        return new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(m.destinationAddress()),
                m.destinationPort());
    }

    private static boolean namesTcpPeers(HAProxyMessage m) {
        HAProxyProxiedProtocol p = m.proxiedProtocol();
        return m.command() == HAProxyCommand.PROXY && (p == HAProxyProxiedProtocol.TCP4 || p == HAProxyProxiedProtocol.TCP6);
    }

    /**
     * The header of a TCP connection from {@code source} to {@code destination}. Mixed families are written
     * as TCP6 (an IPv4 address as {@code ::ffff:a.b.c.d}), since a header has one. The caller owns (and an
     * encoder releases) the message.
     */
    public static HAProxyMessage proxy(HAProxyProtocolVersion version, InetSocketAddress source,
            InetSocketAddress destination) {
        InetAddress src = source.getAddress();
        InetAddress dst = destination.getAddress();
        boolean v6 = src instanceof Inet6Address || dst instanceof Inet6Address;
        return new HAProxyMessage(version, HAProxyCommand.PROXY,
                v6 ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4, text(src, v6), text(dst, v6),
                source.getPort(), destination.getPort());
    }

    /**
     * The v2 header that names no client, the LOCAL command, as HAProxy's health checks send with
     * {@code send-proxy-v2}. The receiver keeps the connection's own addresses. (Netty's encoder cannot
     * write v1's counterpart, {@code PROXY UNKNOWN}; {@link #sender} writes its bytes itself.)
     */
    public static HAProxyMessage local() {
        return new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN,
                null, null, 0, 0);
    }

    private static String text(InetAddress a, boolean v6) {
        if (v6 && !(a instanceof Inet6Address)) {
            return "::ffff:" + a.getHostAddress();
        }
        return a.getHostAddress();
    }

    /**
     * Writes {@code header} to {@code ch} without flushing, encoded below every handler of its pipeline;
     * for a channel whose other outbound handlers pass what they do not know (lb-l4's server side).
     */
    public static void write(Channel ch, HAProxyMessage header) {
        writeFirst(ch.pipeline(), ch, header);
    }

    private static void writeFirst(ChannelPipeline p, ChannelOutboundInvoker via, HAProxyMessage header) {
        p.addFirst(HAProxyMessageEncoder.INSTANCE);
        via.write(header, via.voidPromise());
        p.remove(HAProxyMessageEncoder.INSTANCE);
    }

    /**
     * A handler, to be the first of a new connection's pipeline, that queues a PROXY header as the
     * connection's first bytes when it connects, then leaves: whatever is written later (a request, a TLS
     * handler's handshake) follows the header, as HAProxy's {@code send-proxy} with {@code ssl}. Queued at
     * connect rather than at {@code channelActive}, since a connect listener (which writes the request)
     * runs before the pipeline hears the channel is active.
     *
     * @param source the client, or null for a header naming none ({@link #local()} in v2,
     *               {@code PROXY UNKNOWN} in v1)
     */
    public static ChannelHandler sender(HAProxyProtocolVersion version, InetSocketAddress source,
            InetSocketAddress destination) {
        Objects.requireNonNull(version, "version");
        return new Sender(version, source, destination);
    }

    private static final class Sender extends ChannelOutboundHandlerAdapter {
        private final HAProxyProtocolVersion version;
        private final InetSocketAddress source;
        private final InetSocketAddress destination;

        Sender(HAProxyProtocolVersion version, InetSocketAddress source, InetSocketAddress destination) {
            this.version = version;
            this.source = source;
            this.destination = destination;
        }

        @Override
        public void connect(ChannelHandlerContext ctx, SocketAddress remote, SocketAddress local,
                ChannelPromise promise) {
            // Unflushed until connected; released with the channel if the connect fails.
            if (source == null && version == HAProxyProtocolVersion.V1) {
                ctx.write(Unpooled.wrappedBuffer(V1_UNKNOWN), ctx.voidPromise());
            } else {
                writeFirst(ctx.pipeline(), ctx, source == null ? local() : proxy(version, source, destination));
            }
            ctx.connect(remote, local, promise);
            ctx.pipeline().remove(this);
        }
    }
}
