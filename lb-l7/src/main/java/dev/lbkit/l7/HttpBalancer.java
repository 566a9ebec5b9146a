package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import dev.lbkit.l7.internal.FrontendHandler;
import dev.lbkit.l7.internal.ProxyState;
import dev.lbkit.l7.internal.RealAddress;
import dev.lbkit.transport.TransportType;
import dev.lbkit.transport.internal.TcpReads;
import dev.lbkit.transport.internal.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * An embeddable HTTP/1.1 reverse proxy with nginx's upstream semantics, on Netty (HTTP/2 towards clients too,
 * per {@link Listener.Builder#http2(Http2Options) listener}; upstreams stay HTTP/1.1): listeners, routes to
 * {@link UpstreamGroup}s (an lb-api pool with its scheduler, health policy and backups), nginx's
 * timeouts, {@code proxy_next_upstream} retries and status codes, header rules, keep-alive on both
 * sides and streaming with back-pressure.
 *
 * <pre>{@code
 * HttpBalancer lb = HttpBalancer.builder()
 *         .listen(new InetSocketAddress("127.0.0.1", 8888))
 *         .route(Route.builder("/").group(UpstreamGroup.of(pool)).setRequestHeader("X-high-load-test", "123").build())
 *         .build()
 *         .start();
 * ...
 * lb.stop(Duration.ofSeconds(10));
 * }</pre>
 *
 * <p>Thread-safe. Each client connection lives on one event loop, and its upstream connections are
 * opened on the same loop. Routes can be replaced while it runs ({@link #routes(List)}); the groups'
 * pools can be changed at any time.
 */
public final class HttpBalancer implements AutoCloseable {
    /** The most bytes one read takes from a client's or an upstream's socket, by default: 32 KiB. */
    public static final int DEFAULT_BUFFER_SIZE = TcpReads.DEFAULT_SIZE;
    /** The least {@link Builder#bufferSize} may be: 1 KiB. */
    public static final int MIN_BUFFER_SIZE = TcpReads.MIN_SIZE;
    /** The most {@link Builder#bufferSize} may be: 64 KiB. */
    public static final int MAX_BUFFER_SIZE = TcpReads.MAX_SIZE;

    private final List<Listener> listeners;
    private final int eventLoops;
    private final Duration shutdownTimeout;
    private final ProxyState state;
    private final Object lock = new Object();
    private EventLoopGroup group;
    private final List<Channel> serverChannels = new ArrayList<>();
    private volatile List<InetSocketAddress> addresses = List.of();
    private volatile List<Route> routes;
    private boolean started;
    private boolean stopped;
    /** A TLS client's handshake must end within client_header_timeout, as in nginx. */
    private final long handshakeMillis;

    private HttpBalancer(Builder b) {
        this.listeners = List.copyOf(b.listeners);
        this.eventLoops = b.eventLoops;
        this.shutdownTimeout = b.shutdownTimeout;
        this.routes = List.copyOf(b.routes);
        this.state = new ProxyState(routes, b.timeouts, b.limits, Transport.choose(b.transport), b.accessLog,
                b.errorPages, b.bufferSize);
        this.handshakeMillis = Math.max(1, b.timeouts.clientHeader().toMillis());
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds every listener and starts serving.
     *
     * @return this
     * @throws IllegalStateException if started before, or a listener cannot bind (then nothing listens)
     */
    public HttpBalancer start() {
        synchronized (lock) {
            if (started) {
                throw new IllegalStateException("already started");
            }
            started = true;
            Transport t = state.transport();
            group = new MultiThreadIoEventLoopGroup(eventLoops, new DefaultThreadFactory("lb-l7", true),
                    t.ioHandlerFactory());
            List<EventLoop> loops = new ArrayList<>();
            for (EventExecutor e : group) {
                loops.add((EventLoop) e);
            }
            state.eventLoops(loops);
            state.openQueues();
            List<InetSocketAddress> bound = new ArrayList<>();
            try {
                for (Listener l : listeners) {
                    RealAddress.Config realIp = l.realIp().map(RealAddress.Config::new).orElse(null);
                    ServerBootstrap sb = new ServerBootstrap().group(group).channel(t.serverChannel())
                            .option(ChannelOption.SO_BACKLOG, 1024)
                            .option(ChannelOption.SO_REUSEADDR, true)
                            .childOption(ChannelOption.AUTO_READ, false)
                            .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                            .childOption(ChannelOption.RECVBUF_ALLOCATOR, state.reads())
                            .childHandler(new ChannelInitializer<Channel>() {
                                @Override
                                protected void initChannel(Channel ch) {
                                    initClient(ch, l, realIp);
                                }
                            });
                    Channel ch = sb.bind(l.address()).syncUninterruptibly().channel();
                    serverChannels.add(ch);
                    bound.add((InetSocketAddress) ch.localAddress());
                }
            } catch (Exception e) {
                // Exception, not RuntimeException: Netty rethrows a failed bind's checked cause (BindException,
                // a native "Address already in use") as it is.
                for (Channel ch : serverChannels) {
                    ch.close().syncUninterruptibly();
                }
                serverChannels.clear();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                state.closeResolvers();
                state.closeQueues();
                throw new IllegalStateException("cannot listen: " + e.getMessage(), e);
            }
            addresses = Collections.unmodifiableList(bound);
            return this;
        }
    }

    private void initClient(Channel ch, Listener l, RealAddress.Config realIp) {
        ChannelPipeline p = ch.pipeline();
        SslContext ssl = l.tls().orElse(null);
        FrontendHandler f = state.newFrontend(ssl != null);
        if (realIp != null) {
            f.realIp(realIp);
        }
        if (l.acceptProxyProtocol()) {
            // Before TLS: the balancer in front writes the header ahead of the client's handshake.
            p.addLast(state.newProxyHeaderReaders(f));
        }
        if (ssl != null) {
            SslHandler h = ssl.newHandler(ch.alloc());
            // Netty's default (10 s) ignored client_header_timeout: a client stalled mid-handshake held
            // its connection past it.
            h.setHandshakeTimeoutMillis(handshakeMillis);
            p.addLast("tls", h);
        }
        if (l.http2().isPresent()) {
            p.addLast("http2-switch", state.newHttp2Switch(f, l.http2().get(), ssl != null, realIp));
        }
        ClientLimits limits = state.limits();
        var encoder = FrontendHandler.newEncoder();
        f.encoder(encoder);
        p.addLast("decoder", f.newDecoder(limits));
        p.addLast("encoder", encoder);
        p.addLast("proxy", f);
    }

    /** The bound addresses, one per listener in order (with the actual port when 0 was asked); empty before start. */
    public List<InetSocketAddress> addresses() {
        return addresses;
    }

    /** The first bound address. */
    public InetSocketAddress address() {
        List<InetSocketAddress> a = addresses;
        if (a.isEmpty()) {
            throw new IllegalStateException("not started");
        }
        return a.get(0);
    }

    /** The current routes. */
    public List<Route> routes() {
        return routes;
    }

    /** Replaces the routes; requests already routed finish where they are. */
    public void routes(List<Route> routes) {
        List<Route> copy = List.copyOf(Objects.requireNonNull(routes, "routes"));
        synchronized (lock) {
            this.routes = copy;
            state.routes(copy);
        }
    }

    /** The transport in use: {@code "epoll"}, {@code "io_uring"} or {@code "nio"}. */
    public String transport() {
        return state.transport().name();
    }

    /** The most bytes one read takes from a socket ({@link Builder#bufferSize}). */
    public int bufferSize() {
        return state.bufferSize();
    }

    /** A snapshot of the counters. */
    public HttpBalancerStats stats() {
        return new HttpBalancerStats(state.routeStats(), state.upstreamStats(), state.openConnections(),
                state.queueStats(), state.malformedProxyHeaders());
    }

    /**
     * Stops gracefully: stops accepting, lets requests in flight finish for up to {@code deadline}
     * (idle connections are closed at once, busy ones after their response; requests waiting in a
     * {@link RequestQueue} are still sent on as upstreams free up, and those still waiting at the
     * deadline get 503), then closes everything and releases the event loops. Blocks until done.
     * Idempotent.
     */
    public void stop(Duration deadline) {
        Checks.positiveOrZero(deadline, "deadline");
        synchronized (lock) {
            if (!started || stopped) {
                stopped = true;
                return;
            }
            stopped = true;
        }
        for (Channel ch : serverChannels) {
            ch.close().syncUninterruptibly();
        }
        state.beginStop();
        long end = System.nanoTime() + deadline.toNanos();
        while (!state.quiescent() && System.nanoTime() - end < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        // Requests still waiting for an upstream get their 503 before their connections close.
        state.rejectQueued();
        state.closeAllChannels();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        state.closeResolvers();
        state.closeQueues();
    }

    /** {@link #stop(Duration)} with the builder's shutdown timeout. */
    @Override
    public void close() {
        stop(shutdownTimeout);
    }

    /**
     * Builds an {@link HttpBalancer}. Not thread-safe. Defaults: no listener (one is required), no route
     * (one is required), {@link ProxyTimeouts#DEFAULT}, {@link ClientLimits#DEFAULT}, event loops = available
     * processors, native transport when available, access log off, shutdown timeout 10 s.
     */
    public static final class Builder {
        private final List<Listener> listeners = new ArrayList<>();
        private final List<Route> routes = new ArrayList<>();
        private ProxyTimeouts timeouts = ProxyTimeouts.DEFAULT;
        private ClientLimits limits = ClientLimits.DEFAULT;
        private int eventLoops = Runtime.getRuntime().availableProcessors();
        private TransportType transport = TransportType.AUTO;
        private boolean accessLog;
        private ErrorPages errorPages = ErrorPages.NONE;
        private Duration shutdownTimeout = Duration.ofSeconds(10);
        private int bufferSize = DEFAULT_BUFFER_SIZE;

        private Builder() {}

        /** Listens on {@code address} ({@code listen}); port 0 picks a free port. */
        public Builder listen(InetSocketAddress address) {
            return listen(Listener.of(address));
        }

        /**
         * Listens on {@code address} with TLS ({@code listen … ssl}); {@code serverContext} must be a server context
         * that does not offer h2 by ALPN (for HTTP/2, {@code listen(Listener)} with {@link Listener.Builder#http2}).
         */
        public Builder listen(InetSocketAddress address, SslContext serverContext) {
            return listen(Listener.builder(address).tls(serverContext).build());
        }

        /** Listens as {@code listener} says (TLS, PROXY protocol); in order of the calls, as the other {@code listen}s. */
        public Builder listen(Listener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        public Builder route(Route route) {
            routes.add(Objects.requireNonNull(route, "route"));
            return this;
        }

        /** The default timeouts (a route may have its own). */
        public Builder timeouts(ProxyTimeouts timeouts) {
            this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
            return this;
        }

        public Builder limits(ClientLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * The pages for the balancer's own errors (nginx's {@code error_page} at the {@code server} level):
         * all its errors, those before a request is routed (400, 404 without a route, 408, 414, 431, 501,
         * 503 over {@code maxConnections} …) included, except for requests routed to a route with pages of
         * its own ({@link Route.Builder#errorPages}). Default {@link ErrorPages#NONE}: built-in bodies.
         */
        public Builder errorPages(ErrorPages pages) {
            this.errorPages = Objects.requireNonNull(pages, "pages");
            return this;
        }

        /** Number of event loops (nginx {@code worker_processes}). Default: available processors. */
        public Builder eventLoops(int n) {
            this.eventLoops = Checks.positive(n, "eventLoops");
            return this;
        }

        /** Whether to use native epoll when available. Default true. */
        public Builder nativeTransport(boolean on) {
            this.transport = on ? TransportType.AUTO : TransportType.NIO;
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
         * The most bytes one read takes from a client's or an upstream's socket before they are passed on
         * (default {@link #DEFAULT_BUFFER_SIZE}, 32 KiB; {@link #MIN_BUFFER_SIZE} to {@link
         * #MAX_BUFFER_SIZE}), as HAProxy's {@code tune.bufsize} bounds what it reads at once. Reads start
         * smaller and grow up to it while they come back full; a value that is not a power of two caps
         * them at the power of two below it. It bounds neither a head (see {@link ClientLimits}) nor a
         * body, which streams through in reads of at most this size. Why not 64 KiB: a 64 KiB write is
         * one segment and a runt on loopback, and a 64 MiB body moved 8.8 and 9.0 Gbit/s with 64 KiB
         * reads against 10.2 and 9.5 with 32 KiB in two of our runs (epoll).
         *
         * @throws IllegalArgumentException naming the value when it is out of range
         */
        public Builder bufferSize(int bytes) {
            this.bufferSize = Checks.inRange(bytes, MIN_BUFFER_SIZE, MAX_BUFFER_SIZE, "bufferSize");
            return this;
        }

        /** Logs every request to the SLF4J logger {@code dev.lbkit.l7.access} at INFO. Default off. */
        public Builder accessLog(boolean on) {
            this.accessLog = on;
            return this;
        }

        /** How long {@link HttpBalancer#close()} waits for requests in flight. Default 10 s. */
        public Builder shutdownTimeout(Duration d) {
            this.shutdownTimeout = Checks.positiveOrZero(d, "shutdownTimeout");
            return this;
        }

        /**
         * @throws IllegalStateException without a listener or a route
         */
        public HttpBalancer build() {
            if (listeners.isEmpty()) {
                throw new IllegalStateException("a balancer needs at least one listen address");
            }
            if (routes.isEmpty()) {
                throw new IllegalStateException("a balancer needs at least one route");
            }
            return new HttpBalancer(this);
        }
    }
}
