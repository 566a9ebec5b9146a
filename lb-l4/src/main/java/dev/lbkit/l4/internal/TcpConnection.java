package dev.lbkit.l4.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.health.Outcome;
import dev.lbkit.api.scheduler.Lease;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.l4.IpvsConnections;
import dev.lbkit.l4.Protocol;
import dev.lbkit.l4.ProxyProtocol;
import dev.lbkit.l4.VirtualService;
import dev.lbkit.transport.internal.ProxyHeaders;
import dev.lbkit.transport.internal.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.IoEventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and its real-server connection, forwarded byte for byte as Netty's
 * HexDumpProxy does, with IPVS's accounting. Everything runs on the client channel's event loop (the
 * real-server channel is registered on the same loop), so the fields need no synchronisation.
 *
 * <p>Back-pressure: when one side's outbound buffer passes its high water mark, the other side stops
 * reading until it drains, so a slow reader holds at most one water mark of memory per direction.
 * Half-close: a FIN from one side becomes a shutdown of output towards the other; the pair is closed
 * when both directions are done. Reset: an I/O error on one side closes the other with SO_LINGER 0, so
 * that it sees a reset too.
 *
 * <p>Zero-copy ({@link NettyTransport#splice()}): once the real server is connected and Netty has
 * written the PROXY header and any early bytes, both channels leave Netty's loop and a
 * {@link SplicePump} forwards with splice(2), with the same half-close, reset, back-pressure, timeout
 * and counting rules; Netty's channels are then only closed.
 */
final class TcpConnection {
    private static final Logger logger = LoggerFactory.getLogger(TcpConnection.class);
    /**
     * Bytes a client may send after its PROXY header before a real server is connected: the rest of the
     * one read that completed the header (reads are asked for only until it is whole).
     */
    private static final int MAX_PENDING = 64 * 1024;
    private static final int NONE = 0;
    private static final int ACTIVE = 1;
    private static final int INACTIVE = 2;

    private final ServiceState state;
    private final NettyTransport transport;
    private final VirtualService config;
    private final Channel client;
    private final boolean zeroCopy;
    private final Frontend frontend = new Frontend();
    private final Runnable idleCheck = this::checkIdle;
    private Channel server;
    /** The real-server channel being connected, until its connect completes; or null. */
    private Channel attempt;
    private PickContext pick;
    private ServiceState.Dest dest;
    /** The persistence template that placed this connection on {@link #dest}, held while the entry lasts; or null. */
    private Lease lease;
    private int destState = NONE;
    private InetSocketAddress clientAddress;
    private InetSocketAddress destinationAddress;
    private ByteBuf pending;
    /** Bound of {@link #pending} beyond {@link #MAX_PENDING}, read from the socket when first needed. */
    private int pendingLimit;
    /** Zero-copy: bytes Netty read after the connect, before the pump took over, per direction. */
    private ByteBuf upPrefix;
    private ByteBuf downPrefix;
    /** Zero-copy: the channels are leaving (or have left) Netty's loop; only closing goes through Netty. */
    private boolean handedOver;
    private SplicePump pump;
    private boolean acquired;
    private boolean connecting;
    private boolean established;
    private boolean triedSorry;
    private boolean clientEof;
    private boolean serverEof;
    private boolean ended;
    /** Expired by {@code expire_nodest_conn}: its entry leaves the table at the close, without tcpfin. */
    private boolean expiredNodest;
    /**
     * {@code expire_nodest_conn = 0}: nothing the client sends is forwarded; reads from it are off, and
     * what a read in flight or a FIN's drain brings anyway waits in {@link #pending} (copying).
     */
    private boolean clientDropped;
    /** The client's FIN came while {@link #clientDropped}: passed on when the drop ends. */
    private boolean finDropped;
    private long lastActivity;
    private ScheduledFuture<?> idleTimer;
    /** This connection's part of the service's connection table, and its links there. */
    private ConnectionTable.Loop table;
    TcpConnection tablePrev;
    TcpConnection tableNext;

    TcpConnection(ServiceState state, NettyTransport transport, Channel client) {
        this.state = state;
        this.transport = transport;
        this.config = state.config();
        this.client = client;
        this.zeroCopy = transport.splice();
    }

    ChannelInboundHandlerAdapter frontend() {
        return frontend;
    }

    private void start() {
        if (!state.tryAcquire()) {
            // Over the service limit: refused (and counted) before anything is read or connected.
            client.close();
            return;
        }
        acquired = true;
        table = state.connectionTable().loop(client.eventLoop());
        table.add(this);
        client.closeFuture().addListener(f -> onChannelClosed());
        lastActivity = System.nanoTime();
        destinationAddress = (InetSocketAddress) client.localAddress();
        if (config.acceptProxyProtocol()) {
            // A client that never sends its header must not hold a slot: it gets the connect timeout, and
            // counts as a malformed header (VirtualService.acceptProxyProtocol).
            idleTimer = client.eventLoop().schedule(() -> {
                if (clientAddress == null) {
                    state.malformedProxyHeader();
                    client.close();
                }
            }, config.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
            client.read();
        } else {
            clientAddress = (InetSocketAddress) client.remoteAddress();
            connectNext();
        }
    }

    private void connectNext() {
        if (ended || !client.isActive()) {
            return;
        }
        if (pick == null) {
            pick = new PickContext().clientAddress(clientAddress.getAddress());
        }
        Member m = state.pool().pick(pick);
        ServiceState.Dest d;
        if (m != null) {
            pick.addTried(m);
            d = state.dest(m);
            lease = pick.lease();
        } else if (state.sorryDest() != null && !triedSorry) {
            triedSorry = true;
            d = state.sorryDest();
        } else {
            state.noDestination();
            client.close();
            return;
        }
        dest = d;
        // Inactive until the real server answers, as IPVS counts SYN_RECV.
        state.bindInactive(d);
        destState = INACTIVE;
        connect(d.member().upstream().address(), d);
    }

    private void connect(InetSocketAddress address, ServiceState.Dest d) {
        connecting = true;
        Bootstrap b = new Bootstrap()
                .group(client.eventLoop())
                .channelFactory(transport.socketChannelFactory(address))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.RECVBUF_ALLOCATOR, transport.recvAllocator())
                .handler(new Backend());
        ChannelFuture cf = b.connect(address);
        attempt = cf.channel();
        transport.channels().add(cf.channel());
        cf.addListener((ChannelFuture f) -> onConnect(f, d));
    }

    private void onConnect(ChannelFuture f, ServiceState.Dest d) {
        connecting = false;
        attempt = null;
        if (ended || !client.isActive()) {
            f.channel().close();
            if (d != null) {
                state.unbindInactive(d, lease);
            }
            lease = null;
            dest = null;
            destState = NONE;
            return;
        }
        if (!f.isSuccess()) {
            logger.debug("connect to {} failed: {}", f.channel().remoteAddress(), f.cause().toString());
            if (d != null) {
                d.member().pool().report(d.member(), Outcome.CONNECT_FAILURE);
                state.unbindInactive(d, lease);
                lease = null;
                dest = null;
                destState = NONE;
            }
            if (config.failover()) {
                connectNext();
            } else {
                client.close();
            }
            return;
        }
        server = f.channel();
        established = true;
        if (d != null) {
            d.member().pool().report(d.member(), Outcome.SUCCESS);
            d.counters().conn();
            state.toActive(d);
            destState = ACTIVE;
        }
        state.counters().conn();
        pick = null;
        server.closeFuture().addListener(x -> onChannelClosed());
        writeProxyHeader();
        if (pending != null) {
            ByteBuf p = pending;
            pending = null;
            countIn(p.readableBytes());
            server.write(p, server.voidPromise());
        }
        server.flush();
        lastActivity = System.nanoTime();
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        if (clientEof) {
            // The client's FIN came while connecting (epoll sees RDHUP even with reads off).
            onFin();
        } else {
            idleTimer = client.eventLoop().schedule(idleCheck, state.timeouts().tcp().toNanos(), TimeUnit.NANOSECONDS);
        }
        if (zeroCopy) {
            // Netty's writes (PROXY header, early bytes) reach the real server before the first spliced byte.
            server.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFuture w) -> {
                if (w.isSuccess()) {
                    handOver();
                } else {
                    closeBoth();
                }
            });
            return;
        }
        if (clientEof) {
            shutdownOutput(server);
        } else {
            client.config().setAutoRead(!clientDropped);
        }
        server.config().setAutoRead(true);
    }

    /**
     * Takes both channels off Netty's loop and starts the pump. Until the deregistrations have run,
     * Netty may still read (a FIN event reads even with auto-read off): such bytes and FINs are kept in
     * {@link #upPrefix}/{@link #downPrefix} and the EOF flags, and the pump starts with them.
     */
    private void handOver() {
        if (ended || !client.isOpen() || !server.isOpen()) {
            return;
        }
        handedOver = true;
        ChannelFuture c = client.deregister();
        server.deregister().addListener((ChannelFuture s) -> {
            if (ended || !client.isOpen() || !server.isOpen()) {
                return;
            }
            if (!s.isSuccess() || !c.isSuccess()) {
                logger.debug("cannot hand {} over to splice", client, s.isSuccess() ? c.cause() : s.cause());
                closeBoth();
                return;
            }
            pump = new SplicePump(this, transport.pipes(client.eventLoop()), client.alloc(), transport.bufferSize(),
                    (UnixChannel) client, (UnixChannel) server, upPrefix, downPrefix, clientEof, serverEof);
            upPrefix = null;
            downPrefix = null;
            if (clientDropped) {
                // Before start: a release would pump sockets not registered yet.
                pump.holdClient(true);
            }
            pump.start((IoEventLoop) client.eventLoop());
        });
    }

    /** A splice moved {@code bytes} in from the client ({@code fromClient}) or the real server. */
    void spliceRead(boolean fromClient, int bytes) {
        lastActivity = System.nanoTime();
        if (fromClient) {
            countIn(bytes);
        } else {
            countOut(bytes);
        }
    }

    /** A splice wrote bytes out. */
    void spliceActivity() {
        lastActivity = System.nanoTime();
    }

    /** The client's ({@code fromClient}) or the real server's FIN: every byte before it has been taken. */
    void spliceEof(boolean fromClient) {
        if (fromClient) {
            clientEof = true;
        } else {
            serverEof = true;
        }
        onFin();
    }

    /** Both directions ended and were delivered. */
    void spliceDone() {
        closeBoth();
    }

    /** A socket error or reset while splicing: both sides are reset, as on the copying path. */
    void spliceFailed(Throwable cause) {
        logger.debug("{}: {}", client, cause.toString());
        resetBoth();
    }

    /** Whether this connection's entry is bound to {@code d} (its real server, or the one being connected). */
    boolean boundTo(ServiceState.Dest d) {
        return dest == d;
    }

    /**
     * IPVS's {@code expire_nodest_conn}: the real server is no longer a destination, so the entry expires
     * now. Both sides are reset (the client as IPVS's director answers its next segment, the real server
     * so that it lets go), and the entry leaves the table at once. A connect still pending is closed too:
     * its failure ({@link #onConnect}, on this loop) unbinds the entry and releases its lease at once
     * rather than at the connect timeout. Runs on the loop.
     */
    void expireNodest() {
        if (ended) {
            return;
        }
        logger.debug("{}: real server {} no longer a destination, expiring", client, dest.member().upstream().key());
        expiredNodest = true;
        resetBoth();
        if (attempt != null) {
            attempt.close();
        }
    }

    /**
     * IPVS's {@code expire_nodest_conn = 0} ({@code drop}) or its end (the real server added back): stop
     * or resume taking what the client sends, so that it waits in the kernel as dropped segments wait for
     * their retransmission; what the real server sends still reaches the client. Runs on the loop.
     */
    void dropFromClient(boolean drop) {
        if (ended || clientDropped == drop) {
            return;
        }
        logger.debug("{}: {} what the client sends", client, drop ? "dropping" : "forwarding again");
        clientDropped = drop;
        if (pump != null) {
            pump.holdClient(drop);
        } else if (drop) {
            if (!zeroCopy) {
                client.config().setAutoRead(false);
            }
        } else if (established && !zeroCopy) {
            if (pending != null) {
                ByteBuf p = pending;
                pending = null;
                countIn(p.readableBytes());
                server.writeAndFlush(p, server.voidPromise());
            }
            if (finDropped) {
                finDropped = false;
                clientEof = true;
                onFin();
                finished(server);
            } else if (server.isWritable() && !clientEof) {
                Transport.resumeReads(client);
            }
        }
    }

    private void resetBoth() {
        stopPump();
        // Both get SO_LINGER 0 before either closes: closing one closes the other through onChannelClosed.
        lingerZero(client);
        if (server != null) {
            lingerZero(server);
        }
        abort(server);
        abort(client);
    }

    private void stopPump() {
        if (pump != null) {
            pump.stop();
        }
    }

    /** Zero-copy, before the pump runs: keeps what Netty read, in order, in a direct buffer. */
    private static ByteBuf keep(ByteBuf kept, ByteBuf buf, ChannelHandlerContext ctx) {
        ByteBuf k = kept != null ? kept : ctx.alloc().directBuffer(buf.readableBytes());
        try {
            k.writeBytes(buf);
        } finally {
            buf.release();
        }
        return k;
    }

    /**
     * Whether {@code bytes} more fit in {@link #pending} past {@link #MAX_PENDING}. Reads are off until
     * the real server is connected, but at the client's FIN epoll and io_uring read the whole socket all
     * the same, before the connect completes: those bytes must reach the real server (or the next one)
     * whole. Nothing can follow a FIN, so they are what the kernel held, at most its receive buffer
     * (SO_RCVBUF, read when the drain first passes MAX_PENDING); with the rest of a PROXY header's read
     * (MAX_PENDING) that bounds what a client can make us hold.
     */
    private boolean roomPending(int bytes) {
        if (pendingLimit == 0) {
            int rcvbuf;
            try {
                rcvbuf = client.config().getOption(ChannelOption.SO_RCVBUF);
            } catch (RuntimeException e) {
                logger.debug("cannot read SO_RCVBUF of {}", client, e);
                rcvbuf = 0;
            }
            pendingLimit = MAX_PENDING + Math.max(rcvbuf, 0);
        }
        return pending.readableBytes() + bytes <= pendingLimit;
    }

    /**
     * Flushes {@code target} and says whether it is writable again. One full read (64 KiB) reaches the
     * high water mark before the flush at the end of the read batch; flushing first, and pausing reads
     * only if the kernel did not take the bytes, spares two {@code epoll_ctl} calls per read in a bulk
     * transfer whose reader keeps up.
     */
    private static boolean flushedWritable(Channel target) {
        target.flush();
        return target.isWritable();
    }

    private void writeProxyHeader() {
        ProxyProtocol pp = config.proxyProtocol();
        if (pp == ProxyProtocol.NONE) {
            return;
        }
        ProxyHeaders.write(server, ProxyHeaders.proxy(
                pp == ProxyProtocol.V1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2,
                clientAddress, destinationAddress));
    }

    private void countIn(int bytes) {
        state.counters().in(bytes);
        if (dest != null) {
            dest.counters().in(bytes);
        }
    }

    private void countOut(int bytes) {
        state.counters().out(bytes);
        if (dest != null) {
            dest.counters().out(bytes);
        }
    }

    private void onFin() {
        if (destState == ACTIVE) {
            state.toInactive(dest);
            destState = INACTIVE;
        }
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        idleTimer = client.eventLoop().schedule(idleCheck, state.timeouts().tcpFin().toNanos(), TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
        if (ended) {
            return;
        }
        long timeout = (clientEof || serverEof ? state.timeouts().tcpFin() : state.timeouts().tcp()).toNanos();
        long idle = System.nanoTime() - lastActivity;
        if (idle >= timeout) {
            logger.debug("closing {} after {} ms idle", client, TimeUnit.NANOSECONDS.toMillis(idle));
            closeBoth();
        } else {
            idleTimer = client.eventLoop().schedule(idleCheck, timeout - idle, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * The direction towards {@code target} has ended: half-close it, or, when the other direction has
     * ended too, close the pair (the close sends the FIN, without a shutdown call of its own).
     */
    private void finished(Channel target) {
        if (clientEof && serverEof) {
            closeBoth();
        } else {
            shutdownOutput(target);
        }
    }

    /** Sends everything written so far, then a FIN; closes the pair once both directions are done. */
    private void shutdownOutput(Channel target) {
        if (!hasPendingWrites(target)) {
            if (target.isActive()) {
                shutdownOutputNow(target);
            } else {
                closeBoth();
            }
            return;
        }
        target.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFuture f) -> {
            if (!f.isSuccess() || !target.isActive()) {
                closeBoth();
                return;
            }
            shutdownOutputNow(target);
        });
    }

    /** Half-closes {@code target}, whose written bytes have all reached the kernel. */
    private void shutdownOutputNow(Channel target) {
        boolean direct;
        try {
            direct = Transport.shutdownOutput(target);
        } catch (IOException e) {
            closeBoth();
            return;
        }
        if (direct) {
            halfClosed(true);
        } else {
            ((DuplexChannel) target).shutdownOutput().addListener((ChannelFuture g) -> halfClosed(g.isSuccess()));
        }
    }

    /** After a half-close: the pair closes if it failed or if the other direction has ended too. */
    private void halfClosed(boolean ok) {
        if (!ok || clientEof && serverEof) {
            closeBoth();
        }
    }

    private void closeBoth() {
        closeOnFlush(client);
        if (server != null) {
            closeOnFlush(server);
        }
    }

    private void closeOnFlush(Channel ch) {
        if (handedOver) {
            // Nothing waits in Netty's buffers once handed over (the hand-over waited for them).
            stopPump();
            ch.close();
        } else if (ch.isActive() && hasPendingWrites(ch)) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
    }

    /**
     * Whether bytes written to {@code ch} are still in Netty's outbound buffer (unflushed, or in flight
     * until the kernel took them). When none are, waiting for an empty write is needless, and on io_uring
     * it is a write operation of its own: one more submission and completion per connection.
     */
    private static boolean hasPendingWrites(Channel ch) {
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out != null && out.totalPendingWriteBytes() > 0;
    }

    /** Closes {@code ch} with a reset (SO_LINGER 0), as the other side was reset. */
    private static void abort(Channel ch) {
        if (ch != null && ch.isOpen()) {
            lingerZero(ch);
            ch.close();
        }
    }

    private static void lingerZero(Channel ch) {
        try {
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (RuntimeException e) {
            logger.debug("cannot set SO_LINGER 0 on {}", ch, e);
        }
    }

    private void onChannelClosed() {
        if (server != null && server.isOpen()) {
            closeOnFlush(server);
        }
        if (client.isOpen()) {
            closeOnFlush(client);
        }
        if (!client.isOpen() && (server == null || !server.isOpen())) {
            end();
        }
    }

    private void end() {
        if (ended) {
            return;
        }
        ended = true;
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        if (pending != null) {
            pending.release();
            pending = null;
        }
        stopPump();
        if (upPrefix != null) {
            upPrefix.release();
            upPrefix = null;
        }
        if (downPrefix != null) {
            downPrefix.release();
            downPrefix = null;
        }
        if (acquired) {
            state.release();
            table.remove(this);
        }
        if (dest != null && !connecting) {
            if (destState == ACTIVE) {
                state.toInactive(dest);
            }
            ServiceState.Dest d = dest;
            Lease l = lease;
            dest = null;
            lease = null;
            destState = NONE;
            if (expiredNodest) {
                state.unbindInactive(d, l);
                return;
            }
            // IPVS keeps a closed connection counted as inactive (and listed, holding its template) for the
            // tcpfin timeout.
            table.addClosed(new ConnectionTable.Closed(state, d, l,
                    clientAddress != null ? clientAddress : (InetSocketAddress) client.remoteAddress(),
                    (InetSocketAddress) client.localAddress(), System.nanoTime()));
        }
    }

    /**
     * This connection as an {@code ipvsadm -lnc} entry, or {@code null} before a real server was picked
     * or once closed (a closed one is listed by its {@link ConnectionTable.Closed}). Runs on the loop.
     */
    IpvsConnections.Entry entry(long now) {
        ServiceState.Dest d = dest;
        if (d == null || ended || clientAddress == null) {
            return null;
        }
        IpvsConnections.State s;
        Duration timeout;
        if (!established) {
            s = IpvsConnections.State.SYN_RECV;
            timeout = config.connectTimeout();
        } else if (clientEof && serverEof) {
            s = IpvsConnections.State.TIME_WAIT;
            timeout = state.timeouts().tcpFin();
        } else if (serverEof) {
            s = IpvsConnections.State.FIN_WAIT;
            timeout = state.timeouts().tcpFin();
        } else if (clientEof) {
            s = IpvsConnections.State.CLOSE_WAIT;
            timeout = state.timeouts().tcpFin();
        } else {
            s = IpvsConnections.State.ESTABLISHED;
            timeout = state.timeouts().tcp();
        }
        return new IpvsConnections.Entry(Protocol.TCP, s, ConnectionTable.remaining(timeout.toNanos(),
                now - lastActivity), clientAddress, (InetSocketAddress) client.localAddress(),
                d.member().upstream().address());
    }

    private void onException(Channel self, Channel other, Throwable cause) {
        stopPump();
        if (cause instanceof IOException) {
            logger.debug("{}: {}", self, cause.toString());
            abort(other);
            abort(self);
        } else if (cause instanceof io.netty.handler.codec.DecoderException) {
            // Bad input (a malformed PROXY header): the client is closed, nothing reaches a real server.
            logger.debug("{}: {}", self, cause.toString());
            state.malformedProxyHeader();
            closeBoth();
        } else {
            logger.warn("{}: closing after unexpected error", self, cause);
            closeBoth();
        }
    }

    /** The client side. */
    private final class Frontend extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            start();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HAProxyMessage) {
                HAProxyMessage m = (HAProxyMessage) msg;
                try {
                    clientAddress = ProxyHeaders.source(m, (InetSocketAddress) client.remoteAddress());
                    destinationAddress = ProxyHeaders.destination(m, destinationAddress);
                } finally {
                    m.release();
                }
                if (server == null && !connecting) {
                    connectNext();
                }
                return;
            }
            ByteBuf buf = (ByteBuf) msg;
            boolean dropped = clientDropped && established && !zeroCopy;
            if (!dropped) {
                lastActivity = System.nanoTime();
            }
            if (!established || dropped) {
                // Bytes that came with the PROXY header, or that the transport read at the client's FIN:
                // held until a real server is connected. Dropping: read before reads went off (or at a
                // FIN), held until the drop ends, and renewing no timer.
                if (pending == null) {
                    pending = ctx.alloc().buffer(buf.readableBytes());
                }
                if (pending.readableBytes() + buf.readableBytes() > MAX_PENDING && !roomPending(buf.readableBytes())) {
                    buf.release();
                    closeBoth();
                    return;
                }
                pending.writeBytes(buf);
                buf.release();
                return;
            }
            countIn(buf.readableBytes());
            if (zeroCopy) {
                upPrefix = keep(upPrefix, buf, ctx);
                return;
            }
            server.write(buf, server.voidPromise());
            if (!server.isWritable() && !flushedWritable(server)) {
                client.config().setAutoRead(false);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (established && !zeroCopy) {
                server.flush();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                if (clientDropped && established && !zeroCopy) {
                    // Passed on, with the state it brings, when the drop ends.
                    finDropped = true;
                    return;
                }
                clientEof = true;
                if (established) {
                    onFin();
                    if (!zeroCopy) {
                        finished(server);
                    }
                } else if (!connecting) {
                    client.close();
                }
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (established && !zeroCopy && client.isWritable() && !serverEof) {
                Transport.resumeReads(server);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            onException(client, server, cause);
        }
    }

    /** The real-server side; a new one per connect attempt. */
    private final class Backend extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            lastActivity = System.nanoTime();
            countOut(buf.readableBytes());
            if (zeroCopy) {
                downPrefix = keep(downPrefix, buf, ctx);
                return;
            }
            client.write(buf, client.voidPromise());
            if (!client.isWritable() && !flushedWritable(client)) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!zeroCopy) {
                client.flush();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && ctx.channel() == server) {
                serverEof = true;
                onFin();
                if (!zeroCopy) {
                    finished(client);
                }
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel() == server && !zeroCopy && server.isWritable() && !clientEof && !clientDropped) {
                Transport.resumeReads(client);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (ctx.channel() == server) {
                onException(server, client, cause);
            } else {
                ctx.close();
            }
        }
    }
}
