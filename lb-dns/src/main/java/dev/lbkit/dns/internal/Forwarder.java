package dev.lbkit.dns.internal;

import dev.lbkit.api.Ticker;
import dev.lbkit.transport.internal.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Forwards queries for names the server does not serve to upstream resolvers, as dnsmasq's
 * {@code server=} lines do: over UDP from a random one of several sockets (so the source port is as
 * unpredictable as the ID, against off-path spoofing), with the query ID remapped to a random free one (the
 * pending table is indexed by it), one resolver at a time with a timeout each, SERVFAIL when all fail.
 * A query with EDNS goes on advertising {@code maxUdpPayload}, the size the UDP sockets read, whatever the
 * client's size (one without EDNS goes on without, so the answer needs no OPT removed, RFC 6891 section 7).
 * Answers are cached ({@link ResponseCache}) as received and fitted to each client's size when sent. A
 * truncated answer for a client that asked over TCP is fetched again from the same resolver over TCP; a
 * UDP client gets it as it is, TC set.
 *
 * <p>Every piece of state is confined to one event loop; {@link #forward} hops onto it. Nothing blocks.
 */
@io.netty.channel.ChannelHandler.Sharable
public final class Forwarder extends ChannelInboundHandlerAdapter {
    private final List<InetSocketAddress> resolvers;
    private final long timeoutNanos;
    private final int maxPending;
    private final int maxUdpPayload;
    private final ResponseCache cache;
    private final Counters counters;
    private final LongAdder[] byRcode;
    private final Ticker ticker;
    private final Transport transport;
    private final SecureRandom random = new SecureRandom();
    private final Pending[] table = new Pending[65536];
    private int pending;
    private Channel channel;
    private Channel[] sockets;
    private EventLoop loop;

    private static final class Pending {
        final byte[] query;
        final int clientId;
        final int clientFlags;
        final int questionLength;
        final boolean edns;
        final boolean dnssecOk;
        final String cacheKey;
        final Replier replier;
        final int limit;
        int id;
        int resolver;
        /** Counts sends, so that a timeout armed for an earlier one is ignored. */
        int attempt;
        /** The socket the last UDP query left from: the answer must arrive on it. */
        Channel socket;
        ScheduledFuture<?> timeout;
        /** The TCP connection of a retry after a truncated UDP answer, while it is open. */
        Channel tcp;

        Pending(byte[] query, Query q, Replier replier, int limit) {
            this.query = query;
            this.clientId = q.id;
            this.clientFlags = q.flags;
            this.questionLength = q.questionLength;
            this.edns = q.edns;
            this.dnssecOk = q.dnssecOk;
            this.cacheKey = ResponseCache.key(q.qname(), q.qtype, q.qclass, q.edns, q.dnssecOk);
            this.replier = replier;
            this.limit = limit;
        }
    }

    public Forwarder(List<InetSocketAddress> resolvers, Duration timeout, int maxPending, int cacheSize,
            Duration maxCacheTtl, int maxUdpPayload, Counters counters, Ticker ticker, Transport transport) {
        this.transport = transport;
        this.resolvers = List.copyOf(resolvers);
        this.timeoutNanos = timeout.toNanos();
        this.maxPending = maxPending;
        this.maxUdpPayload = maxUdpPayload;
        this.cache = new ResponseCache(cacheSize, maxCacheTtl.getSeconds());
        this.counters = counters;
        this.byRcode = counters.forName(Counters.FORWARDED);
        this.ticker = ticker;
    }

    /**
     * Attaches the UDP channels that talk to the resolvers, each bound to its own ephemeral port and all
     * registered with one event loop (whose thread then owns every piece of state here).
     */
    public void channels(List<Channel> channels) {
        this.sockets = channels.toArray(new Channel[0]);
        this.channel = sockets[0];
        this.loop = channel.eventLoop();
    }

    /** Queries waiting for a resolver; for tests and stats. Call on any thread (a racy read). */
    public int pendingCount() {
        return pending;
    }

    /**
     * Forwards {@code in} (copied; not released) and replies through {@code replier} later. The copy's OPT,
     * if it has one, advertises {@code maxUdpPayload} instead of the client's size.
     */
    public void forward(Query q, ByteBuf in, Replier replier, int limit) {
        counters.increment(Counters.FORWARDS);
        byte[] query = ByteBufUtil.getBytes(in);
        if (q.edns) {
            // As dnsmasq does with edns-packet-max: the resolver answers within what the forwarder's sockets
            // read (a larger answer comes with TC), whatever the client's size; deliver() fits it to the client.
            query[q.ednsUdpSizeOffset] = (byte) (maxUdpPayload >>> 8);
            query[q.ednsUdpSizeOffset + 1] = (byte) maxUdpPayload;
        }
        Pending p = new Pending(query, q, replier, limit);
        if (loop.inEventLoop()) {
            start(p);
        } else {
            loop.execute(() -> start(p));
        }
    }

    private void start(Pending p) {
        long now = ticker.nanoTime();
        ResponseCache.Entry hit = cache.get(p.cacheKey, now);
        if (hit != null) {
            counters.increment(Counters.CACHE_HITS);
            deliver(p, ResponseCache.aged(hit, now));
            return;
        }
        counters.increment(Counters.CACHE_MISSES);
        if (pending >= maxPending || !channel.isActive()) {
            counters.increment(Counters.FORWARD_OVERFLOWS);
            fail(p);
            return;
        }
        int id = random.nextInt(65536);
        while (table[id] != null) {
            id = (id + 1) & 0xFFFF;
        }
        p.id = id;
        table[id] = p;
        pending++;
        send(p, 0);
    }

    private void send(Pending p, int resolver) {
        p.resolver = resolver;
        p.socket = sockets.length == 1 ? channel : sockets[random.nextInt(sockets.length)];
        ByteBuf b = p.socket.alloc().ioBuffer(p.query.length);
        b.writeBytes(p.query);
        b.setShort(0, p.id);
        p.socket.writeAndFlush(new DatagramPacket(b, resolvers.get(resolver)));
        arm(p);
    }

    private void arm(Pending p) {
        int attempt = ++p.attempt;
        p.timeout = loop.schedule(() -> onTimeout(p, attempt), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void onTimeout(Pending p, int attempt) {
        if (table[p.id] != p || p.attempt != attempt) {
            return;
        }
        counters.increment(Counters.FORWARD_TIMEOUTS);
        closeTcp(p);
        next(p);
    }

    /**
     * Asks the same resolver again over TCP (RFC 7766), for a client that came over TCP and so can take
     * the whole answer the resolver truncated for UDP. Same ID, same timeout.
     */
    private void retryOverTcp(Pending p) {
        p.timeout.cancel(false);
        arm(p);
        Bootstrap b = new Bootstrap().group(loop).channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new LengthFieldPrepender(2), Wire.tcpFrameDecoder(),
                                new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        ByteBuf answer = (ByteBuf) msg;
                                        try {
                                            if (table[p.id] == p && p.tcp == ctx.channel()) {
                                                onAnswer(p, answer, false);
                                            }
                                        } finally {
                                            answer.release();
                                        }
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        ctx.close();
                                    }
                                });
                    }
                });
        ChannelFuture f = b.connect(resolvers.get(p.resolver));
        p.tcp = f.channel();
        int attempt = p.attempt;
        f.addListener(x -> {
            if (table[p.id] != p || p.attempt != attempt) {
                f.channel().close();
                return;
            }
            if (!f.isSuccess()) {
                p.timeout.cancel(false);
                closeTcp(p);
                next(p);
                return;
            }
            ByteBuf q = f.channel().alloc().ioBuffer(p.query.length);
            q.writeBytes(p.query);
            q.setShort(0, p.id);
            f.channel().writeAndFlush(q);
        });
    }

    private static void closeTcp(Pending p) {
        if (p.tcp != null) {
            p.tcp.close();
            p.tcp = null;
        }
    }

    private void next(Pending p) {
        if (p.resolver + 1 < resolvers.size()) {
            send(p, p.resolver + 1);
        } else {
            finish(p);
            fail(p);
        }
    }

    private void finish(Pending p) {
        if (p.timeout != null) {
            p.timeout.cancel(false);
        }
        closeTcp(p);
        table[p.id] = null;
        pending--;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket)) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        DatagramPacket packet = (DatagramPacket) msg;
        try {
            onResponse(packet.content(), packet.sender(), ctx.channel());
        } finally {
            packet.release();
        }
    }

    private void onResponse(ByteBuf in, InetSocketAddress sender, Channel socket) {
        int base = in.readerIndex();
        int len = in.readableBytes();
        if (len < Wire.HEADER) {
            return;
        }
        Pending p = table[in.getUnsignedShort(base)];
        // Accept only what the resolver asked last sent, about the question asked: anything else is late,
        // stray or spoofed.
        if (p == null || p.tcp != null || p.socket != socket || !resolvers.get(p.resolver).equals(sender)) {
            return;
        }
        onAnswer(p, in, true);
    }

    private void onAnswer(Pending p, ByteBuf in, boolean udp) {
        int base = in.readerIndex();
        if (in.readableBytes() < Wire.HEADER || in.getUnsignedShort(base) != p.id || !sameQuestion(in, p)) {
            return;
        }
        int flags = in.getUnsignedShort(base + 2);
        if ((flags & Wire.FLAG_QR) == 0) {
            return;
        }
        int rcode = flags & 0xF;
        if ((rcode == Wire.SERVFAIL || rcode == Wire.REFUSED) && p.resolver + 1 < resolvers.size()) {
            p.timeout.cancel(false);
            closeTcp(p);
            next(p);
            return;
        }
        if (udp && (flags & Wire.FLAG_TC) != 0 && p.limit == Wire.MAX_MESSAGE) {
            retryOverTcp(p);
            return;
        }
        if (udp && in.readableBytes() > maxUdpPayload) {
            // The resolver ignored the size it was told and the read cut its answer: a cut message is never
            // passed on or cached. As for TC: a TCP client's is fetched again over TCP; a UDP client, whose
            // limit is at most maxUdpPayload, gets TC with no records, which deliver() makes of it.
            if (p.limit == Wire.MAX_MESSAGE) {
                retryOverTcp(p);
                return;
            }
            finish(p);
            deliver(p, ByteBufUtil.getBytes(in));
            return;
        }
        finish(p);
        byte[] wire = ByteBufUtil.getBytes(in);
        // The OPT of an answer tells the size its sender takes: ours (maxUdpPayload), not the resolver's,
        // as dnsmasq puts its edns-packet-max there.
        int size = Wire.optUdpSizeOffset(wire);
        if (size >= 0) {
            wire[size] = (byte) (maxUdpPayload >>> 8);
            wire[size + 1] = (byte) maxUdpPayload;
        }
        cache.put(p.cacheKey, wire, ticker.nanoTime());
        deliver(p, wire.clone());
    }

    private static boolean sameQuestion(ByteBuf in, Pending p) {
        int base = in.readerIndex();
        if (in.readableBytes() < Wire.HEADER + p.questionLength || in.getUnsignedShort(base + 4) != 1) {
            return false;
        }
        // RFC 5452 section 9.1: the name matches without regard to ASCII case only (RFC 4343), QTYPE and
        // QCLASS exactly (the last 4 bytes).
        int name = p.questionLength - 4;
        for (int i = 0; i < p.questionLength; i++) {
            int a = in.getUnsignedByte(base + Wire.HEADER + i);
            int b = p.query[Wire.HEADER + i] & 0xFF;
            if (a != b && (i >= name || Wire.toLowerAscii(a) != Wire.toLowerAscii(b))) {
                return false;
            }
        }
        return true;
    }

    /** Sends {@code wire} (ours to modify) to the client under its own ID and letter case, within its size. */
    private void deliver(Pending p, byte[] wire) {
        int resolver = ((wire[2] & 0xFF) << 8) | (wire[3] & 0xFF);
        // The header is made as for an answer of our own: RD and CD are this client's (a cached answer was
        // fetched for another one), RA is set, AA is clear (a forwarder and its cache are no authority,
        // RFC 1035 section 4.1.1). The rcode, TC and AD are the resolver's.
        int flags = Wire.responseFlags(p.clientFlags, resolver & 0xF, false, true)
                | (resolver & (Wire.FLAG_TC | Wire.FLAG_AD)) | (p.clientFlags & Wire.FLAG_CD);
        Counters.count(byRcode, flags & 0xF);
        ByteBuf out;
        if (wire.length <= p.limit) {
            out = channel.alloc().ioBuffer(wire.length);
            out.writeBytes(wire);
            out.setShort(0, p.clientId);
            out.setShort(2, flags);
            out.setBytes(Wire.HEADER, p.query, Wire.HEADER, p.questionLength);
        } else {
            counters.increment(Counters.TRUNCATED);
            out = channel.alloc().ioBuffer(Wire.HEADER + p.questionLength + Wire.OPT_LENGTH);
            Wire.header(out, p.clientId, flags | Wire.FLAG_TC, 1, 0, 0, p.edns ? 1 : 0);
            out.writeBytes(p.query, Wire.HEADER, p.questionLength);
            if (p.edns) {
                Wire.opt(out, maxUdpPayload, 0, p.dnssecOk);
            }
        }
        p.replier.reply(out);
    }

    private void fail(Pending p) {
        Counters.count(byRcode, Wire.SERVFAIL);
        ByteBuf out = channel.alloc().ioBuffer(Wire.HEADER + p.questionLength + Wire.OPT_LENGTH);
        Wire.header(out, p.clientId, Wire.responseFlags(p.clientFlags, Wire.SERVFAIL, false, true), 1, 0, 0,
                p.edns ? 1 : 0);
        out.writeBytes(p.query, Wire.HEADER, p.questionLength);
        if (p.edns) {
            Wire.opt(out, maxUdpPayload, Wire.SERVFAIL, p.dnssecOk);
        }
        p.replier.reply(out);
    }

    /** Fails every pending query (on close). Must run on the forwarder's loop. */
    public void failAll() {
        for (int i = 0; i < table.length; i++) {
            Pending p = table[i];
            if (p != null) {
                finish(p);
                fail(p);
            }
        }
    }
}
