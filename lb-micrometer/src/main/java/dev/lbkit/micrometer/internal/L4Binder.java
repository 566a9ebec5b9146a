package dev.lbkit.micrometer.internal;

import dev.lbkit.api.Upstream;
import dev.lbkit.l4.IpvsStats;
import dev.lbkit.l4.L4Balancer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Binds an {@link L4Balancer}: per virtual service ({@code tcp:127.0.0.1:80}) and per real server,
 * connections, packets and bytes each way, IPVS's connection rate, active and inactive connections,
 * weight, and clients turned away by cause (service limit, no destination). Services and real servers
 * added or removed at runtime gain or lose their meters at the next refresh.
 */
public final class L4Binder extends SnapshotBinder<L4Binder.Indexed> {
    /** A snapshot with its services and real servers indexed by name, so that each meter reads in O(1). */
    record Indexed(Map<String, IpvsStats.Service> services, Map<String, IpvsStats.RealServerStats> dests) {}

    private static final String FAILURES = "Clients turned away, by cause: refused = at the service's connection "
            + "limit or a full flow table; no_destination = no real server (nor sorry server) available";

    private final L4Balancer lb;
    private final Tags base;

    public L4Binder(MeterRegistry registry, String name, L4Balancer lb) {
        super(registry);
        this.lb = lb;
        this.base = Tags.of("balancer", name);
        refresh();
    }

    /** {@code tcp:127.0.0.1:80}: the service tag, as lb-admin names the service's pool. */
    static String serviceName(IpvsStats.Service s) {
        return s.protocol().name().toLowerCase(Locale.ROOT) + ":" + Upstream.of(s.address()).key();
    }

    @Override
    protected Indexed take() {
        Map<String, IpvsStats.Service> services = new LinkedHashMap<>();
        Map<String, IpvsStats.RealServerStats> dests = new HashMap<>();
        for (IpvsStats.Service v : lb.stats().services()) {
            String name = serviceName(v);
            services.put(name, v);
            for (IpvsStats.RealServerStats d : v.realServers()) {
                dests.put(name + " " + Upstream.of(d.address()).key(), d);
            }
        }
        return new Indexed(services, dests);
    }

    @Override
    protected void update(Indexed s, Indexed previous) {
        for (IpvsStats.Service v : s.services().values()) {
            String name = serviceName(v);
            Tags t = base.and("service", name);
            Function<Indexed, IpvsStats.Service> svc = x -> x.services().get(name);
            counters("lbkit.l4", t, x -> {
                IpvsStats.Service y = svc.apply(x);
                return y == null ? null : y.counters();
            });
            gauge("lbkit.l4.connections.rate", t, "New connections per second, IPVS's estimator (2 s samples, 1/4 moving average)",
                    null, x -> num(svc.apply(x), y -> y.rates().cps()));
            counter("lbkit.l4.failures", t.and("cause", "refused"), FAILURES, null,
                    x -> num(svc.apply(x), IpvsStats.Service::refused));
            counter("lbkit.l4.failures", t.and("cause", "no_destination"), FAILURES, null,
                    x -> num(svc.apply(x), IpvsStats.Service::noDestination));
            counter("lbkit.l4.failures", t.and("cause", "malformed_proxy_header"), FAILURES, null,
                    x -> num(svc.apply(x), IpvsStats.Service::malformedProxyHeaders));
            counter("lbkit.l4.nodest.dropped", t, "UDP datagrams dropped because their flow's real server is gone "
                    + "(nodestConn DROP, IPVS's expire_nodest_conn = 0)", null,
                    x -> num(svc.apply(x), IpvsStats.Service::nodestDropped));
            for (IpvsStats.RealServerStats d : v.realServers()) {
                String key = Upstream.of(d.address()).key();
                Tags u = t.and("upstream", key);
                String id = name + " " + key;
                Function<Indexed, IpvsStats.RealServerStats> dest = x -> x.dests().get(id);
                counters("lbkit.l4.upstream", u, x -> {
                    IpvsStats.RealServerStats y = dest.apply(x);
                    return y == null ? null : y.counters();
                });
                gauge("lbkit.l4.upstream.connections.active", u, "IPVS ActiveConn", null,
                        x -> num(dest.apply(x), IpvsStats.RealServerStats::activeConns));
                gauge("lbkit.l4.upstream.connections.inactive", u, "IPVS InActConn", null,
                        x -> num(dest.apply(x), IpvsStats.RealServerStats::inactiveConns));
                gauge("lbkit.l4.upstream.weight", u, "Weight as ipvsadm lists it (0 while a failed check inhibits it)", null,
                        x -> num(dest.apply(x), IpvsStats.RealServerStats::weight));
                gauge("lbkit.l4.upstream.connections.rate", u, "New connections per second, IPVS's estimator", null,
                        x -> num(dest.apply(x), y -> y.rates().cps()));
            }
        }
    }

    private void counters(String prefix, Tags t, Function<Indexed, IpvsStats.Counters> of) {
        counter(prefix + ".connections", t, "Connections (TCP) or flows (UDP) established", null,
                x -> num(of.apply(x), IpvsStats.Counters::conns));
        counter(prefix + ".packets", t.and("direction", "in"), "Reads (datagrams): in = from clients, out = from real servers",
                null, x -> num(of.apply(x), IpvsStats.Counters::inPkts));
        counter(prefix + ".packets", t.and("direction", "out"), "Reads (datagrams): in = from clients, out = from real servers",
                null, x -> num(of.apply(x), IpvsStats.Counters::outPkts));
        counter(prefix + ".bytes", t.and("direction", "in"), "Bytes: in = from clients, out = from real servers", "bytes",
                x -> num(of.apply(x), IpvsStats.Counters::inBytes));
        counter(prefix + ".bytes", t.and("direction", "out"), "Bytes: in = from clients, out = from real servers", "bytes",
                x -> num(of.apply(x), IpvsStats.Counters::outBytes));
    }

    private static <T> double num(T t, ToDoubleFunction<T> f) {
        return t == null ? 0 : f.applyAsDouble(t);
    }
}
