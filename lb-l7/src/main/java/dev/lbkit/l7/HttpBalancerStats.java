package dev.lbkit.l7;

import java.util.Map;

/**
 * A snapshot of an {@link HttpBalancer}'s counters. An immutable value.
 *
 * @param routes          per route, by {@link Route#name()}
 * @param upstreams       per upstream, by {@code group/host:port} (for example {@code backend/127.0.0.1:8081})
 * @param openConnections client connections open now
 * @param queues          per upstream group with a {@link RequestQueue}, by {@link UpstreamGroup#name()}
 * @param malformedProxyHeaders on listeners with {@link Listener#acceptProxyProtocol()}: connections
 *                        closed because their PROXY header was malformed, missing, or not complete within
 *                        the client header timeout
 */
public record HttpBalancerStats(Map<String, TrafficStats> routes, Map<String, TrafficStats> upstreams,
        long openConnections, Map<String, QueueStats> queues, long malformedProxyHeaders) {
    public HttpBalancerStats {
        routes = Map.copyOf(routes);
        upstreams = Map.copyOf(upstreams);
        queues = Map.copyOf(queues);
    }

    /** A snapshot without PROXY header failures (the shape before {@code malformedProxyHeaders} was added). */
    public HttpBalancerStats(Map<String, TrafficStats> routes, Map<String, TrafficStats> upstreams,
            long openConnections, Map<String, QueueStats> queues) {
        this(routes, upstreams, openConnections, queues, 0);
    }

    /** The queue counters of group {@code group}, or zeros if it has no queue. */
    public QueueStats queue(String group) {
        QueueStats s = queues.get(group);
        return s != null ? s : QueueStats.EMPTY;
    }

    /** The route's stats, or zeros if it served nothing yet or does not exist. */
    public TrafficStats route(String name) {
        TrafficStats s = routes.get(name);
        return s != null ? s : EMPTY;
    }

    /** The stats of upstream {@code key} ({@code host:port}) in group {@code group}, or zeros. */
    public TrafficStats upstream(String group, String key) {
        TrafficStats s = upstreams.get(group + "/" + key);
        return s != null ? s : EMPTY;
    }

    private static final TrafficStats EMPTY = new TrafficStats(0, java.util.List.of(0L, 0L, 0L, 0L, 0L), 0, 0, 0, 0,
            0, new LatencyHistogram(LatencyHistogram.BOUNDS,
                    java.util.Collections.nCopies(LatencyHistogram.BOUNDS.size() + 1, 0L)));
}
