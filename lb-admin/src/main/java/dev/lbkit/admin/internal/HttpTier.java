package dev.lbkit.admin.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Json;
import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.HttpBalancerStats;
import dev.lbkit.l7.LatencyHistogram;
import dev.lbkit.l7.QueueStats;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.TrafficStats;
import dev.lbkit.l7.UpstreamGroup;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * An HTTP balancer on the admin page: per route its requests, responses by class, errors, retries,
 * bytes and latency; per upstream the same counters, merged into its pool's table; per upstream group
 * with a request queue, its waiting requests and counters (in the summary line and as {@code queues}).
 * The pools are those of the routes' upstream groups.
 */
public final class HttpTier implements TierView {
    /** One state document reads the balancer's counters once, not once per pool. */
    private static final long STATS_MAX_AGE_NANOS = 200_000_000L;

    private final String name;
    private final HttpBalancer lb;
    private HttpBalancerStats stats;
    private long statsAt;

    public HttpTier(String name, HttpBalancer lb) {
        this.name = name;
        this.lb = lb;
    }

    @Override
    public String kind() {
        return "l7";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Map<String, UpstreamPool> pools() {
        Map<String, UpstreamPool> m = new LinkedHashMap<>();
        for (Route r : lb.routes()) {
            UpstreamPool p = r.group().pool();
            if (!m.containsValue(p)) {
                // Groups of different pools may share a name (pools are named "pool" by default): each
                // pool must stay shown and changeable, so a later one gets a suffix, as AdminState does.
                String name = r.group().name();
                for (int i = 2; m.containsKey(name); i++) {
                    name = r.group().name() + "-" + i;
                }
                m.put(name, p);
            }
        }
        return m;
    }

    private synchronized HttpBalancerStats stats() {
        long now = System.nanoTime();
        if (stats == null || now - statsAt > STATS_MAX_AGE_NANOS) {
            stats = lb.stats();
            statsAt = now;
        }
        return stats;
    }

    @Override
    public void traffic(UpstreamPool pool, Map<String, Traffic> into) {
        HttpBalancerStats s = stats();
        Set<String> groups = new HashSet<>();
        for (Route r : lb.routes()) {
            UpstreamGroup g = r.group();
            if (g.pool() != pool || !groups.add(g.name())) {
                continue;
            }
            for (Member m : pool.snapshot().members()) {
                String key = m.upstream().key();
                TrafficStats t = s.upstreams().get(g.name() + "/" + key);
                if (t != null) {
                    add(into.computeIfAbsent(key, k -> new Traffic()), t);
                }
            }
        }
    }

    private static void add(Traffic into, TrafficStats t) {
        into.http = true;
        into.requests += t.requests();
        for (int c = 1; c <= 5; c++) {
            into.responses[c - 1] += t.responses(c);
        }
        into.failures += t.failures();
        into.retries += t.retries();
        into.bytesIn += t.bytesIn();
        into.bytesOut += t.bytesOut();
        LatencyHistogram h = t.latency();
        if (h.count() > 0) {
            into.p50Millis = Math.max(into.p50Millis, h.quantileUpperBound(0.5).toNanos() / 1e6);
            into.p99Millis = Math.max(into.p99Millis, h.quantileUpperBound(0.99).toNanos() / 1e6);
        }
    }

    @Override
    public void writeSection(Json.Writer j) {
        HttpBalancerStats s = stats();
        int routes = lb.routes().size();
        Map<String, QueueStats> queues = new TreeMap<>(s.queues());
        StringBuilder summary = new StringBuilder().append(routes).append(routes == 1 ? " route · " : " routes · ")
                .append(s.openConnections()).append(" client connections open · ").append(lb.transport());
        if (s.malformedProxyHeaders() > 0) {
            summary.append(" · ").append(s.malformedProxyHeaders()).append(" closed for a malformed PROXY header");
        }
        for (Map.Entry<String, QueueStats> e : queues.entrySet()) {
            QueueStats q = e.getValue();
            summary.append(" · queue ").append(e.getKey()).append(": ").append(q.queued()).append(" waiting, ")
                    .append(q.totalQueued()).append(" queued, ").append(q.rejected()).append(" full, ")
                    .append(q.timedOut()).append(" timed out");
        }
        j.field("summary", summary.toString());
        j.field("openConnections", s.openConnections());
        j.field("malformedProxyHeaders", s.malformedProxyHeaders());
        j.name("queues").beginArray();
        for (Map.Entry<String, QueueStats> e : queues.entrySet()) {
            QueueStats q = e.getValue();
            j.beginObject().field("group", e.getKey()).field("queued", q.queued())
                    .field("totalQueued", q.totalQueued()).field("rejected", q.rejected())
                    .field("timedOut", q.timedOut()).endObject();
        }
        j.endArray();
        j.name("columns").beginArray();
        for (String c : new String[] {"route", "requests", "1xx", "2xx", "3xx", "4xx", "5xx", "errors", "retries",
                "in flight", "bytes in", "bytes out", "p50 ms", "p99 ms", "limited", "delayed"}) {
            j.value(c);
        }
        j.endArray();
        j.name("rows").beginArray();
        Set<String> seen = new HashSet<>();
        for (Route r : lb.routes()) {
            if (!seen.add(r.name())) {
                continue;
            }
            TrafficStats t = s.route(r.name());
            j.beginArray().value(r.name()).value(t.requests());
            for (int c = 1; c <= 5; c++) {
                j.value(t.responses(c));
            }
            j.value(t.failures()).value(t.retries()).value(t.inFlight()).value(t.bytesIn()).value(t.bytesOut());
            LatencyHistogram h = t.latency();
            j.value(h.quantileUpperBound(0.5).toNanos() / 1e6).value(h.quantileUpperBound(0.99).toNanos() / 1e6);
            // Route limits (limit_req, limit_conn): refused, and delayed by a rate limit.
            j.value(t.limitRejected()).value(t.limitDelayed());
            j.endArray();
        }
        j.endArray();
    }
}
