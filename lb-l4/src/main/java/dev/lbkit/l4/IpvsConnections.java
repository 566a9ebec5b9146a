package dev.lbkit.l4;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A snapshot of a balancer's connection table, as {@code ipvsadm -lnc} lists it
 * ({@link IpvsTable#renderConnections} renders it): TCP connections, the closed ones still counted for
 * the tcpfin timeout, UDP flows and persistence templates. Immutable.
 *
 * <p>Each event loop's connections are read in one task on that loop, so every entry is consistent and
 * none is missed or listed twice; the loops are read one after another, and persistence templates
 * right after them. Taking it costs a walk of at most {@code limit} entries per service and event
 * loop (and a scan of each persistent service's template table); forwarding does no work for it.
 *
 * @param entries the entries listed, at most the limit asked for
 * @param total   how many entries the table held; more than {@code entries.size()} when the limit cut it
 */
public record IpvsConnections(List<Entry> entries, int total) {
    /** Copies the list. */
    public IpvsConnections {
        entries = List.copyOf(entries);
        if (total < entries.size()) {
            throw new IllegalArgumentException("total " + total + " is below the " + entries.size() + " entries");
        }
    }

    /**
     * IPVS's connection states as lbkit reaches them. lbkit forwards sockets, not packets, so it knows
     * which side sent a FIN, not each packet; the names follow IPVS's NAT state table for the same events.
     */
    public enum State {
        /** A client whose real server is being connected (IPVS: the client's SYN was seen). Expires with the connect timeout. */
        SYN_RECV,
        /** Forwarding both ways. Expires after the {@code tcp} idle timeout. */
        ESTABLISHED,
        /** The real server sent its FIN first; the client may still send. Expires after the {@code tcpfin} idle timeout. */
        FIN_WAIT,
        /** The client sent its FIN first; the real server may still send. Expires after the {@code tcpfin} idle timeout. */
        CLOSE_WAIT,
        /**
         * Both sides finished (or one was reset): the connection is closed and stays counted in InActConn
         * until the {@code tcpfin} timeout ends, as IPVS keeps a closed entry.
         */
        TIME_WAIT,
        /** A UDP flow (IPVS names the state of every UDP entry {@code UDP}). Expires after the {@code udp} idle timeout. */
        UDP,
        /** A persistence template: a client network kept on a real server ({@code ipvsadm -p}); source port 0. */
        NONE
    }

    /**
     * One entry.
     *
     * @param protocol    TCP or UDP
     * @param state       its state
     * @param expires     time left before it expires if nothing happens; never negative
     * @param source      the client (for a template, its network with port 0); with accepted PROXY
     *                    headers, the client the header named
     * @param virtual     the virtual service address the client reached
     * @param destination the real server (or sorry server)
     */
    public record Entry(Protocol protocol, State state, Duration expires, InetSocketAddress source,
            InetSocketAddress virtual, InetSocketAddress destination) {
        /** Validates that nothing is null and the expiry is not negative. */
        public Entry {
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(virtual, "virtual");
            Objects.requireNonNull(destination, "destination");
            if (expires.isNegative()) {
                throw new IllegalArgumentException("expires must not be negative, got " + expires);
            }
        }
    }
}
