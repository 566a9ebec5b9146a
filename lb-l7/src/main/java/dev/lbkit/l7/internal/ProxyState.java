package dev.lbkit.l7.internal;

import dev.lbkit.api.Member;
import dev.lbkit.l7.ClientLimits;
import dev.lbkit.l7.Http2Options;
import dev.lbkit.l7.ProxyTimeouts;
import dev.lbkit.l7.QueueStats;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.TrafficStats;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.transport.internal.TcpReads;
import dev.lbkit.transport.internal.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every connection handler of one balancer shares: configuration (routes replaced as a whole),
 * counters, the per-event-loop upstream connection pools, the set of open client connections and every
 * open channel.
 * Thread-safe.
 */
public final class ProxyState {
    final ProxyTimeouts timeouts;
    final ClientLimits limits;
    final Transport transport;
    private final int bufferSize;
    private final RecvByteBufAllocator reads;
    final boolean accessLog;
    /** The balancer's error pages. */
    final ErrorResponses errorPages;
    private volatile RouteTable routes;
    private final ConcurrentMap<String, TrafficCounters> routeCounters = new ConcurrentHashMap<>();
    private final ConcurrentMap<Member, TrafficCounters> upstreamCounters = new ConcurrentHashMap<>();
    private volatile Map<EventLoop, UpstreamConnectionPool> pools = Map.of();
    final Set<FrontendHandler> frontends = ConcurrentHashMap.newKeySet();
    /** The open HTTP/2 client connections (their streams' frontends are among {@link #frontends}). */
    final Set<Http2Frontend> http2Connections = ConcurrentHashMap.newKeySet();
    /** Every open client channel, so that a stop closes them all; closed ones leave by themselves. */
    private final ChannelGroup clientChannels = new DefaultChannelGroup("lbkit-l7-clients", GlobalEventExecutor.INSTANCE);
    /** Every open upstream channel, likewise. */
    private final ChannelGroup upstreamChannels =
            new DefaultChannelGroup("lbkit-l7-upstreams", GlobalEventExecutor.INSTANCE);
    final AtomicInteger connections = new AtomicInteger();
    private final LongAdder malformedProxyHeaders = new LongAdder();
    volatile boolean stopping;
    final OffLoopResolverGroup resolvers = new OffLoopResolverGroup();
    final GroupQueues queues = new GroupQueues();
    /** The route limits' tables, by limit instance; guarded by itself. */
    private final Map<Object, LimitTable> limitTables = new IdentityHashMap<>();

    public ProxyState(List<Route> routes, ProxyTimeouts timeouts, ClientLimits limits, Transport transport,
            boolean accessLog, dev.lbkit.l7.ErrorPages errorPages, int bufferSize) {
        this.bufferSize = bufferSize;
        this.reads = TcpReads.allocator(bufferSize);
        this.timeouts = timeouts;
        this.errorPages = ErrorResponses.of(errorPages);
        this.limits = limits;
        this.transport = transport;
        this.accessLog = accessLog;
        this.routes = newRouteTable(routes);
    }

    public Transport transport() {
        return transport;
    }

    /** The most bytes one read takes from a client's or an upstream's socket. */
    public int bufferSize() {
        return bufferSize;
    }

    /** The read-size policy of every client and upstream channel: shared, it keeps no state of its own. */
    public RecvByteBufAllocator reads() {
        return reads;
    }

    public ClientLimits limits() {
        return limits;
    }

    public void routes(List<Route> routes) {
        this.routes = newRouteTable(routes);
    }

    /**
     * The route table of {@code routes}, whose limits keep the tables they had in the routes before (the
     * same limit instance, the same table: an nginx zone survives a reload); the tables of limits no route
     * has any more go.
     */
    private RouteTable newRouteTable(List<Route> routes) {
        synchronized (limitTables) {
            Map<Object, LimitTable> used = new IdentityHashMap<>();
            RouteTable t = new RouteTable(routes, routeCounters, queues, l -> used.computeIfAbsent(l, k -> {
                LimitTable old = limitTables.get(k);
                return old != null ? old : RouteLimits.newTable(k);
            }));
            limitTables.clear();
            limitTables.putAll(used);
            return t;
        }
    }

    RouteTable routeTable() {
        return routes;
    }

    /** Creates one upstream connection pool per event loop; called once before listening. */
    public void eventLoops(Iterable<EventLoop> loops) {
        Map<EventLoop, UpstreamConnectionPool> m = new HashMap<>();
        for (EventLoop l : loops) {
            m.put(l, new UpstreamConnectionPool(l));
        }
        pools = Map.copyOf(m);
    }

    UpstreamConnectionPool pool(EventLoop loop) {
        return pools.get(loop);
    }

    /** Stops the host-name lookup thread (after the event loops are gone). */
    public void closeResolvers() {
        resolvers.shutdown();
    }

    /** Has {@link #closeAllChannels()} close the client channel {@code ch} if it is still open then. */
    void trackClient(Channel ch) {
        clientChannels.add(ch);
    }

    /** Has {@link #closeAllChannels()} close the upstream channel {@code ch} if it is still open then. */
    void trackUpstream(Channel ch) {
        upstreamChannels.add(ch);
    }

    TrafficCounters upstreamCounters(Member m, UpstreamGroup group) {
        TrafficCounters c = upstreamCounters.get(m);
        if (c == null) {
            c = upstreamCounters.computeIfAbsent(m, k -> new TrafficCounters(group.name() + "/" + k.upstream().key()));
        }
        return c;
    }

    public Map<String, TrafficStats> routeStats() {
        Map<String, TrafficStats> out = new HashMap<>();
        routeCounters.forEach((k, v) -> out.put(k, v.snapshot()));
        return out;
    }

    public Map<String, TrafficStats> upstreamStats() {
        Map<String, TrafficStats> out = new HashMap<>();
        for (TrafficCounters c : upstreamCounters.values()) {
            out.merge(c.name, c.snapshot(), (a, b) -> b);
        }
        return out;
    }

    /** The request queues' counters, by group name. */
    public Map<String, QueueStats> queueStats() {
        return queues.stats();
    }

    public int openConnections() {
        return connections.get();
    }

    /** Counts a client closed for a malformed, missing or late PROXY header. */
    void malformedProxyHeader() {
        malformedProxyHeaders.increment();
    }

    public long malformedProxyHeaders() {
        return malformedProxyHeaders.sum();
    }

    /**
     * Starts a graceful stop: idle clients are closed, busy ones after their current response; HTTP/2 clients
     * get GOAWAY and are closed once their open streams are done.
     */
    public void beginStop() {
        stopping = true;
        for (FrontendHandler f : frontends) {
            f.stopGracefully();
        }
        for (Http2Frontend c : http2Connections) {
            c.stopGracefully();
        }
    }

    /** Whether no client connection is busy with a request. */
    public boolean quiescent() {
        for (FrontendHandler f : frontends) {
            if (f.busy()) {
                return false;
            }
        }
        return true;
    }

    /** Answers 503 to every request still waiting in a queue (the stop's deadline has passed). */
    public void rejectQueued() {
        List<Future<?>> written = new ArrayList<>();
        for (FrontendHandler f : frontends) {
            Future<?> w = f.rejectIfQueued();
            if (w != null) {
                written.add(w);
            }
        }
        // Before the event loops shut down, which closes every channel before running what is queued.
        for (Future<?> w : written) {
            w.awaitUninterruptibly(1000);
        }
    }

    /** Has the queues follow their pools' changes (before listening). */
    public void openQueues() {
        queues.listen();
    }

    /** Stops the queues following their pools (after the event loops are gone). */
    public void closeQueues() {
        queues.close();
    }

    /**
     * Closes every client connection, then every upstream connection, and waits until they are closed. Before the event
     * loops shut down: a loop shut down with channels open closes them itself, and on io_uring their close
     * then completes after the loop has terminated, which Netty reports as a rejected task.
     */
    public void closeAllChannels() {
        // Clients first: an upstream closed before its client would have the client answered 502 instead
        // of cut off.
        clientChannels.close().awaitUninterruptibly();
        upstreamChannels.close().awaitUninterruptibly();
    }

    public FrontendHandler newFrontend(boolean tls) {
        return new FrontendHandler(this, tls);
    }

    /**
     * The handler that turns {@code frontend}'s connection to HTTP/2 when the client asks for it (ALPN on a
     * TLS connection, the prior-knowledge preface on a cleartext one), to go right before its decoder.
     */
    public ChannelHandler newHttp2Switch(FrontendHandler frontend, Http2Options options, boolean tls,
            RealAddress.Config realIp) {
        return Http2Switch.newHandler(frontend, options, this, tls, realIp);
    }

    /**
     * The handlers that read a client's PROXY header, to go first in its pipeline (before TLS): Netty's
     * decoder, which leaves the pipeline once the header is read, and one that gives {@code frontend} the
     * addresses it names and leaves too.
     */
    public ChannelHandler[] newProxyHeaderReaders(FrontendHandler frontend) {
        frontend.expectProxyHeader();
        return new ChannelHandler[] {new HAProxyMessageDecoder(true), new ProxyHeaderReader(frontend)};
    }
}
