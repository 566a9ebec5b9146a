package dev.lbkit.l4;

import dev.lbkit.api.health.HealthPolicy;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.scheduler.Schedulers;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The configuration of one virtual service, as {@code ipvsadm -A -t|-u addr:port -s scheduler -p timeout}
 * plus what a user-space balancer adds (connect timeout, failover, PROXY protocol, health, sorry server).
 * An immutable value, built with {@link #builder(Protocol, InetSocketAddress)}; the forward method is
 * always masquerading ({@code -m}, "Masq"): replies return through the balancer.
 *
 * <p>The {@linkplain #healthPolicy() health policy} is the one stateful part: it belongs to the pool of
 * the one service started from this configuration and must not be shared.
 */
public final class VirtualService {
    /** Default connect timeout towards a real server: 5 s. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** Default bound on the UDP flow table: 65536 flows. */
    public static final int DEFAULT_MAX_FLOWS = 65536;

    private final Protocol protocol;
    private final InetSocketAddress address;
    private final String scheduler;
    private final Duration persistence;
    private final int persistenceNetmask;
    private final boolean expireQuiescentTemplate;
    private final NodestConn nodestConn;
    private final int maxConnections;
    private final Duration connectTimeout;
    private final boolean failover;
    private final ProxyProtocol proxyProtocol;
    private final boolean acceptProxyProtocol;
    private final HealthPolicy healthPolicy;
    private final FailureAction failureAction;
    private final InetSocketAddress sorryServer;
    private final int maxFlows;
    private final boolean onePacket;
    private final List<RealServer> realServers;

    private VirtualService(Builder b) {
        this.protocol = b.protocol;
        this.address = b.address;
        this.scheduler = b.scheduler;
        this.persistence = b.persistence;
        this.persistenceNetmask = b.persistenceNetmask;
        this.expireQuiescentTemplate = b.expireQuiescentTemplate;
        this.nodestConn = b.nodestConn;
        this.maxConnections = b.maxConnections;
        this.connectTimeout = b.connectTimeout;
        this.failover = b.failover;
        this.proxyProtocol = b.proxyProtocol;
        this.acceptProxyProtocol = b.acceptProxyProtocol;
        this.healthPolicy = b.healthPolicy;
        this.failureAction = b.failureAction;
        this.sorryServer = b.sorryServer;
        this.maxFlows = b.maxFlows;
        this.onePacket = b.onePacket;
        this.realServers = Collections.unmodifiableList(new ArrayList<>(b.realServers.values()));
    }

    /** A builder for a service of {@code protocol} listening on {@code address} (port 0: any free port). */
    public static Builder builder(Protocol protocol, InetSocketAddress address) {
        return new Builder(protocol, address);
    }

    /** A TCP service ({@code ipvsadm -A -t}). */
    public static Builder tcp(InetSocketAddress address) {
        return builder(Protocol.TCP, address);
    }

    /** A UDP service ({@code ipvsadm -A -u}). */
    public static Builder udp(InetSocketAddress address) {
        return builder(Protocol.UDP, address);
    }

    /** A builder holding this configuration, to derive an edited copy ({@code ipvsadm -E}). */
    public Builder toBuilder() {
        Builder b = new Builder(protocol, address).scheduler(scheduler).persistence(persistence)
                .maxConnections(maxConnections).connectTimeout(connectTimeout)
                .failover(failover).proxyProtocol(proxyProtocol).acceptProxyProtocol(acceptProxyProtocol)
                .healthPolicy(healthPolicy).failureAction(failureAction).maxFlows(maxFlows)
                .expireQuiescentTemplate(expireQuiescentTemplate).nodestConn(nodestConn).onePacket(onePacket);
        b.sorryServer = sorryServer;
        b.persistenceNetmask = persistenceNetmask;
        realServers.forEach(b::realServer);
        return b;
    }

    public Protocol protocol() {
        return protocol;
    }

    /** Where the service listens (as configured; port 0 means the balancer picks one). */
    public InetSocketAddress address() {
        return address;
    }

    /** The scheduler spec ({@code rr}, {@code wlc}, {@code mh:table-size=251} ...), default {@code wlc} as ipvsadm. */
    public String scheduler() {
        return scheduler;
    }

    /** Persistence timeout ({@code -p}); zero (the default) means no persistence. */
    public Duration persistence() {
        return persistence;
    }

    /**
     * Persistence granularity ({@code -M}) as a prefix length; the default (32 for IPv4, 128 for IPv6)
     * is one client address.
     */
    public int persistenceNetmask() {
        return persistenceNetmask;
    }

    /**
     * Whether a persistent client whose template points at a quiesced real server (weight 0) is
     * scheduled anew at its next connection, as IPVS with {@code net.ipv4.vs.expire_quiescent_template = 1}
     * (where it is one setting for all services; here it is per service). Default {@code false}, IPVS's
     * default: a real server of weight 0 keeps receiving the clients whose templates point at it until
     * the templates expire. An overloaded real server ({@code -x}) keeps them either way, and one that
     * is removed, marked down or failed by a health check (whatever its {@link #failureAction()}) loses
     * them either way. Without {@link #persistence()} it has no effect.
     */
    public boolean expireQuiescentTemplate() {
        return expireQuiescentTemplate;
    }

    /**
     * One-packet scheduling ({@code ipvsadm -o}, {@code --ops}), UDP services only; default {@code false}.
     * Each datagram is scheduled on its own, as a connection that ends once the datagram is forwarded:
     * Conns counts every datagram, thresholds ({@code -x}) and {@link #maxConnections()} are checked per
     * datagram, and a persistence template's lease ends with it, so that with {@link #persistence()} a
     * client still sticks to its real server until the template expires. Without it a client's datagrams
     * form a flow, all sent to the real server its first one was scheduled to. Replies still reach the
     * client: per client and real server, a reply socket stays open until the {@code udp} idle timeout,
     * counted in {@link #maxFlows()}, and not listed by {@code -lnc} (an IPVS one-packet entry is freed
     * at once). For request-per-datagram protocols such as DNS, it spreads one client's queries over the
     * real servers.
     */
    public boolean onePacket() {
        return onePacket;
    }

    /**
     * What removing a real server ({@link VirtualServer#removeRealServer}, {@code ipvsadm -d}) does to its
     * connection entries, as IPVS's {@code net.ipv4.vs.expire_nodest_conn} (one setting for all services
     * there, per service here). Default {@link NodestConn#FORWARD}: they go on to the removed real server
     * until they end on their own, which is the graceful choice (nothing is cut or stalled) and is not
     * IPVS's default.
     *
     * <p>{@link NodestConn#DROP} is IPVS's default {@code expire_nodest_conn = 0}, which drops every
     * packet a client sends on them while replies pass. Each TCP connection to the removed real server
     * stops reading from its client (what the client sends waits in the kernel's buffers, as dropped
     * segments wait for their retransmission; a bit the balancer had already taken in when the drop
     * began may still be forwarded), while what the real server sends still reaches the client; the
     * client's FIN waits too. Each UDP flow to it drops its client's datagrams, counted in
     * {@link IpvsStats.Service#nodestDropped()}, and still passes replies. Dropped datagrams and unread
     * bytes do not renew the entry's idle timer ({@code tcp}, {@code udp}), replies do, as IPVS restarts
     * no timer for a dropped packet: the entry ends at its idle timeout unless the real server is added
     * back first ({@link VirtualServer#addRealServer} while it is in the trash), whereupon the stalled
     * bytes are read and forwarded and datagrams pass again.
     *
     * <p>{@link NodestConn#EXPIRE} is IPVS's {@code expire_nodest_conn = 1} as Linux 5.9 and later apply
     * it: each of the removed real server's TCP connections is reset on both sides (SO_LINGER 0), as an
     * IPVS client whose entry was expired gets a reset from the director's own stack at its next segment,
     * and leaves the connection table at once (no TIME_WAIT entry for the tcpfin timeout), as do its closed
     * connections still counted there; a connection still being connected to it is reset too. Each UDP
     * flow to it is forgotten, so that the client's next datagram is scheduled to another real server;
     * replies the removed real server sends after that are dropped. The leases of these entries on
     * persistence templates are released, and the persistence templates pointing at the removed real
     * server are expired at the removal, as Linux 5.9's flush expires them: their clients are scheduled
     * anew, also if it is added back.
     *
     * <p>Under {@code DROP} and {@code EXPIRE} the entries change on each connection's own event loop
     * shortly after the removal, unless the real server is a destination again by then (added back). As
     * IPVS reads the sysctl at each packet, {@link VirtualServer#edit} changing it (or the
     * {@link #failureAction()}) applies the new mode at once to the entries of real servers that stopped
     * being destinations before: {@code EXPIRE} expires them, {@code DROP} stalls them, {@code FORWARD}
     * ends a drop and delivers what waited. A real server failed by a health check under {@link FailureAction#REMOVE} (the default) is
     * what keepalived deletes with {@code ipvsadm -d}, so its entries are dropped or expired the same way
     * at the failure, and a drop ends when its check is back up; under {@link FailureAction#INHIBIT}
     * (weight 0, still a destination) and when marked down by an operator nothing changes. The sorry
     * server's connections are never touched: when a real server is available again they finish on
     * their own.
     */
    public NodestConn nodestConn() {
        return nodestConn;
    }

    /**
     * Whether {@link #nodestConn()} is {@link NodestConn#EXPIRE}, IPVS's {@code expire_nodest_conn = 1}.
     */
    public boolean expireNodestConn() {
        return nodestConn == NodestConn.EXPIRE;
    }

    /** Most client connections (TCP) or flows (UDP) at once; 0 (the default) means no limit. */
    public int maxConnections() {
        return maxConnections;
    }

    /** How long a connect to a real server may take (default {@link #DEFAULT_CONNECT_TIMEOUT}). */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /**
     * Whether a failed connect moves the client to the next real server (default {@code true}); no
     * client byte has been forwarded at that point, so the client cannot tell.
     */
    public boolean failover() {
        return failover;
    }

    /**
     * The PROXY protocol header sent to real servers (default {@link ProxyProtocol#NONE}). TCP: once,
     * before the client's first byte, V1 or V2. UDP: V2 only (the DGRAM transport, {@code 0x12}/{@code 0x22}),
     * before every datagram, naming the client and the virtual address.
     */
    public ProxyProtocol proxyProtocol() {
        return proxyProtocol;
    }

    /**
     * Whether clients must start with a PROXY protocol header from a front balancer, whose source address
     * then stands for the client (default {@code false}). TCP: a v1 or v2 header first on each
     * connection; a client that sends none within {@link #connectTimeout()} is closed, a malformed header
     * closes it at once. UDP: a v2 DGRAM (or LOCAL) header first in every datagram, removed before
     * forwarding; a datagram without a valid one is dropped. Both are counted in
     * {@link IpvsStats.Service#malformedProxyHeaders()}.
     */
    public boolean acceptProxyProtocol() {
        return acceptProxyProtocol;
    }

    /** The health policy of the service's pool (default {@link HealthPolicy#none()}). */
    public HealthPolicy healthPolicy() {
        return healthPolicy;
    }

    /** What a failed health check does to a real server (default {@link FailureAction#REMOVE}). */
    public FailureAction failureAction() {
        return failureAction;
    }

    /** Where clients go when no real server is available (keepalived {@code sorry_server}); empty by default. */
    public Optional<InetSocketAddress> sorryServer() {
        return Optional.ofNullable(sorryServer);
    }

    /** Bound on the UDP flow table (default {@value #DEFAULT_MAX_FLOWS}); new flows beyond it are dropped. */
    public int maxFlows() {
        return maxFlows;
    }

    /** The initial real servers, in the order added. */
    public List<RealServer> realServers() {
        return realServers;
    }

    @Override
    public String toString() {
        return protocol + " " + address + " " + scheduler + (persistence.isZero() ? "" : " persistent " + persistence.toSeconds())
                + (onePacket ? " ops" : "");
    }

    /**
     * Builds a {@link VirtualService}. Not thread-safe. Every option's default is documented on its getter.
     */
    public static final class Builder {
        private final Protocol protocol;
        private final InetSocketAddress address;
        private String scheduler = "wlc";
        private Duration persistence = Duration.ZERO;
        private int persistenceNetmask = -1;
        private boolean expireQuiescentTemplate;
        private NodestConn nodestConn = NodestConn.FORWARD;
        private int maxConnections;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private boolean failover = true;
        private ProxyProtocol proxyProtocol = ProxyProtocol.NONE;
        private boolean acceptProxyProtocol;
        private HealthPolicy healthPolicy = HealthPolicy.none();
        private FailureAction failureAction = FailureAction.REMOVE;
        private InetSocketAddress sorryServer;
        private int maxFlows = DEFAULT_MAX_FLOWS;
        private boolean onePacket;
        private final Map<InetSocketAddress, RealServer> realServers = new LinkedHashMap<>();

        private Builder(Protocol protocol, InetSocketAddress address) {
            this.protocol = Objects.requireNonNull(protocol, "protocol");
            this.address = Objects.requireNonNull(address, "address");
        }

        public Builder scheduler(String scheduler) {
            this.scheduler = Checks.notBlank(scheduler, "scheduler");
            return this;
        }

        public Builder persistence(Duration timeout) {
            this.persistence = Checks.positiveOrZero(timeout, "persistence");
            return this;
        }

        public Builder persistenceNetmask(int prefixLength) {
            this.persistenceNetmask = Checks.inRange(prefixLength, 0, 128, "persistenceNetmask");
            return this;
        }

        /** See {@link VirtualService#expireQuiescentTemplate()}. */
        public Builder expireQuiescentTemplate(boolean expireQuiescentTemplate) {
            this.expireQuiescentTemplate = expireQuiescentTemplate;
            return this;
        }

        /** See {@link VirtualService#nodestConn()}. */
        public Builder nodestConn(NodestConn nodestConn) {
            this.nodestConn = Objects.requireNonNull(nodestConn, "nodestConn");
            return this;
        }

        /**
         * IPVS's sysctl as a boolean: {@code true} is {@link NodestConn#EXPIRE} ({@code expire_nodest_conn
         * = 1}), {@code false} lbkit's default {@link NodestConn#FORWARD} (not IPVS's 0, which is
         * {@link NodestConn#DROP}). See {@link VirtualService#nodestConn()}.
         */
        public Builder expireNodestConn(boolean expireNodestConn) {
            return nodestConn(expireNodestConn ? NodestConn.EXPIRE : NodestConn.FORWARD);
        }

        public Builder maxConnections(int maxConnections) {
            this.maxConnections = Checks.positiveOrZero(maxConnections, "maxConnections");
            return this;
        }

        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = Checks.positive(connectTimeout, "connectTimeout");
            return this;
        }

        public Builder failover(boolean failover) {
            this.failover = failover;
            return this;
        }

        public Builder proxyProtocol(ProxyProtocol proxyProtocol) {
            this.proxyProtocol = Objects.requireNonNull(proxyProtocol, "proxyProtocol");
            return this;
        }

        public Builder acceptProxyProtocol(boolean acceptProxyProtocol) {
            this.acceptProxyProtocol = acceptProxyProtocol;
            return this;
        }

        public Builder healthPolicy(HealthPolicy healthPolicy) {
            this.healthPolicy = Objects.requireNonNull(healthPolicy, "healthPolicy");
            return this;
        }

        public Builder failureAction(FailureAction failureAction) {
            this.failureAction = Objects.requireNonNull(failureAction, "failureAction");
            return this;
        }

        public Builder sorryServer(InetSocketAddress sorryServer) {
            this.sorryServer = Objects.requireNonNull(sorryServer, "sorryServer");
            return this;
        }

        public Builder maxFlows(int maxFlows) {
            this.maxFlows = Checks.positive(maxFlows, "maxFlows");
            return this;
        }

        /** See {@link VirtualService#onePacket()}. */
        public Builder onePacket(boolean onePacket) {
            this.onePacket = onePacket;
            return this;
        }

        /**
         * Adds a real server ({@code ipvsadm -a}).
         *
         * @throws IllegalArgumentException if one with the same address was added already
         */
        public Builder realServer(RealServer realServer) {
            Objects.requireNonNull(realServer, "realServer");
            if (realServers.putIfAbsent(realServer.address(), realServer) != null) {
                throw new IllegalArgumentException("duplicate real server " + realServer.address());
            }
            return this;
        }

        /** Adds a real server with weight 1. */
        public Builder realServer(InetSocketAddress address) {
            return realServer(RealServer.of(address));
        }

        /**
         * Builds the configuration.
         *
         * @throws IllegalArgumentException for an unknown scheduler, an unresolved address, PROXY protocol
         *     {@link ProxyProtocol#V1} on a UDP service, or {@link #onePacket} on a TCP service
         */
        public VirtualService build() {
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("service address must be resolved, got " + address);
            }
            Schedulers.provider(scheduler.indexOf(':') < 0 ? scheduler : scheduler.substring(0, scheduler.indexOf(':')));
            if (protocol == Protocol.UDP && proxyProtocol == ProxyProtocol.V1) {
                throw new IllegalArgumentException("PROXY protocol V1 is a text header for TCP streams only; a UDP "
                        + "service " + address + " can send V2 (DGRAM) headers");
            }
            if (protocol == Protocol.TCP && onePacket) {
                throw new IllegalArgumentException("one-packet scheduling (--ops) is for UDP services only, not the "
                        + "TCP service " + address);
            }
            boolean v6 = address.getAddress() instanceof java.net.Inet6Address;
            if (persistenceNetmask < 0) {
                persistenceNetmask = v6 ? 128 : 32;
            } else if (!v6 && persistenceNetmask > 32) {
                throw new IllegalArgumentException("persistenceNetmask of an IPv4 service must be in 0..32, got "
                        + persistenceNetmask);
            }
            return new VirtualService(this);
        }
    }
}
