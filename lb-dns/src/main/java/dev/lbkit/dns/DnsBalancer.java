package dev.lbkit.dns;

import dev.lbkit.api.Ticker;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.dns.internal.Counters;
import dev.lbkit.dns.internal.DnsEngine;
import dev.lbkit.dns.internal.Forwarder;
import dev.lbkit.dns.internal.NameTable;
import dev.lbkit.dns.internal.TcpHandler;
import dev.lbkit.dns.internal.UdpHandler;
import dev.lbkit.dns.internal.Wire;
import dev.lbkit.transport.TransportType;
import dev.lbkit.transport.internal.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A health-aware round-robin DNS server: what dnsmasq's {@code address=} and {@code server=} lines do,
 * answering from {@link UpstreamPool}s so that upstreams their health policy holds down are left out.
 *
 * <p>Listens on UDP and TCP on one address and port. Served names ({@link ServedName}) are answered
 * authoritatively (AA) with every available upstream, the order rotated per query; unknown names in a
 * served zone get NXDOMAIN, known names without the asked type NOERROR with no records, both with the
 * zone's SOA. Every other name is forwarded to the configured resolvers (RA is then set; AA is clear on
 * forwarded and cached answers), or REFUSED when none are configured.
 *
 * <pre>{@code
 * DnsBalancer dns = DnsBalancer.builder()
 *         .listen(new InetSocketAddress("127.0.0.1", 5353))
 *         .name(ServedName.builder("my-awesome-highload-app.local", pool).subdomains(true).build())
 *         .forwarder(new InetSocketAddress("127.0.0.1", 5354))
 *         .start();
 * }</pre>
 *
 * <p>Thread-safe. {@link #start} binds, {@link #close} unbinds and stops the event loops.
 */
public final class DnsBalancer implements AutoCloseable {
    private static final Logger logger = LoggerFactory.getLogger(DnsBalancer.class);
    private static final int BIND_ATTEMPTS = 32;
    /** Largest UDP query read whole; longer ones arrive cut and are answered FORMERR. */

    private final Builder config;
    private final Counters counters = new Counters();
    private final Transport transport;
    private final NameTable table;
    private final AtomicInteger tcpConnections = new AtomicInteger();
    private final List<Channel> channels = new ArrayList<>();
    private EventLoopGroup group;
    private Forwarder forwarder;
    private InetSocketAddress localAddress;
    private boolean started;
    private boolean closed;

    private DnsBalancer(Builder b) {
        this.config = b;
        this.transport = Transport.choose(b.transport);
        this.table = new NameTable(b.names, b.zones, b.negativeTtl.getSeconds(), counters);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds UDP and TCP and starts answering.
     *
     * @return this
     * @throws IllegalStateException if it was started before or cannot bind
     */
    public synchronized DnsBalancer start() {
        if (started) {
            throw new IllegalStateException("already started");
        }
        started = true;
        // Named as lb-l7's and lb-admin's loops are (not daemons, as before: a DNS server alone keeps its JVM).
        group = new MultiThreadIoEventLoopGroup(config.ioThreads, new DefaultThreadFactory("lb-dns"),
                transport.ioHandlerFactory());
        try {
            if (!config.forwarders.isEmpty()) {
                forwarder = new Forwarder(config.forwarders, config.forwardTimeout, config.maxPendingForwards,
                        config.cacheSize, config.maxCacheTtl, config.maxUdpPayload, counters, config.ticker, transport);
                io.netty.channel.EventLoop loop = group.next();
                List<Channel> sockets = new ArrayList<>();
                for (int i = 0; i < config.forwarderSockets; i++) {
                    // A forwarded query advertises maxUdpPayload, so no answer should be larger: the buffer is
                    // that size and one byte, so that one larger (a resolver ignoring the size) shows as cut
                    // (Netty's default 2048 bytes would cut a larger one; 64 KiB would miss the thread cache).
                    Channel fc = new Bootstrap().group(loop).channel(transport.datagramChannel()).handler(forwarder)
                            .option(ChannelOption.RECVBUF_ALLOCATOR,
                                    new FixedRecvByteBufAllocator(config.maxUdpPayload + 1))
                            .bind(new InetSocketAddress(0)).syncUninterruptibly().channel();
                    sockets.add(fc);
                    channels.add(fc);
                }
                forwarder.channels(sockets);
            }
            DnsEngine engine = new DnsEngine(table, forwarder, config.maxUdpPayload, counters);
            bindListeners(engine);
        } catch (Exception e) { // a bind's checked cause comes through Netty unwrapped
            close();
            throw new IllegalStateException("cannot start DNS server on " + config.listen + ": " + e.getMessage(), e);
        }
        logger.info("DNS server on {} (udp+tcp, {}), {} names, forwarding to {}", localAddress,
                transport.name(), config.names.size(), config.forwarders);
        return this;
    }

    private void bindListeners(DnsEngine engine) {
        UdpHandler udp = new UdpHandler(engine);
        long idleNanos = config.tcpIdleTimeout.toNanos();
        ServerBootstrap tcp = new ServerBootstrap().group(group).channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 128)
                // A client's FIN ends its queries, not its answers (TcpHandler closes once they are sent).
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tcpConnections.incrementAndGet() > config.maxTcpConnections) {
                            tcpConnections.decrementAndGet();
                            counters.increment(Counters.TCP_REJECTED);
                            ch.close();
                            return;
                        }
                        ch.closeFuture().addListener(f -> tcpConnections.decrementAndGet());
                        ch.pipeline().addLast(new LengthFieldPrepender(2),
                                Wire.tcpFrameDecoder(),
                                new TcpHandler(engine, idleNanos, counters));
                    }
                });
        // UDP and TCP must share the port; with port 0 the TCP port is taken first and UDP may find it
        // busy, so a few fresh ports are tried.
        Exception last = null;
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
            Channel server = tcp.bind(config.listen).syncUninterruptibly().channel();
            InetSocketAddress bound = (InetSocketAddress) server.localAddress();
            List<Channel> udpChannels = new ArrayList<>();
            try {
                int sockets = transport.isEpoll() ? config.ioThreads : 1;
                for (int i = 0; i < sockets; i++) {
                    Bootstrap b = new Bootstrap().group(group).channel(transport.datagramChannel()).handler(udp)
                            .option(ChannelOption.SO_RCVBUF, config.udpReceiveBuffer);
                    if (transport.isEpoll()) {
                        // One socket per event loop, the kernel spreading datagrams over them; up to 16
                        // datagrams per recvmmsg call, and the answers to a batch leave in one sendmmsg.
                        b.option(EpollChannelOption.SO_REUSEPORT, true)
                                .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, config.maxUdpQuery)
                                .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(config.maxUdpQuery * 16));
                    } else {
                        b.option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(config.maxUdpQuery));
                    }
                    udpChannels.add(b.bind(bound).syncUninterruptibly().channel());
                }
                channels.add(server);
                channels.addAll(udpChannels);
                localAddress = bound;
                return;
            } catch (Exception e) {
                // Netty rethrows a failed bind's checked cause (a native "Address already in use") as it is.
                last = e;
                server.close().syncUninterruptibly();
                udpChannels.forEach(c -> c.close().syncUninterruptibly());
                if (config.listen.getPort() != 0) {
                    break;
                }
            }
        }
        throw last instanceof RuntimeException ? (RuntimeException) last : new IllegalStateException(last.getMessage(), last);
    }

    /** The address both listeners are bound to (with the actual port when 0 was asked for). */
    public synchronized InetSocketAddress localAddress() {
        if (localAddress == null) {
            throw new IllegalStateException("not started");
        }
        return localAddress;
    }

    /** The counters now. */
    public DnsStats stats() {
        return new DnsStats(counters.snapshotByName(), counters.snapshotTotals());
    }

    /** Whether a native transport (epoll or io_uring) is in use. */
    public boolean isNativeTransport() {
        return transport.isNative();
    }

    /** {@code "epoll"}, {@code "io_uring"} or {@code "nio"}: the Netty transport in use. */
    public String transport() {
        return transport.name();
    }

    /** Stops listening, answers SERVFAIL to forwarded queries still waiting, and stops the event loops. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (forwarder != null && !channels.isEmpty()) {
            channels.get(0).eventLoop().submit(forwarder::failAll).awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        for (Channel c : channels) {
            c.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
    }

    /**
     * Builds a {@link DnsBalancer}. Not thread-safe. Every option has a default; {@link #build()} checks
     * them together.
     */
    public static final class Builder {
        private InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 53);
        private final List<ServedName> names = new ArrayList<>();
        private final List<String> zones = new ArrayList<>();
        private Duration negativeTtl = Duration.ZERO;
        private final List<InetSocketAddress> forwarders = new ArrayList<>();
        private Duration forwardTimeout = Duration.ofSeconds(2);
        private int maxPendingForwards = 4096;
        private int forwarderSockets = 8;
        private int cacheSize = 10_000;
        private Duration maxCacheTtl = Duration.ofHours(1);
        private int maxUdpPayload = 1232;
        private int maxUdpQuery = 4096;
        private Duration tcpIdleTimeout = Duration.ofSeconds(10);
        private int maxTcpConnections = 256;
        private int ioThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private int udpReceiveBuffer = 1 << 20;
        private TransportType transport = TransportType.AUTO;
        private Ticker ticker = Ticker.system();

        private Builder() {}

        /** UDP and TCP address and port (0 for an ephemeral port). Default {@code 127.0.0.1:53}. */
        public Builder listen(InetSocketAddress listen) {
            Objects.requireNonNull(listen, "listen");
            if (listen.isUnresolved()) {
                throw new IllegalArgumentException("listen address must be resolved, got " + listen);
            }
            this.listen = listen;
            return this;
        }

        /** Serves a name from a pool (see {@link ServedName} for its options). */
        public Builder name(ServedName name) {
            names.add(Objects.requireNonNull(name, "name"));
            return this;
        }

        /** Serves {@code name} from {@code pool} with {@link ServedName}'s defaults. */
        public Builder name(String name, UpstreamPool pool) {
            return name(ServedName.of(name, pool));
        }

        /**
         * Makes the server authoritative for a zone: unknown names in it get NXDOMAIN instead of being
         * forwarded. Default: each served name is its own zone.
         */
        public Builder zone(String zone) {
            zones.add(ServedName.canonical(zone, "zone"));
            return this;
        }

        /** TTL and minimum of the zones' SOA: how long resolvers may cache a negative answer. Default 0. */
        public Builder negativeTtl(Duration negativeTtl) {
            this.negativeTtl = Checks.positiveOrZero(negativeTtl, "negativeTtl");
            return this;
        }

        /** Adds an upstream resolver for every other name (dnsmasq {@code server=}). Default: none, forwarding off. */
        public Builder forwarder(InetSocketAddress resolver) {
            Objects.requireNonNull(resolver, "resolver");
            if (resolver.isUnresolved()) {
                throw new IllegalArgumentException("resolver address must be resolved, got " + resolver);
            }
            forwarders.add(resolver);
            return this;
        }

        /** How long to wait for one resolver before asking the next. Default 2 s. */
        public Builder forwardTimeout(Duration forwardTimeout) {
            this.forwardTimeout = Checks.positive(forwardTimeout, "forwardTimeout");
            return this;
        }

        /** Most forwarded queries awaiting a resolver; beyond it queries get SERVFAIL at once. Default 4096. */
        public Builder maxPendingForwards(int maxPendingForwards) {
            this.maxPendingForwards = Checks.inRange(maxPendingForwards, 1, 65536, "maxPendingForwards");
            return this;
        }

        /**
         * UDP sockets (each on its own random ephemeral port) the forwarder sends from, one picked at
         * random per query so that an off-path attacker must guess the port as well as the ID. 1..256.
         * Default 8.
         */
        public Builder forwarderSockets(int forwarderSockets) {
            this.forwarderSockets = Checks.inRange(forwarderSockets, 1, 256, "forwarderSockets");
            return this;
        }

        /** Most forwarded answers kept; 0 turns the cache off. Default 10000. */
        public Builder cacheSize(int cacheSize) {
            this.cacheSize = Checks.positiveOrZero(cacheSize, "cacheSize");
            return this;
        }

        /** Longest time a forwarded answer is cached, whatever its TTL. Default 1 h. */
        public Builder maxCacheTtl(Duration maxCacheTtl) {
            this.maxCacheTtl = Checks.positiveOrZero(maxCacheTtl, "maxCacheTtl");
            return this;
        }

        /**
         * Largest UDP answer, and the EDNS0 size advertised, to clients and in forwarded queries (the
         * forwarder reads upstream answers of up to this size): 512..65535. Default 1232 (the DNS Flag Day
         * 2020 value, which avoids IP fragmentation).
         */
        public Builder maxUdpPayload(int maxUdpPayload) {
            this.maxUdpPayload = Checks.inRange(maxUdpPayload, 512, 65535, "maxUdpPayload");
            return this;
        }

        /**
         * Largest UDP query read, in bytes: 512..65535. A longer datagram arrives cut off and gets FORMERR;
         * TCP queries are not bound by it. Default 4096. On epoll each socket reads up to 16 datagrams per
         * call into one pooled buffer of 16 times this size.
         */
        public Builder maxUdpQuery(int maxUdpQuery) {
            this.maxUdpQuery = Checks.inRange(maxUdpQuery, 512, 65535, "maxUdpQuery");
            return this;
        }

        /**
         * A TCP connection without a whole query or an answer for this long is closed, but not while a
         * forwarded query on it waits for its answer. Default 10 s.
         */
        public Builder tcpIdleTimeout(Duration tcpIdleTimeout) {
            this.tcpIdleTimeout = Checks.positive(tcpIdleTimeout, "tcpIdleTimeout");
            return this;
        }

        /** Most TCP connections open at once; more are closed at once. Default 256. */
        public Builder maxTcpConnections(int maxTcpConnections) {
            this.maxTcpConnections = Checks.positive(maxTcpConnections, "maxTcpConnections");
            return this;
        }

        /** Event-loop threads (and, with epoll, UDP sockets). Default: the number of processors. */
        public Builder ioThreads(int ioThreads) {
            this.ioThreads = Checks.inRange(ioThreads, 1, 1024, "ioThreads");
            return this;
        }

        /**
         * Kernel receive buffer of each UDP socket, in bytes (SO_RCVBUF; the kernel may cap it at
         * {@code net.core.rmem_max}): how large a burst of queries waits instead of being dropped while
         * the event loop is busy. 4096..2^30. Default 1 MiB.
         */
        public Builder udpReceiveBuffer(int bytes) {
            this.udpReceiveBuffer = Checks.inRange(bytes, 4096, 1 << 30, "udpReceiveBuffer");
            return this;
        }

        /** Use native epoll when available. Default true; NIO otherwise. */
        public Builder nativeTransport(boolean nativeTransport) {
            this.transport = nativeTransport ? TransportType.AUTO : TransportType.NIO;
            return this;
        }

        /**
         * The I/O transport (default {@link TransportType#AUTO}: native epoll when it loads, NIO
         * otherwise). {@link TransportType#IO_URING} pays where connections are opened and closed at a
         * high rate; an explicit choice that does not load here fails {@code build()}.
         */
        public Builder transport(TransportType transport) {
            this.transport = Objects.requireNonNull(transport, "transport");
            return this;
        }

        /**
         * Time source for the ages of cached forwarded answers. Default {@link Ticker#system()}. (Member
         * availability is read on each pool's own ticker.)
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Checks the options together and builds an unstarted server. */
        public DnsBalancer build() {
            List<String> seen = new ArrayList<>();
            for (ServedName n : names) {
                if (seen.contains(n.name())) {
                    throw new IllegalArgumentException("name " + n.name() + " is served twice");
                }
                seen.add(n.name());
            }
            return new DnsBalancer(this);
        }

        /** {@code build().start()}. */
        public DnsBalancer start() {
            return build().start();
        }
    }
}
