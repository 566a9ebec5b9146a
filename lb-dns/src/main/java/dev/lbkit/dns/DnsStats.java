package dev.lbkit.dns;

import java.util.Map;

/**
 * A snapshot of a {@link DnsBalancer}'s counters since it started. Immutable.
 *
 * <p>{@link #byName()} counts answers per served name (and per zone, for NXDOMAIN and NODATA answers
 * about names below it) and rcode mnemonic ({@code "NOERROR"}, {@code "NXDOMAIN"} ...), plus two
 * buckets: {@value dev.lbkit.dns.internal.Counters#FORWARDED} for every forwarded name and
 * {@value dev.lbkit.dns.internal.Counters#OTHER} for malformed, refused and unimplemented queries.
 */
public final class DnsStats {
    private final Map<String, Map<String, Long>> byName;
    private final long[] totals;

    DnsStats(Map<String, Map<String, Long>> byName, long[] totals) {
        this.byName = Map.copyOf(byName);
        this.totals = totals.clone();
    }

    /** name → rcode mnemonic → answers; names with no answer yet map to an empty map. */
    public Map<String, Map<String, Long>> byName() {
        return byName;
    }

    /** Answers given for {@code name} with {@code rcode} (a mnemonic such as {@code "NOERROR"}); 0 if none. */
    public long count(String name, String rcode) {
        Map<String, Long> m = byName.get(name);
        Long v = m == null ? null : m.get(rcode);
        return v == null ? 0 : v;
    }

    /** Queries received over UDP, including those dropped. */
    public long udpQueries() {
        return totals[0];
    }

    /** Queries received over TCP. */
    public long tcpQueries() {
        return totals[1];
    }

    /** Packets not answered at all: shorter than a header, or responses rather than queries. */
    public long dropped() {
        return totals[2];
    }

    /** Answers sent truncated (TC set) because they did not fit the client's UDP size. */
    public long truncated() {
        return totals[3];
    }

    /** Queries handed to the forwarder (cache hits included). */
    public long forwarded() {
        return totals[4];
    }

    public long cacheHits() {
        return totals[5];
    }

    public long cacheMisses() {
        return totals[6];
    }

    /** Resolver attempts that timed out (each moves on to the next resolver, or to SERVFAIL). */
    public long forwardTimeouts() {
        return totals[7];
    }

    /** Forwarded queries answered SERVFAIL at once because {@code maxPendingForwards} were in flight. */
    public long forwardOverflows() {
        return totals[8];
    }

    /** TCP connections closed at once because {@code maxTcpConnections} were open. */
    public long tcpRejected() {
        return totals[9];
    }

    /** TCP connections closed by the idle timeout. */
    public long tcpIdleClosed() {
        return totals[10];
    }

    @Override
    public String toString() {
        return "DnsStats{udp=" + udpQueries() + ", tcp=" + tcpQueries() + ", dropped=" + dropped() + ", truncated="
                + truncated() + ", forwarded=" + forwarded() + ", cacheHits=" + cacheHits() + ", timeouts="
                + forwardTimeouts() + ", byName=" + byName + "}";
    }
}
