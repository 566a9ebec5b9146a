package dev.lbkit.admin.internal;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Json;
import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.dns.DnsStats;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A DNS balancer on the admin page: query totals, and answers per served name and rcode. lb-dns counts
 * per name, not per upstream, so it adds no per-upstream traffic; its pools are shown when registered.
 */
public final class DnsTier implements TierView {
    private final String name;
    private final DnsBalancer dns;
    private final List<UpstreamPool> pools;

    public DnsTier(String name, DnsBalancer dns, List<UpstreamPool> pools) {
        this.name = name;
        this.dns = dns;
        this.pools = List.copyOf(pools);
    }

    @Override
    public String kind() {
        return "dns";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, UpstreamPool> pools() {
        Map<String, UpstreamPool> m = new LinkedHashMap<>();
        for (UpstreamPool p : pools) {
            m.putIfAbsent(p.name(), p);
        }
        return m;
    }

    @Override
    public void traffic(UpstreamPool pool, Map<String, Traffic> into) {
        // lb-dns counts answers per name, not per upstream.
    }

    @Override
    public void writeSection(Json.Writer j) {
        DnsStats s = dns.stats();
        j.field("summary", "udp " + s.udpQueries() + " · tcp " + s.tcpQueries() + " queries · forwarded "
                + s.forwarded() + " (cache hits " + s.cacheHits() + ", timeouts " + s.forwardTimeouts() + ") · truncated "
                + s.truncated() + " · dropped " + s.dropped());
        j.name("totals").beginObject().field("udpQueries", s.udpQueries()).field("tcpQueries", s.tcpQueries())
                .field("dropped", s.dropped()).field("truncated", s.truncated()).field("forwarded", s.forwarded())
                .field("cacheHits", s.cacheHits()).field("cacheMisses", s.cacheMisses())
                .field("forwardTimeouts", s.forwardTimeouts()).field("forwardOverflows", s.forwardOverflows())
                .field("tcpRejected", s.tcpRejected()).field("tcpIdleClosed", s.tcpIdleClosed()).endObject();
        TreeSet<String> rcodes = new TreeSet<>();
        for (Map<String, Long> m : s.byName().values()) {
            rcodes.addAll(m.keySet());
        }
        j.name("columns").beginArray().value("name");
        for (String r : rcodes) {
            j.value(r);
        }
        j.endArray();
        j.name("rows").beginArray();
        for (String n : new TreeSet<>(s.byName().keySet())) {
            j.beginArray().value(n);
            for (String r : rcodes) {
                j.value(s.count(n, r));
            }
            j.endArray();
        }
        j.endArray();
    }
}
