package dev.lbkit.l4;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.l4.internal.Listener;
import dev.lbkit.l4.internal.ServiceState;
import dev.lbkit.l4.internal.UdpProxy;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * A running virtual service of an {@link L4Balancer}: where it listens, its real servers, and the
 * ipvsadm operations on them ({@code -a}, {@code -e}, {@code -d}, {@code -E}). Changes apply to new
 * connections only; established connections are never disturbed, but for
 * {@link VirtualService#nodestConn()}.
 *
 * <p>Thread-safe. Its {@link #pool()} is the lb-api pool whose members are the real servers, so that
 * lb-api health policies and listeners attach to it.
 */
public final class VirtualServer {
    private final L4Balancer balancer;
    private final ServiceState state;
    private final Listener listener;
    private final InetSocketAddress localAddress;

    VirtualServer(L4Balancer balancer, ServiceState state, Listener listener, InetSocketAddress localAddress) {
        this.balancer = balancer;
        this.state = state;
        this.listener = listener;
        this.localAddress = localAddress;
        state.listener(listener);
    }

    /** The address the service listens on (the actual port when configured with port 0). */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    public Protocol protocol() {
        return state.config().protocol();
    }

    /** The configuration in force (the last {@link #edit}). */
    public VirtualService config() {
        return state.config();
    }

    /** The pool of real servers. Add and remove real servers through this class, so counters follow. */
    public UpstreamPool pool() {
        return state.pool();
    }

    /** The real servers now, in the order added. */
    public List<RealServer> realServers() {
        return state.realServers();
    }

    /**
     * {@code ipvsadm -a}: adds a real server. One removed and still in the trash is taken back, and a
     * drop of its entries ({@link NodestConn#DROP}) ends: UDP datagrams pass from when this returns,
     * TCP connections read again on their event loops shortly after.
     *
     * @throws IllegalArgumentException if one with the same address is present
     */
    public VirtualServer addRealServer(RealServer realServer) {
        state.addRealServer(Objects.requireNonNull(realServer, "realServer"));
        return this;
    }

    /**
     * {@code ipvsadm -e}: changes a real server's weight or thresholds. Weight 0 quiesces it: no new
     * connections, established ones finish.
     *
     * @throws IllegalArgumentException if no real server has that address
     */
    public VirtualServer editRealServer(RealServer realServer) {
        state.editRealServer(Objects.requireNonNull(realServer, "realServer"));
        return this;
    }

    /**
     * {@code ipvsadm -d}: removes a real server. Its established connections finish, or, as
     * {@link VirtualService#nodestConn()} says: under {@code DROP} what their clients send is dropped
     * (UDP datagrams from when this returns, TCP connections stop reading on their event loops shortly
     * after) until it is added back; under {@code EXPIRE} they are expired (TCP connections reset on both
     * sides, UDP flows forgotten so that their next datagram is scheduled again) on their event loops
     * shortly after this returns, and its persistence templates are expired before it returns.
     *
     * @return whether it was present
     */
    public boolean removeRealServer(InetSocketAddress address) {
        return state.removeRealServer(Objects.requireNonNull(address, "address"));
    }

    /**
     * {@code ipvsadm -E}: changes the scheduler, persistence, limits, timeouts towards real servers,
     * PROXY protocol, failover or sorry server for new connections. The protocol, address, health policy
     * and real servers of {@code edited} are ignored: the service keeps its listener, pool and real servers.
     * The persistence templates and the holds of connections on them stay, as IPVS: while the service
     * stays persistent each template keeps the timeout it was made with, and after a netmask change serves
     * only clients whose new network is its own; turning persistence off leaves them listed (and counted
     * in PersistConn) but unconsulted until they expire, and turning it back on before then uses them again.
     *
     * @throws IllegalArgumentException if {@code edited} has another protocol
     */
    public VirtualServer edit(VirtualService edited) {
        state.edit(Objects.requireNonNull(edited, "edited"));
        return this;
    }

    /** The counters of this service and its real servers. */
    public IpvsStats.Service stats() {
        return state.stats();
    }

    /**
     * Adds this service's connection entries (TCP connections or UDP flows, then persistence templates),
     * at most {@code limit} in {@code out}; returns how many it has.
     */
    int connections(int limit, List<IpvsConnections.Entry> out) {
        int n = listener instanceof UdpProxy ? ((UdpProxy) listener).entries(limit, out) : state.tcpEntries(limit, out);
        return n + state.templateEntries(limit, out);
    }

    /** {@code ipvsadm -D}: stops listening; established connections finish. Idempotent. */
    public void delete() {
        balancer.remove(this);
    }

    ServiceState state() {
        return state;
    }

    void closeListener() {
        listener.close();
    }

    @Override
    public String toString() {
        return state.config().protocol() + " " + IpvsTable.addrPort(localAddress) + " " + state.schedulerName();
    }
}
