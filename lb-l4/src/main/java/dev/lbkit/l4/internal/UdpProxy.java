package dev.lbkit.l4.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.Lease;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.l4.IpvsConnections;
import dev.lbkit.l4.NodestConn;
import dev.lbkit.l4.Protocol;
import dev.lbkit.l4.ProxyProtocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One UDP virtual service: a datagram socket on the service address, and per flow a socket connected to
 * the real server the scheduler picked for it. A flow is keyed as IPVS keys a connection entry within one
 * service: the client's address and port, and the virtual address and port the datagram was sent to
 * (always the service's own, but for a wildcard service whose datagrams' destinations are read). Replies
 * that arrive on a flow's socket go back to its client from that virtual address. A flow is forgotten
 * after the udp idle timeout; the flow table is bounded.
 *
 * <p>PROXY protocol v2 (DGRAM): with {@code proxyProtocol(V2)} every datagram towards a real server
 * starts with a header naming the client and the virtual address (built once per flow); with
 * {@code acceptProxyProtocol(true)} every datagram must start with one (from a front balancer), which is
 * removed, and whose source is the client for scheduling and for the outgoing header; a datagram
 * without a valid header is dropped and counted. Flows are keyed by the sender, to which replies go.
 *
 * <p>A service bound to a wildcard address on epoll reads each IPv4 datagram's destination address
 * ({@code IP_RECVORIGDSTADDR}): it is the flow's virtual address (outgoing PROXY header, {@code -lnc}),
 * and replies must leave from it, or a client whose socket is connected to it drops them. The kernel
 * picks a wildcard socket's source address by route, so the flow's replies go out through a socket bound
 * to that address and the service's port (next to the wildcard one, both {@code SO_REUSEADDR}), made
 * when a flow first needs it and closed when its last flow ends. While it is bound, the kernel delivers
 * the datagrams sent to that address to it rather than to the wildcard socket; both are read alike.
 * IPv6 datagrams (whose destination Netty does not report), io_uring and NIO keep the wildcard address.
 *
 * <p>The service socket and every flow socket are on one event loop, so the flow table is a plain map,
 * looked up with one key set again for each datagram (no allocation per datagram).
 * Datagrams meeting a full outbound buffer are dropped, as a network would drop them: memory stays bounded.
 */
public final class UdpProxy implements Listener {
    private static final Logger logger = LoggerFactory.getLogger(UdpProxy.class);

    private final ServiceState state;
    private final NettyTransport transport;
    private final Map<FlowKey, Flow> flows = new HashMap<>();
    /** The key each datagram's flow is looked up with; on the service's event loop. */
    private final FlowKey lookup = new FlowKey();
    private final PickContext pick = new PickContext();
    /**
     * Per destination address of a wildcard service, the socket its flows' replies leave from; on the
     * service's event loop.
     */
    private final Map<InetAddress, LocalSocket> locals = new HashMap<>();
    private final Frontend frontend = new Frontend();
    private Channel listener;
    /** Bound to a wildcard address, with datagrams' destinations read. */
    private boolean wildcard;

    public UdpProxy(ServiceState state, NettyTransport transport) {
        this.state = state;
        this.transport = transport;
    }

    /** Binds the service socket; blocks until bound. Returns the bound address. */
    public InetSocketAddress bind() {
        InetSocketAddress address = state.config().address();
        wildcard = address.getAddress().isAnyLocalAddress() && transport.readsDatagramDestinations();
        Bootstrap b = serviceSocket(transport.group());
        if (wildcard) {
            b.option(EpollChannelOption.IP_RECVORIGDSTADDR, true);
        }
        listener = b.bind(address).syncUninterruptibly().channel();
        InetSocketAddress bound = (InetSocketAddress) listener.localAddress();
        state.localAddress(bound);
        return bound;
    }

    /** Closes the service socket and every flow. Blocks until done. */
    @Override
    public void close() {
        if (listener == null) {
            return;
        }
        EventLoop loop = listener.eventLoop();
        // Each destination socket closes with its last flow.
        loop.submit(() -> new ArrayList<>(flows.values()).forEach(Flow::expire)).syncUninterruptibly();
        listener.close().syncUninterruptibly();
    }

    /**
     * Forgets the flows to {@code d} on the service's event loop when {@link ServiceState#nodestAction} is
     * then to expire them, so that each client's next datagram starts a new flow, scheduled among the real
     * servers left; replies that reach a forgotten flow's closed socket are dropped. A drop needs nothing
     * here: each datagram reads its flow's {@code dest.dropped}.
     */
    @Override
    public void applyNodest(ServiceState.Dest d) {
        Channel l = listener;
        if (l == null) {
            return;
        }
        ConnectionTable.later(l.eventLoop(), () -> {
            if (state.nodestAction(d) != NodestConn.EXPIRE) {
                return;
            }
            List<Flow> bound = new ArrayList<>();
            for (Flow f : flows.values()) {
                if (f.dest == d) {
                    bound.add(f);
                }
            }
            // Collected first: expiring a flow removes it from the map.
            bound.forEach(Flow::expire);
        });
    }

    /** A socket that receives the service's datagrams, read by {@link Frontend}. */
    private Bootstrap serviceSocket(EventLoopGroup group) {
        return new Bootstrap()
                .group(group)
                .channel(transport.datagramChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(frontend);
    }

    /**
     * The socket bound to {@code address} and the service's port that a new flow's replies leave from,
     * bound now if none is; the flow counts as one of its users.
     */
    private LocalSocket local(InetAddress address) {
        LocalSocket l = locals.get(address);
        if (l == null) {
            l = new LocalSocket(address);
            locals.put(address, l);
            int port = ((InetSocketAddress) listener.localAddress()).getPort();
            InetSocketAddress at = new InetSocketAddress(address, port);
            // Bound on this loop before any flow socket made after it connects, so before the first reply.
            ChannelFuture f = serviceSocket(listener.eventLoop()).bind(at);
            l.channel = f.channel();
            transport.channels().add(l.channel);
            f.addListener((ChannelFuture done) -> {
                if (!done.isSuccess()) {
                    // Replies then leave through the wildcard socket, from the address the kernel picks.
                    logger.debug("udp service {}: no socket on {}: {}", listener.localAddress(), at,
                            done.cause().toString());
                }
            });
        }
        l.flows++;
        return l;
    }

    /**
     * Adds the flows as {@code ipvsadm -lnc} entries (at most {@code limit} in {@code out}) and returns
     * how many flows there are; read in one task on the service's event loop, which owns the flow table.
     */
    public int entries(int limit, List<IpvsConnections.Entry> out) {
        Channel l = listener;
        if (l == null) {
            return 0;
        }
        long udp = state.timeouts().udp().toNanos();
        int room = limit - out.size();
        List<IpvsConnections.Entry> part = new ArrayList<>();
        Integer total = ConnectionTable.onLoop(l.eventLoop(), () -> {
            long now = System.nanoTime();
            int listed = 0;
            for (Flow f : flows.values()) {
                if (f.onePacket) {
                    continue;
                }
                listed++;
                if (part.size() >= room) {
                    continue;
                }
                part.add(new IpvsConnections.Entry(Protocol.UDP, IpvsConnections.State.UDP,
                        ConnectionTable.remaining(udp, now - f.lastActivity), f.source, f.virtual,
                        f.dest.member().upstream().address()));
            }
            return listed;
        });
        if (total == null) {
            return 0;
        }
        out.addAll(part);
        return total;
    }

    /** A datagram read by the wildcard or an address's socket ({@code via}). */
    private void onDatagram(DatagramPacket packet, Channel via) {
        InetSocketAddress sender = packet.sender();
        ByteBuf content = packet.content();
        boolean accept = state.config().acceptProxyProtocol();
        int headerLength = 0;
        if (accept) {
            headerLength = ProxyHeaderV2.length(content);
            if (headerLength < 0) {
                // A front balancer always sends a header: anything else is not from it.
                state.malformedProxyHeader();
                packet.release();
                return;
            }
        }
        // The wildcard socket's datagrams name their destination; an address's socket is its own.
        InetSocketAddress to = packet.recipient();
        InetSocketAddress virtual = via == listener && wildcard && !to.getAddress().isAnyLocalAddress() ? to
                : (InetSocketAddress) via.localAddress();
        if (state.config().onePacket()) {
            onePacket(packet, sender, virtual, accept, headerLength);
            return;
        }
        Flow flow = flows.get(lookup.set(sender, virtual, null));
        if (flow != null && flow.dest.dropped) {
            // expire_nodest_conn = 0: dropped without renewing the flow's timer, as IPVS restarts none.
            state.nodestDropped();
            packet.release();
            return;
        }
        if (flow == null) {
            InetSocketAddress client = accept ? ProxyHeaderV2.source(content, sender) : sender;
            flow = newFlow(sender, client, virtual, accept ? ProxyHeaderV2.destination(content, virtual) : virtual);
            if (flow == null) {
                packet.release();
                return;
            }
        }
        forward(flow, packet, headerLength);
    }

    /**
     * One-packet scheduling ({@code --ops}): the datagram is scheduled on its own, as a connection entry
     * that ends once it is forwarded (its lease on a persistence template too), and goes out through the
     * reply socket of its sender and real server, opened now if there is none.
     */
    private void onePacket(DatagramPacket packet, InetSocketAddress sender, InetSocketAddress virtual, boolean accept,
            int headerLength) {
        ByteBuf content = packet.content();
        InetSocketAddress client = accept ? ProxyHeaderV2.source(content, sender) : sender;
        ServiceState.Dest d = schedule(client);
        if (d == null) {
            packet.release();
            return;
        }
        Lease lease = pick.lease();
        Flow flow = flows.get(lookup.set(sender, virtual, d));
        if (flow == null) {
            if (flows.size() >= state.config().maxFlows()) {
                state.refuse();
                packet.release();
            } else {
                flow = openFlow(new FlowKey().set(sender, virtual, d), client, virtual,
                        accept ? ProxyHeaderV2.destination(content, virtual) : virtual, d, null, true);
            }
        }
        if (flow != null) {
            forward(flow, packet, headerLength);
        }
        state.unbindInactive(d, lease);
        state.release();
    }

    /** Forwards a client's datagram, less its PROXY header of {@code headerLength} bytes, on {@code flow}. */
    private void forward(Flow flow, DatagramPacket packet, int headerLength) {
        ByteBuf content = packet.content();
        content.skipBytes(headerLength);
        int n = content.readableBytes();
        flow.lastActivity = System.nanoTime();
        state.counters().in(n);
        flow.dest.counters().in(n);
        ByteBuf out = content;
        if (flow.proxyHeader != null) {
            out = listener.alloc().ioBuffer(flow.proxyHeader.length + n);
            out.writeBytes(flow.proxyHeader).writeBytes(content);
            packet.release();
        }
        if (flow.pendingFirst == null && !flow.channel.isActive()) {
            flow.pendingFirst = out;
            return;
        } else if (!flow.channel.isActive() || !flow.channel.isWritable()) {
            out.release();
            return;
        }
        flow.channel.writeAndFlush(out, flow.channel.voidPromise());
    }

    /**
     * A new flow for datagrams from {@code sender} to {@code virtual}, scheduled for {@code client} (the
     * sender, or the client a PROXY header named), or {@code null} when refused.
     */
    private Flow newFlow(InetSocketAddress sender, InetSocketAddress client, InetSocketAddress virtual,
            InetSocketAddress destination) {
        if (flows.size() >= state.config().maxFlows()) {
            state.refuse();
            return null;
        }
        ServiceState.Dest d = schedule(client);
        if (d == null) {
            return null;
        }
        return openFlow(new FlowKey().set(sender, virtual, null), client, virtual, destination, d, pick.lease(), false);
    }

    /**
     * A connection entry scheduled for {@code client}: a flow's first datagram, or each datagram under
     * {@code --ops}. Returns its real server (or the sorry server), bound as inactive and counted, with
     * the template's lease in {@link #pick}; or {@code null}, counted, when the service is at its
     * connection limit or has no destination.
     */
    private ServiceState.Dest schedule(InetSocketAddress client) {
        if (!state.tryAcquire()) {
            return null;
        }
        pick.reset().clientAddress(client.getAddress());
        Member m = state.pool().pick(pick);
        ServiceState.Dest d = m != null ? state.dest(m) : state.sorryDest();
        if (d == null) {
            state.release();
            state.noDestination();
            return null;
        }
        state.bindInactive(d);
        d.counters().conn();
        state.counters().conn();
        return d;
    }

    /**
     * Opens the socket of a flow to {@code d} and adds the flow to the table: a scheduled flow, which
     * holds its connection entry ({@code lease} and all) until it expires, or under {@code --ops} a reply
     * socket ({@code onePacket}), which holds none.
     */
    private Flow openFlow(FlowKey key, InetSocketAddress client, InetSocketAddress virtual,
            InetSocketAddress destination, ServiceState.Dest d, Lease lease, boolean onePacket) {
        byte[] header = state.config().proxyProtocol() == ProxyProtocol.V2
                ? ProxyHeaderV2.encode(client, destination) : null;
        LocalSocket local = wildcard && !virtual.getAddress().isAnyLocalAddress() ? local(virtual.getAddress()) : null;
        Flow flow = new Flow(key, client, virtual, local, d, lease, header, onePacket);
        flows.put(flow.key, flow);
        Bootstrap b = new Bootstrap()
                .group(listener.eventLoop())
                .channel(transport.datagramChannel())
                .handler(flow);
        ChannelFuture cf = b.connect(d.member().upstream().address());
        flow.channel = cf.channel();
        transport.channels().add(cf.channel());
        cf.addListener((ChannelFuture f) -> flow.onConnect(f));
        return flow;
    }

    /** The service socket, and the sockets of a wildcard service's destination addresses. */
    @ChannelHandler.Sharable
    private final class Frontend extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            onDatagram((DatagramPacket) msg, ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            logger.debug("udp service {}: {}", ctx.channel().localAddress(), cause.toString());
        }
    }

    /**
     * A flow's key within the service, IPVS's connection key less protocol (the service's): the sender's
     * address and port, and the local address and port its datagrams were sent to; under {@code --ops},
     * whose datagrams each pick a real server, also that real server ({@code null} otherwise). Mutable so
     * that one instance, set again for each datagram, looks flows up; the table holds keys of their own.
     */
    private static final class FlowKey {
        private InetSocketAddress sender;
        private InetSocketAddress virtual;
        private ServiceState.Dest dest;
        private int hash;

        FlowKey set(InetSocketAddress sender, InetSocketAddress virtual, ServiceState.Dest dest) {
            this.sender = sender;
            this.virtual = virtual;
            this.dest = dest;
            this.hash = 31 * (31 * sender.hashCode() + virtual.hashCode()) + System.identityHashCode(dest);
            return this;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FlowKey k && hash == k.hash && dest == k.dest && sender.equals(k.sender)
                    && virtual.equals(k.virtual);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** A wildcard service's socket on one of its addresses, and how many flows reply through it. */
    private static final class LocalSocket {
        final InetAddress address;
        Channel channel;
        int flows;

        LocalSocket(InetAddress address) {
            this.address = address;
        }
    }

    /** One client flow and its connected socket towards the real server. */
    private final class Flow extends ChannelInboundHandlerAdapter {
        final FlowKey key;
        /** Where datagrams come from and replies go: the client, or the front balancer that sent its header. */
        final InetSocketAddress client;
        /** The client scheduled for and listed: the sender, or the source of the PROXY header. */
        final InetSocketAddress source;
        /** The address the client sent to (a wildcard service's destination address, when read). */
        final InetSocketAddress virtual;
        /** The socket replies leave from, when not the service socket. */
        final LocalSocket local;
        final ServiceState.Dest dest;
        /** The persistence template that placed this flow, held until it expires; or null. */
        final Lease lease;
        /** The PROXY v2 header put before each datagram towards the real server, or {@code null}. */
        final byte[] proxyHeader;
        /** An {@code --ops} reply socket: no connection entry, not listed. */
        final boolean onePacket;
        final Runnable idleCheck = this::checkIdle;
        Channel channel;
        ByteBuf pendingFirst;
        long lastActivity = System.nanoTime();
        ScheduledFuture<?> timer;
        boolean expired;

        Flow(FlowKey key, InetSocketAddress source, InetSocketAddress virtual, LocalSocket local,
                ServiceState.Dest dest, Lease lease, byte[] proxyHeader, boolean onePacket) {
            this.key = key;
            this.client = key.sender;
            this.source = source;
            this.virtual = virtual;
            this.local = local;
            this.dest = dest;
            this.lease = lease;
            this.proxyHeader = proxyHeader;
            this.onePacket = onePacket;
        }

        void onConnect(ChannelFuture f) {
            channel = f.channel();
            if (expired) {
                channel.close();
                return;
            }
            if (!f.isSuccess()) {
                logger.debug("udp flow {} -> {}: {}", client, dest.member().upstream().key(), f.cause().toString());
                expire();
                return;
            }
            if (pendingFirst != null) {
                channel.writeAndFlush(pendingFirst, channel.voidPromise());
                pendingFirst = null;
            }
            timer = channel.eventLoop().schedule(idleCheck, state.timeouts().udp().toNanos(), TimeUnit.NANOSECONDS);
        }

        void checkIdle() {
            long timeout = state.timeouts().udp().toNanos();
            long idle = System.nanoTime() - lastActivity;
            if (idle >= timeout) {
                expire();
            } else {
                timer = channel.eventLoop().schedule(idleCheck, timeout - idle, TimeUnit.NANOSECONDS);
            }
        }

        void expire() {
            if (expired) {
                return;
            }
            expired = true;
            if (timer != null) {
                timer.cancel(false);
            }
            if (pendingFirst != null) {
                pendingFirst.release();
                pendingFirst = null;
            }
            flows.remove(key, this);
            if (local != null && --local.flows == 0) {
                locals.remove(local.address, local);
                local.channel.close();
            }
            if (!onePacket) {
                state.release();
                state.unbindInactive(dest, lease);
            }
            if (channel != null) {
                channel.close();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            DatagramPacket p = (DatagramPacket) msg;
            ByteBuf content = p.content();
            Channel out = local != null && local.channel.isActive() ? local.channel : listener;
            if (expired || !out.isWritable()) {
                p.release();
                return;
            }
            int n = content.readableBytes();
            lastActivity = System.nanoTime();
            state.counters().out(n);
            dest.counters().out(n);
            out.writeAndFlush(new DatagramPacket(content, client), out.voidPromise());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A port-unreachable from the real server ends the flow; the next datagram picks again.
            logger.debug("udp flow {}: {}", client, cause.toString());
            expire();
        }
    }
}
