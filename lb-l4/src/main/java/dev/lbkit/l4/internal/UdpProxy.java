package dev.lbkit.l4.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.l4.IpvsConnections;
import dev.lbkit.l4.Protocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One UDP virtual service: a datagram socket on the service address, and per client flow (client
 * address and port) a socket connected to the real server the scheduler picked for it. Replies that
 * arrive on a flow's socket go back to its client from the service address. A flow is forgotten after
 * the udp idle timeout; the flow table is bounded.
 *
 * <p>The service socket and every flow socket are on one event loop, so the flow table is a plain map.
 * Datagrams meeting a full outbound buffer are dropped, as a network would drop them: memory stays bounded.
 */
public final class UdpProxy implements AutoCloseable {
    private static final Logger logger = LoggerFactory.getLogger(UdpProxy.class);

    private final ServiceState state;
    private final NettyTransport transport;
    private final Map<InetSocketAddress, Flow> flows = new HashMap<>();
    private final PickContext pick = new PickContext();
    private Channel listener;

    public UdpProxy(ServiceState state, NettyTransport transport) {
        this.state = state;
        this.transport = transport;
    }

    /** Binds the service socket; blocks until bound. Returns the bound address. */
    public InetSocketAddress bind() {
        Bootstrap b = new Bootstrap()
                .group(transport.group())
                .channel(transport.datagramChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new Frontend());
        listener = b.bind(state.config().address()).syncUninterruptibly().channel();
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
        loop.submit(() -> new ArrayList<>(flows.values()).forEach(Flow::expire)).syncUninterruptibly();
        listener.close().syncUninterruptibly();
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
        InetSocketAddress virtual = (InetSocketAddress) l.localAddress();
        long udp = state.timeouts().udp().toNanos();
        int room = limit - out.size();
        List<IpvsConnections.Entry> part = new ArrayList<>();
        Integer total = ConnectionTable.onLoop(l.eventLoop(), () -> {
            long now = System.nanoTime();
            for (Flow f : flows.values()) {
                if (part.size() >= room) {
                    break;
                }
                part.add(new IpvsConnections.Entry(Protocol.UDP, IpvsConnections.State.UDP,
                        ConnectionTable.remaining(udp, now - f.lastActivity), f.client, virtual,
                        f.dest.member().upstream().address()));
            }
            return flows.size();
        });
        if (total == null) {
            return 0;
        }
        out.addAll(part);
        return total;
    }

    private void onDatagram(DatagramPacket packet) {
        InetSocketAddress sender = packet.sender();
        Flow flow = flows.get(sender);
        if (flow == null) {
            flow = newFlow(sender);
            if (flow == null) {
                packet.release();
                return;
            }
        }
        ByteBuf content = packet.content();
        int n = content.readableBytes();
        flow.lastActivity = System.nanoTime();
        state.counters().in(n);
        flow.dest.counters().in(n);
        if (flow.pendingFirst == null && !flow.channel.isActive()) {
            flow.pendingFirst = content;
            return;
        } else if (!flow.channel.isActive() || !flow.channel.isWritable()) {
            packet.release();
            return;
        }
        flow.channel.writeAndFlush(content, flow.channel.voidPromise());
    }

    private Flow newFlow(InetSocketAddress sender) {
        if (flows.size() >= state.config().maxFlows()) {
            state.refuse();
            return null;
        }
        if (!state.tryAcquire()) {
            return null;
        }
        pick.reset().clientAddress(sender.getAddress());
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
        Flow flow = new Flow(sender, d);
        flows.put(sender, flow);
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

    /** The service socket. */
    private final class Frontend extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            onDatagram((DatagramPacket) msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            logger.debug("udp service {}: {}", ctx.channel().localAddress(), cause.toString());
        }
    }

    /** One client flow and its connected socket towards the real server. */
    private final class Flow extends ChannelInboundHandlerAdapter {
        final InetSocketAddress client;
        final ServiceState.Dest dest;
        final Runnable idleCheck = this::checkIdle;
        Channel channel;
        ByteBuf pendingFirst;
        long lastActivity = System.nanoTime();
        ScheduledFuture<?> timer;
        boolean expired;

        Flow(InetSocketAddress client, ServiceState.Dest dest) {
            this.client = client;
            this.dest = dest;
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
            flows.remove(client, this);
            state.release();
            state.unbindInactive(dest);
            if (channel != null) {
                channel.close();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            DatagramPacket p = (DatagramPacket) msg;
            ByteBuf content = p.content();
            if (expired || !listener.isWritable()) {
                p.release();
                return;
            }
            int n = content.readableBytes();
            lastActivity = System.nanoTime();
            state.counters().out(n);
            dest.counters().out(n);
            listener.writeAndFlush(new DatagramPacket(content, client), listener.voidPromise());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // A port-unreachable from the real server ends the flow; the next datagram picks again.
            logger.debug("udp flow {}: {}", client, cause.toString());
            expire();
        }
    }
}
