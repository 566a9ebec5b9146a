package dev.lbkit.micrometer.internal;

import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.HttpBalancerStats;
import dev.lbkit.l7.LatencyHistogram;
import dev.lbkit.l7.TrafficStats;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Binds an {@link HttpBalancer}: per route and per upstream, requests, responses by status class,
 * failures, retries, bytes, requests in flight and a latency timer (route: to the end of the response;
 * upstream: to the upstream's response head, per attempt); open client connections.
 *
 * <p>lb-l7 counts latency in fixed buckets (1 ms … 10 s) and exposes no per-request hook, so each
 * refresh records the new samples of each bucket into a Micrometer {@link Timer} at the bucket's upper
 * bound (samples above 10 s at 10 s). The timer's histogram buckets are configurable; they are exact
 * where they fall on lb-l7's bounds (the default is exactly those bounds), and its sum is an upper
 * bound of the true sum.
 */
public final class HttpBinder extends SnapshotBinder<HttpBalancerStats> {
    private static final String[] CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    private final HttpBalancer lb;
    private final Tags base;
    private final Duration[] buckets;

    public HttpBinder(MeterRegistry registry, String name, HttpBalancer lb, List<Duration> buckets) {
        super(registry);
        this.lb = lb;
        this.base = Tags.of("service", name);
        this.buckets = buckets.toArray(new Duration[0]);
        refresh();
    }

    @Override
    protected HttpBalancerStats take() {
        return lb.stats();
    }

    @Override
    protected void update(HttpBalancerStats s, HttpBalancerStats previous) {
        gauge("lbkit.l7.connections.open", base, "Client connections open now", null, x -> x.openConnections());
        counter("lbkit.l7.proxy.headers.malformed", base, "Client connections closed for a missing, malformed or "
                + "late PROXY protocol header (listeners with acceptProxyProtocol)", null,
                x -> x.malformedProxyHeaders());
        for (Map.Entry<String, TrafficStats> e : s.routes().entrySet()) {
            String route = e.getKey();
            TrafficStats prev = previous == null ? null : previous.routes().get(route);
            traffic("lbkit.l7", base.and("route", route), x -> x.routes().get(route), e.getValue(), prev,
                    "requests routed", "what clients got", "Time to the end of the response");
            limits(base.and("route", route), x -> x.routes().get(route));
        }
        for (Map.Entry<String, TrafficStats> e : s.upstreams().entrySet()) {
            String key = e.getKey();
            int slash = key.indexOf('/');
            Tags t = base.and("group", key.substring(0, slash), "upstream", key.substring(slash + 1));
            TrafficStats prev = previous == null ? null : previous.upstreams().get(key);
            traffic("lbkit.l7.upstream", t, x -> x.upstreams().get(key), e.getValue(), prev,
                    "attempts sent to the upstream", "what the upstream answered",
                    "Upstream header time per attempt: from the start of the attempt to the response head");
        }
    }

    private void traffic(String prefix, Tags tags, Function<HttpBalancerStats, TrafficStats> of, TrafficStats now,
            TrafficStats prev, String requests, String responses, String latency) {
        counter(prefix + ".requests", tags, "Requests: " + requests, null, x -> v(of.apply(x), TrafficStats::requests));
        for (int c = 1; c <= 5; c++) {
            int cls = c;
            counter(prefix + ".responses", tags.and("status", CLASSES[c - 1]), "Responses by status class: " + responses,
                    null, x -> v(of.apply(x), t -> t.responses(cls)));
        }
        counter(prefix + ".failures", tags, "Failed requests (route) or attempts (upstream): connect errors, timeouts, "
                + "invalid responses, statuses counted as failures", null, x -> v(of.apply(x), TrafficStats::failures));
        counter(prefix + ".retries", tags, "Retries (route: attempts after the first; upstream: attempts passed on after failing here)",
                null, x -> v(of.apply(x), TrafficStats::retries));
        counter(prefix + ".bytes", tags.and("direction", "received"), "Body bytes received", "bytes",
                x -> v(of.apply(x), TrafficStats::bytesIn));
        counter(prefix + ".bytes", tags.and("direction", "sent"), "Body bytes sent", "bytes",
                x -> v(of.apply(x), TrafficStats::bytesOut));
        gauge(prefix + ".requests.active", tags, "Requests (route) or attempts (upstream) in flight", null,
                x -> v(of.apply(x), TrafficStats::inFlight));
        Timer timer = keep(prefix + ".latency" + tags, () -> Timer.builder(prefix + ".latency").tags(tags)
                .description(latency + ", at lb-l7's bucket resolution")
                .serviceLevelObjectives(buckets).register(registry));
        feed(timer, now.latency(), prev == null ? null : prev.latency());
    }

    /** A route's RequestRateLimit and ConcurrencyLimit counters (nginx's $limit_req_status, $limit_conn_status). */
    private void limits(Tags tags, Function<HttpBalancerStats, TrafficStats> of) {
        counter("lbkit.l7.limit.requests", tags.and("outcome", "rejected"), "Requests refused by a route's rate "
                + "or concurrency limit (limit_req, limit_conn)", null, x -> v(of.apply(x), TrafficStats::limitRejected));
        counter("lbkit.l7.limit.requests", tags.and("outcome", "delayed"), "Requests a route's rate limit delayed",
                null, x -> v(of.apply(x), TrafficStats::limitDelayed));
        counter("lbkit.l7.limit.requests", tags.and("outcome", "dry_run"), "Requests a limit in dry run would "
                + "have refused or delayed", null, x -> v(of.apply(x), TrafficStats::limitDryRun));
    }

    private static double v(TrafficStats t, java.util.function.ToLongFunction<TrafficStats> f) {
        return t == null ? 0 : f.applyAsLong(t);
    }

    /** Records each bucket's new samples at its upper bound. */
    private static void feed(Timer timer, LatencyHistogram now, LatencyHistogram prev) {
        List<Duration> bounds = now.upperBounds();
        List<Long> counts = now.counts();
        for (int i = 0; i < counts.size(); i++) {
            long delta = counts.get(i) - (prev == null ? 0 : prev.counts().get(i));
            Duration at = bounds.get(Math.min(i, bounds.size() - 1));
            for (long n = 0; n < delta; n++) {
                timer.record(at);
            }
        }
    }
}
