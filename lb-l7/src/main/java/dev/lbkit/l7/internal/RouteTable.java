package dev.lbkit.l7.internal;

import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The routes in lookup form: per host, routes by descending prefix length, then the any-host routes.
 * Immutable; replaced as a whole when the routes change.
 */
public final class RouteTable {
    private final Map<String, RouteEntry[]> byHost;
    private final RouteEntry[] anyHost;
    private final List<RouteEntry> all;

    /**
     * @param counters per route name, created on first use
     * @param queues   the request queue of a group, or null when it has none
     */
    RouteTable(List<Route> routes, Map<String, TrafficCounters> counters, Function<UpstreamGroup, GroupQueue> queues) {
        this(routes, counters, queues, RouteLimits::newTable);
    }

    /**
     * @param counters per route name, created on first use
     * @param queues   the request queue of a group, or null when it has none
     * @param limits   the table of a route limit
     */
    RouteTable(List<Route> routes, Map<String, TrafficCounters> counters, Function<UpstreamGroup, GroupQueue> queues,
            Function<Object, LimitTable> limits) {
        Map<String, List<RouteEntry>> hosts = new HashMap<>();
        List<RouteEntry> any = new ArrayList<>();
        List<RouteEntry> everything = new ArrayList<>();
        for (Route r : routes) {
            RouteEntry e = new RouteEntry(r, counters.computeIfAbsent(r.name(), TrafficCounters::new),
                    queues.apply(r.group()), limits);
            everything.add(e);
            if (r.host().isPresent()) {
                hosts.computeIfAbsent(r.host().get(), h -> new ArrayList<>()).add(e);
            } else {
                any.add(e);
            }
        }
        Comparator<RouteEntry> longestFirst = Comparator.comparingInt(e -> -e.route.pathPrefix().length());
        this.byHost = new HashMap<>();
        for (Map.Entry<String, List<RouteEntry>> h : hosts.entrySet()) {
            h.getValue().sort(longestFirst);
            byHost.put(h.getKey(), h.getValue().toArray(new RouteEntry[0]));
        }
        any.sort(longestFirst);
        this.anyHost = any.toArray(new RouteEntry[0]);
        this.all = List.copyOf(everything);
    }

    public List<RouteEntry> entries() {
        return all;
    }

    /** The route for {@code host} (lower case, no port; may be null) and {@code path}, or null. */
    RouteEntry match(String host, String path) {
        if (host != null && !byHost.isEmpty()) {
            RouteEntry[] rs = byHost.get(host);
            if (rs != null) {
                RouteEntry e = match(rs, path);
                if (e != null) {
                    return e;
                }
            }
        }
        return match(anyHost, path);
    }

    private static RouteEntry match(RouteEntry[] rs, String path) {
        for (RouteEntry e : rs) {
            if (path.startsWith(e.route.pathPrefix())) {
                return e;
            }
        }
        return null;
    }

    /** A route with its counters and its group's request queue. */
    public static final class RouteEntry {
        final Route route;
        final TrafficCounters counters;
        /** Null when the group has no queue. */
        final GroupQueue queue;
        /** A header rule sets or removes Host ({@code proxy_set_header Host …}): it wins over the Host policy. */
        final boolean hostByRule;
        /** The route's redirect rules, or null when it has none: a response head then skips them at no cost. */
        final Redirects redirects;
        /** The route's cookie rules, or null when it has none (the default): a response head then skips them. */
        final SetCookies cookies;
        /** The group's hash key and sticky cookie, or null when it has neither (the client address is the key). */
        final Affinity affinity;
        /** The route's rate and concurrency limits, or null when it has none. */
        final RouteLimits limits;
        /** The route's own error pages, or null when it uses the balancer's. */
        final ErrorResponses errorPages;

        RouteEntry(Route route, TrafficCounters counters, GroupQueue queue, Function<Object, LimitTable> limits) {
            this.route = route;
            this.counters = counters;
            this.queue = queue;
            this.hostByRule = route.headers().editsRequestHeader(HttpHeaderNames.HOST);
            this.redirects = Redirects.of(route.resolvedRedirects());
            this.cookies = SetCookies.of(route.cookieRewrites(), route.cookieFlags());
            this.affinity = Affinity.of(route.group());
            this.limits = RouteLimits.of(route, counters, limits);
            this.errorPages = route.errorPages().map(ErrorResponses::of).orElse(null);
        }

        public Route route() {
            return route;
        }
    }
}
