package dev.lbkit.l7.internal;

import dev.lbkit.l7.Route;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The routes in lookup form: per host, routes by descending prefix length, then the any-host routes.
 * Immutable; replaced as a whole when the routes change.
 */
public final class RouteTable {
    private final Map<String, RouteEntry[]> byHost;
    private final RouteEntry[] anyHost;
    private final List<RouteEntry> all;

    public RouteTable(List<Route> routes, Map<String, TrafficCounters> counters) {
        Map<String, List<RouteEntry>> hosts = new HashMap<>();
        List<RouteEntry> any = new ArrayList<>();
        List<RouteEntry> everything = new ArrayList<>();
        for (Route r : routes) {
            RouteEntry e = new RouteEntry(r, counters.computeIfAbsent(r.name(), TrafficCounters::new));
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

    /** A route with its counters. */
    public static final class RouteEntry {
        final Route route;
        final TrafficCounters counters;

        RouteEntry(Route route, TrafficCounters counters) {
            this.route = route;
            this.counters = counters;
        }

        public Route route() {
            return route;
        }
    }
}
