package dev.lbkit.l4;

import dev.lbkit.api.internal.Checks;
import dev.lbkit.l4.internal.Listener;
import dev.lbkit.l4.internal.NettyTransport;
import dev.lbkit.l4.internal.ServiceState;
import dev.lbkit.l4.internal.TcpProxy;
import dev.lbkit.l4.internal.UdpProxy;
import dev.lbkit.transport.TransportType;
import dev.lbkit.transport.internal.TcpReads;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A user-space IPVS: NAT-style ("Masq") TCP and UDP virtual services on Netty, each spreading clients
 * over its real servers with an lb-api scheduler. What {@code ipvsadm -A/-E/-D/-a/-e/-d} does in the
 * kernel, this does in code:
 *
 * <pre>{@code
 * try (L4Balancer lb = L4Balancer.builder().build()) {
 *     VirtualServer vs = lb.addService(VirtualService.tcp(new InetSocketAddress("127.0.100.1", 8080))
 *             .scheduler("rr").build());                                   // ipvsadm -A -t ... -s rr
 *     vs.addRealServer(RealServer.of("127.0.0.1", 8081));                  // ipvsadm -a ... -m
 *     vs.addRealServer(RealServer.of("127.0.0.1", 8082));
 *     System.out.print(IpvsTable.render(lb.stats()));                      // ipvsadm -ln
 * }
 * }</pre>
 *
 * <p>Thread-safe. Adding and deleting services block until the listener is bound or closed: do not
 * call them from a Netty event loop. Closing the balancer closes every connection and its I/O threads.
 */
public final class L4Balancer implements AutoCloseable {
    /** The connection table size shown in listings, as IPVS's default. */
    public static final int TABLE_SIZE = 4096;
    /** The most entries {@link #connections()} lists: 65536. */
    public static final int DEFAULT_CONNECTION_LIMIT = 65536;
    /** How long a removed real server is kept once idle, by default: 120 s, IPVS's IP_VS_DEST_TRASH_PERIOD. */
    public static final Duration DEFAULT_TRASH_PERIOD = Duration.ofSeconds(120);
    /** The most bytes one read or splice takes from a TCP socket, by default: 32 KiB. */
    public static final int DEFAULT_BUFFER_SIZE = TcpReads.DEFAULT_SIZE;
    /** The least {@link Builder#bufferSize} may be: 1 KiB. */
    public static final int MIN_BUFFER_SIZE = TcpReads.MIN_SIZE;
    /** The most {@link Builder#bufferSize} may be: 64 KiB, a kernel pipe's default capacity. */
    public static final int MAX_BUFFER_SIZE = TcpReads.MAX_SIZE;

    private final NettyTransport transport;
    private final Timeouts timeouts;
    private final Duration estimatorInterval;
    private final Duration trashPeriod;
    private final List<VirtualServer> services = new CopyOnWriteArrayList<>();
    private final ScheduledFuture<?> estimator;
    private final Object lock = new Object();
    private volatile boolean closed;

    private L4Balancer(Builder b) {
        this.transport = new NettyTransport(b.transport, b.ioThreads, b.zeroCopy, b.bufferSize);
        this.timeouts = b.timeouts;
        this.estimatorInterval = b.estimatorInterval;
        this.trashPeriod = b.trashPeriod;
        long period = estimatorInterval.toNanos();
        double seconds = period / 1e9;
        this.estimator = transport.group().next().scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            for (VirtualServer vs : services) {
                vs.state().estimate(seconds);
                vs.state().expireTrash(now);
                vs.state().forgetExpiredTemplates();
            }
        }, period, period, TimeUnit.NANOSECONDS);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * {@code ipvsadm -A}: starts a virtual service with its initial real servers and binds its listener.
     *
     * @throws IllegalArgumentException if a service of the same protocol and address runs already
     * @throws IllegalStateException    if the balancer is closed
     * @throws IllegalStateException    if the address cannot be bound (in use …): the cause is the error as
     *     the transport reports it
     */
    public VirtualServer addService(VirtualService service) {
        Objects.requireNonNull(service, "service");
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("balancer is closed");
            }
            if (service.address().getPort() != 0 && service(service.protocol(), service.address()).isPresent()) {
                throw new IllegalArgumentException("service " + service.protocol() + " " + service.address()
                        + " exists");
            }
            ServiceState state = new ServiceState(service, timeouts, trashPeriod);
            InetSocketAddress bound;
            Listener listener;
            try {
                if (service.protocol() == Protocol.TCP) {
                    TcpProxy p = new TcpProxy(state, transport);
                    bound = p.bind();
                    listener = p;
                } else {
                    UdpProxy p = new UdpProxy(state, transport);
                    bound = p.bind();
                    listener = p;
                }
            } catch (Exception e) {
                // Netty rethrows a failed bind's checked cause (BindException, a native "Address already in
                // use") as it is.
                state.pool().close();
                if (e instanceof RuntimeException) {
                    throw (RuntimeException) e;
                }
                throw new IllegalStateException("cannot listen on " + service.address() + ": " + e.getMessage(), e);
            }
            VirtualServer vs = new VirtualServer(this, state, listener, bound);
            services.add(vs);
            return vs;
        }
    }

    /** The running service of {@code protocol} bound to {@code address}, if any. */
    public Optional<VirtualServer> service(Protocol protocol, InetSocketAddress address) {
        for (VirtualServer vs : services) {
            if (vs.protocol() == protocol && vs.localAddress().equals(address)) {
                return Optional.of(vs);
            }
        }
        return Optional.empty();
    }

    /** The running services, in the order added. */
    public List<VirtualServer> services() {
        return List.copyOf(services);
    }

    void remove(VirtualServer vs) {
        synchronized (lock) {
            if (services.remove(vs)) {
                vs.closeListener();
                vs.state().pool().close();
            }
        }
    }

    /** {@code ipvsadm -C}: deletes every service; established connections finish. */
    public void clear() {
        for (VirtualServer vs : services()) {
            vs.delete();
        }
    }

    /** The snapshot {@link IpvsTable} renders. */
    public IpvsStats stats() {
        List<IpvsStats.Service> out = new ArrayList<>();
        for (VirtualServer vs : services) {
            out.add(vs.stats());
        }
        return new IpvsStats(TABLE_SIZE, timeouts, out);
    }

    /**
     * The connection table as {@code ipvsadm -lnc} lists it ({@link IpvsTable#renderConnections}), at
     * most {@link #DEFAULT_CONNECTION_LIMIT} entries. Blocks while each event loop reads its part (a loop
     * that does not answer within 5 s is left out): do not call it from a Netty event loop.
     */
    public IpvsConnections connections() {
        return connections(DEFAULT_CONNECTION_LIMIT);
    }

    /**
     * The connection table with at most {@code limit} entries; {@link IpvsConnections#total()} tells how
     * many there are. The cost is bounded by {@code limit} (plus a scan of each persistent service's
     * template table); forwarding does no work for it.
     *
     * @throws IllegalArgumentException if {@code limit} is negative
     */
    public IpvsConnections connections(int limit) {
        Checks.positiveOrZero(limit, "limit");
        List<IpvsConnections.Entry> out = new ArrayList<>();
        int total = 0;
        for (VirtualServer vs : services) {
            total += vs.connections(limit, out);
        }
        return new IpvsConnections(out, Math.max(total, out.size()));
    }

    /** The idle timeouts in force ({@code ipvsadm -L --timeout}). */
    public Timeouts timeouts() {
        return timeouts;
    }

    /**
     * Whether TCP bytes are forwarded with splice(2): {@link Builder#zeroCopy} was asked for and the
     * transport is epoll.
     */
    public boolean zeroCopy() {
        return transport.splice();
    }

    /** The most bytes one read or splice takes from a TCP socket ({@link Builder#bufferSize}). */
    public int bufferSize() {
        return transport.bufferSize();
    }

    /** {@code "epoll"}, {@code "io_uring"} or {@code "nio"}: the Netty transport in use. */
    public String transport() {
        return transport.name();
    }

    /** Closes every service and connection and stops the I/O threads. Blocks until done. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        estimator.cancel(false);
        clear();
        transport.channels().close().awaitUninterruptibly();
        transport.shutdown();
    }

    /**
     * Builds an {@link L4Balancer}. Not thread-safe. Defaults: {@link Timeouts#DEFAULT} (900 s, 120 s,
     * 300 s), native epoll transport when available, one I/O thread per core, rate estimation every 2 s,
     * TCP copied through 32 KiB reads (no splice), removed real servers kept {@link #DEFAULT_TRASH_PERIOD}
     * once idle.
     */
    public static final class Builder {
        private int ioThreads = Runtime.getRuntime().availableProcessors();
        private TransportType transport = TransportType.AUTO;
        private Timeouts timeouts = Timeouts.DEFAULT;
        private Duration estimatorInterval = Duration.ofSeconds(2);
        private Duration trashPeriod = DEFAULT_TRASH_PERIOD;
        private boolean zeroCopy;
        private int bufferSize = DEFAULT_BUFFER_SIZE;

        private Builder() {}

        /**
         * Whether TCP virtual services forward with splice(2), socket to kernel pipe to socket, instead
         * of copying through pooled buffers (default {@code false}, as HAProxy splices only with {@code
         * option splice-auto} and nginx never). Used only on the epoll transport; NIO and io_uring copy
         * whatever this says. Behaviour (half-close, reset, back-pressure, timeouts, counters, PROXY
         * headers) is the same. Splicing costs the balancer less CPU per byte (0.30 against 0.36 CPU
         * seconds per GB in our one-stream runs) but moved fewer bytes per second there (12.4 against 14.6
         * Gbit/s): on one host, the real server's own reads cost more (bytes no copy brought into a
         * cache). Turn it on where the balancer's CPU is the limit and its peers are on other hosts. While
         * bytes wait for a slow reader, a connection holds a kernel pipe (two file descriptors, at most
         * {@link #bufferSize} bytes in it) per direction, and where no pipe can be made it copies.
         */
        public Builder zeroCopy(boolean zeroCopy) {
            this.zeroCopy = zeroCopy;
            return this;
        }

        /**
         * The most bytes one read (copying) or one splice takes from a TCP socket before they are passed
         * on, as nginx's {@code proxy_buffer_size} in its {@code stream} module (default
         * {@link #DEFAULT_BUFFER_SIZE}, 32 KiB; {@link #MIN_BUFFER_SIZE} to {@link #MAX_BUFFER_SIZE}).
         * Copying, reads start smaller and grow up to it while they come back full; a value that is not a
         * power of two caps them at the power of two below it. Why not 64 KiB: a 64 KiB write is one
         * segment and a few bytes more on loopback, whose segments carry at most 65,483 bytes of data,
         * and such runts and the larger working set took a one-stream transfer from about 14.5 to 10
         * Gbit/s in our runs; 32 KiB keeps each write in one segment and in the CPU's cache.
         *
         * @throws IllegalArgumentException naming the value when it is out of range
         */
        public Builder bufferSize(int bytes) {
            this.bufferSize = Checks.inRange(bytes, MIN_BUFFER_SIZE, MAX_BUFFER_SIZE, "bufferSize");
            return this;
        }

        /** I/O threads (default: one per core). */
        public Builder ioThreads(int ioThreads) {
            this.ioThreads = Checks.positive(ioThreads, "ioThreads");
            return this;
        }

        /** Whether to use native epoll when available (default {@code true}); {@code false} forces NIO. Shorthand for {@link #transport}. */
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

        /** Idle timeouts per state, as {@code ipvsadm --set tcp tcpfin udp} (default {@link Timeouts#DEFAULT}). */
        public Builder timeouts(Timeouts timeouts) {
            this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
            return this;
        }

        /** How often rates are estimated (default 2 s, as IPVS's estimator). */
        public Builder estimatorInterval(Duration estimatorInterval) {
            this.estimatorInterval = Checks.positive(estimatorInterval, "estimatorInterval");
            return this;
        }

        /**
         * How long a removed real server ({@link VirtualServer#removeRealServer}, {@code ipvsadm -d}) is
         * kept after its last connection entry and persistence template are gone (default
         * {@link #DEFAULT_TRASH_PERIOD}, 120 s, IPVS's {@code IP_VS_DEST_TRASH_PERIOD}; 0 forgets it as soon
         * as it is found idle). While kept, adding it back to the same service ({@code -a}) resumes its
         * ActiveConn, InActConn, thresholds state, persistence templates and counters, as IPVS takes a
         * destination back from its trash; after, it starts again from zero. Checked on every estimator
         * tick ({@link #estimatorInterval}).
         */
        public Builder trashPeriod(Duration trashPeriod) {
            this.trashPeriod = Checks.positiveOrZero(trashPeriod, "trashPeriod");
            return this;
        }

        public L4Balancer build() {
            return new L4Balancer(this);
        }
    }
}
