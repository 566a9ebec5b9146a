package dev.lbkit.micrometer.internal;

import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.dns.DnsStats;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Binds a {@link DnsBalancer}: answers by name and rcode (names are the served names plus lb-dns's
 * {@code forwarded} and {@code other} buckets, so the tag stays bounded), queries by transport, and
 * the forwarder's and cache's counters.
 */
public final class DnsBinder extends SnapshotBinder<DnsStats> {
    private final DnsBalancer dns;
    private final Tags base;

    public DnsBinder(MeterRegistry registry, String name, DnsBalancer dns) {
        super(registry);
        this.dns = dns;
        this.base = Tags.of("service", name);
        refresh();
    }

    @Override
    protected DnsStats take() {
        return dns.stats();
    }

    @Override
    protected void update(DnsStats s, DnsStats previous) {
        String received = "Queries received, by transport (UDP counts dropped packets too)";
        counter("lbkit.dns.queries.received", base.and("transport", "udp"), received, null, DnsStats::udpQueries);
        counter("lbkit.dns.queries.received", base.and("transport", "tcp"), received, null, DnsStats::tcpQueries);
        total("lbkit.dns.dropped", "Packets not answered: too short, or responses", DnsStats::dropped);
        total("lbkit.dns.truncated", "Answers sent truncated (TC) to fit the client's UDP size", DnsStats::truncated);
        total("lbkit.dns.forwarded", "Queries handed to the forwarder, cache hits included", DnsStats::forwarded);
        total("lbkit.dns.cache.hits", "Forwarded queries answered from the cache", DnsStats::cacheHits);
        total("lbkit.dns.cache.misses", "Forwarded queries sent to a resolver", DnsStats::cacheMisses);
        total("lbkit.dns.forward.timeouts", "Resolver attempts that timed out", DnsStats::forwardTimeouts);
        total("lbkit.dns.forward.overflows", "Forwarded queries answered SERVFAIL because too many were pending",
                DnsStats::forwardOverflows);
        total("lbkit.dns.tcp.rejected", "TCP connections closed at once at the connection limit", DnsStats::tcpRejected);
        total("lbkit.dns.tcp.idle.closed", "TCP connections closed by the idle timeout", DnsStats::tcpIdleClosed);
        for (Map.Entry<String, Map<String, Long>> e : s.byName().entrySet()) {
            String name = e.getKey();
            for (String rcode : e.getValue().keySet()) {
                counter("lbkit.dns.answers", base.and("name", name, "rcode", rcode),
                        "Answers by served name (or forwarded/other) and rcode", null, x -> x.count(name, rcode));
            }
        }
    }

    private void total(String name, String description, ToDoubleFunction<DnsStats> f) {
        counter(name, base, description, null, f);
    }
}
