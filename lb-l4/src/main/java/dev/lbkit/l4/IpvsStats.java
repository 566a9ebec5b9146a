package dev.lbkit.l4;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * A snapshot of a balancer's virtual services and their real servers with IPVS's counters, as
 * {@code ipvsadm -ln}, {@code --stats}, {@code --rate}, {@code --thresholds} and {@code --persistent-conn} show
 * them ({@link IpvsTable} renders it).
 * Immutable.
 *
 * <p>Packets in user space: the balancer does not see IP packets, so a "packet" is one read from a
 * socket (TCP: one read of up to a buffer of bytes; UDP: one datagram). {@code InPkts}/{@code InBytes}
 * count what came from clients, {@code OutPkts}/{@code OutBytes} what came back from real servers.
 *
 * @param tableSize the connection table size shown in the title line (IPVS's {@code size=4096})
 * @param timeouts  the idle timeouts in force
 * @param services  the virtual services, in the order they were added
 */
public record IpvsStats(int tableSize, Timeouts timeouts, List<Service> services) {
    /** Copies the list. */
    public IpvsStats {
        Objects.requireNonNull(timeouts, "timeouts");
        services = List.copyOf(services);
    }

    /**
     * Totals since the service or real server was added.
     *
     * @param conns    connections (TCP) or flows (UDP) established
     * @param inPkts   reads (datagrams) from clients
     * @param outPkts  reads (datagrams) from real servers
     * @param inBytes  bytes from clients
     * @param outBytes bytes from real servers
     */
    public record Counters(long conns, long inPkts, long outPkts, long inBytes, long outBytes) {}

    /**
     * Per-second rates, smoothed as the IPVS estimator does (sampled every two seconds, moving average
     * with weight 1/4).
     */
    public record Rates(long cps, long inPps, long outPps, long inBps, long outBps) {}

    /**
     * One virtual service.
     *
     * @param protocol           TCP or UDP
     * @param address            the address it listens on
     * @param scheduler          the scheduler's name
     * @param persistenceSeconds persistence timeout, 0 when not persistent
     * @param persistenceNetmask persistence granularity as a prefix length
     * @param counters           totals, the sorry server's traffic included
     * @param rates              rates
     * @param refused            clients refused because the service was at its connection limit
     * @param noDestination      clients turned away because no real server (nor sorry server) was available
     * @param realServers        the real servers, in the order they were added
     * @param malformedProxyHeaders with {@code acceptProxyProtocol}: TCP clients closed for a malformed
     *                           PROXY header, UDP datagrams dropped for a missing or malformed one
     * @param nodestDropped      with {@link NodestConn#DROP}: UDP datagrams from clients dropped because
     *                           their flow's real server is no longer a destination (TCP drops nothing to
     *                           count: the bytes wait unread)
     * @param onePacket          one-packet scheduling ({@code --ops}, {@link VirtualService#onePacket()})
     */
    public record Service(Protocol protocol, InetSocketAddress address, String scheduler, long persistenceSeconds,
            int persistenceNetmask, Counters counters, Rates rates, long refused, long noDestination,
            List<RealServerStats> realServers, long malformedProxyHeaders, long nodestDropped, boolean onePacket) {
        /** Copies the list. */
        public Service {
            realServers = List.copyOf(realServers);
        }

        /** A service without one-packet scheduling (the shape before {@code onePacket} was added). */
        public Service(Protocol protocol, InetSocketAddress address, String scheduler, long persistenceSeconds,
                int persistenceNetmask, Counters counters, Rates rates, long refused, long noDestination,
                List<RealServerStats> realServers, long malformedProxyHeaders, long nodestDropped) {
            this(protocol, address, scheduler, persistenceSeconds, persistenceNetmask, counters, rates, refused,
                    noDestination, realServers, malformedProxyHeaders, nodestDropped, false);
        }

        /** A service without dropped datagrams (the shape before {@code nodestDropped} was added). */
        public Service(Protocol protocol, InetSocketAddress address, String scheduler, long persistenceSeconds,
                int persistenceNetmask, Counters counters, Rates rates, long refused, long noDestination,
                List<RealServerStats> realServers, long malformedProxyHeaders) {
            this(protocol, address, scheduler, persistenceSeconds, persistenceNetmask, counters, rates, refused,
                    noDestination, realServers, malformedProxyHeaders, 0, false);
        }

        /** A service without malformed PROXY headers (the shape before {@code malformedProxyHeaders} was added). */
        public Service(Protocol protocol, InetSocketAddress address, String scheduler, long persistenceSeconds,
                int persistenceNetmask, Counters counters, Rates rates, long refused, long noDestination,
                List<RealServerStats> realServers) {
            this(protocol, address, scheduler, persistenceSeconds, persistenceNetmask, counters, rates, refused,
                    noDestination, realServers, 0, 0, false);
        }
    }

    /**
     * One real server of a service.
     *
     * @param address        its address
     * @param forward        the forward method: always {@code Masq}
     * @param weight         its weight as listed (0 while inhibited by a failed health check)
     * @param activeConns    IPVS ActiveConn: established connections
     * @param inactiveConns  IPVS InActConn: connections after their first FIN, for the tcpfin timeout
     *                       after they closed; UDP flows
     * @param upperThreshold {@code -x}, 0 when none
     * @param lowerThreshold {@code -y}, 0 when none
     * @param overloaded     whether the thresholds hold it back now
     * @param counters       totals
     * @param rates          rates
     * @param persistConns   IPVS PersistConn: live persistence templates (client networks of a
     *                       persistent service) kept on this server; 0 when the service is not persistent
     */
    public record RealServerStats(InetSocketAddress address, String forward, int weight, int activeConns,
            int inactiveConns, int upperThreshold, int lowerThreshold, boolean overloaded, Counters counters,
            Rates rates, int persistConns) {
        /** A real server without persistence templates (the shape before {@code persistConns} was added). */
        public RealServerStats(InetSocketAddress address, String forward, int weight, int activeConns,
                int inactiveConns, int upperThreshold, int lowerThreshold, boolean overloaded, Counters counters,
                Rates rates) {
            this(address, forward, weight, activeConns, inactiveConns, upperThreshold, lowerThreshold, overloaded,
                    counters, rates, 0);
        }
    }
}
