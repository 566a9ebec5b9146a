package dev.lbkit.admin.internal;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Json;
import java.util.Map;

/**
 * What the admin server shows of one balancer (an L7, L4 or DNS tier): the pools it sends to, the
 * traffic it counted per upstream, and a section of its own in the state document. Implementations are
 * read from the admin server's event loop and must not block.
 */
public interface TierView {

    /** The tier's kind for the page: {@code "l7"}, {@code "l4"} or {@code "dns"}. */
    String kind();

    /** The tier's name on the page. */
    String name();

    /**
     * The pools this tier balances over now, by the name the page and the API give them; the admin
     * server shows them even when they were not registered.
     */
    Map<String, UpstreamPool> pools();

    /** Adds this tier's counters for {@code pool}'s upstreams into {@code into}, keyed by upstream key. */
    void traffic(UpstreamPool pool, Map<String, Traffic> into);

    /**
     * How the API adds and removes upstreams of {@code pool}, when this tier must see those changes
     * itself; {@code null} to let the pool do it.
     */
    default Membership membership(UpstreamPool pool) {
        return null;
    }

    /** Writes the tier's own fields (totals, routes, services, names) into an open JSON object. */
    void writeSection(Json.Writer json);
}
