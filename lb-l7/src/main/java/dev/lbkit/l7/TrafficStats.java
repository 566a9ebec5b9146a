package dev.lbkit.l7;

import java.util.List;

/**
 * Counters of one route or one upstream at one moment. An immutable value; counters only grow, except
 * {@link #inFlight()}.
 *
 * @param requests          requests routed (route) or attempts sent (upstream)
 * @param responsesByClass  responses by status class: index 0 = 1xx … 4 = 5xx; for a route these are
 *                          what the client got (including the proxy's own 502/504), for an upstream what
 *                          it answered
 * @param failures          route: requests that ended in a proxy error or an aborted response; upstream:
 *                          attempts that failed (connect error, timeout, invalid response, counted status)
 * @param retries           route: attempts after the first; upstream: attempts that were passed on to
 *                          another upstream after failing here
 * @param bytesIn           body bytes received (route: from clients; upstream: from the upstream)
 * @param bytesOut          body bytes sent (route: to clients; upstream: to the upstream)
 * @param inFlight          requests (route) or attempts (upstream) in progress
 * @param latency           route: time from the request's head to the end of the response, for completed
 *                          responses; upstream: time from the start of the attempt (connecting or taking
 *                          a pooled connection, then sending the request) until the upstream's final
 *                          response head arrived (nginx's {@code $upstream_header_time}), one sample per
 *                          attempt that got a response, so its count equals the sum of
 *                          {@code responsesByClass}
 * @param limitRejected     route: requests refused by a {@link RequestRateLimit} or {@link ConcurrencyLimit}
 *                          (also counted in {@code requests} and by their status); upstream: 0
 * @param limitDelayed      route: requests a {@link RequestRateLimit} delayed; upstream: 0
 * @param limitDryRun       route: requests a limit in dry run would have refused or delayed (they passed at
 *                          once); upstream: 0
 */
public record TrafficStats(long requests, List<Long> responsesByClass, long failures, long retries, long bytesIn,
        long bytesOut, long inFlight, LatencyHistogram latency, long limitRejected, long limitDelayed,
        long limitDryRun) {
    public TrafficStats {
        responsesByClass = List.copyOf(responsesByClass);
        if (responsesByClass.size() != 5) {
            throw new IllegalArgumentException("responsesByClass needs 5 entries, got " + responsesByClass.size());
        }
    }

    /** Counters without the limits' (the shape before {@code limitRejected} was added): those are 0. */
    public TrafficStats(long requests, List<Long> responsesByClass, long failures, long retries, long bytesIn,
            long bytesOut, long inFlight, LatencyHistogram latency) {
        this(requests, responsesByClass, failures, retries, bytesIn, bytesOut, inFlight, latency, 0, 0, 0);
    }

    /** Responses with status {@code statusClass}xx, {@code statusClass} in 1..5. */
    public long responses(int statusClass) {
        return responsesByClass.get(statusClass - 1);
    }
}
