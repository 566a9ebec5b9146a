package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The route table against the obvious model: among matching routes, the host's longest prefix wins. */
class RouteTableProperties {
    private static final UpstreamGroup GROUP = UpstreamGroup.of(UpstreamPool.of(Upstream.of("127.0.0.1", 1)));

    @Provide
    Arbitrary<String> paths() {
        return Arbitraries.of("a", "b", "ab", "/").list().ofMinSize(0).ofMaxSize(4)
                .map(parts -> "/" + String.join("", parts));
    }

    @Provide
    Arbitrary<String> hosts() {
        return Arbitraries.of("x.example", "y.example", "");
    }

    @Property(tries = 200)
    void longestPrefixOfTheRightHostWins(@ForAll @Size(max = 6) List<@From("paths") String> prefixes,
            @ForAll @Size(max = 6) List<@From("hosts") String> hosts,
            @ForAll("paths") String path, @ForAll("hosts") String host) {
        List<Route> routes = new ArrayList<>();
        HashMap<String, Route> seen = new HashMap<>();
        for (int i = 0; i < prefixes.size(); i++) {
            String h = i < hosts.size() ? hosts.get(i) : "";
            String key = h + "|" + prefixes.get(i);
            if (seen.containsKey(key)) {
                continue;
            }
            Route.Builder b = Route.builder(prefixes.get(i)).group(GROUP).name("r" + i);
            if (!h.isEmpty()) {
                b.host(h);
            }
            Route r = b.build();
            seen.put(key, r);
            routes.add(r);
        }
        RouteTable table = new RouteTable(routes, new HashMap<>(), g -> null);
        RouteTable.RouteEntry got = table.match(host.isEmpty() ? null : host, path);
        Route expected = model(routes, host, path);
        assertEquals(expected == null ? null : expected.name(), got == null ? null : got.route().name());
    }

    private static Route model(List<Route> routes, String host, String path) {
        Route best = null;
        for (Route r : routes) {
            if (!host.isEmpty() && r.host().map(host::equals).orElse(false) && path.startsWith(r.pathPrefix())
                    && (best == null || r.pathPrefix().length() > best.pathPrefix().length())) {
                best = r;
            }
        }
        if (best != null) {
            return best;
        }
        for (Route r : routes) {
            if (r.host().isEmpty() && path.startsWith(r.pathPrefix())
                    && (best == null || r.pathPrefix().length() > best.pathPrefix().length())) {
                best = r;
            }
        }
        return best;
    }
}
