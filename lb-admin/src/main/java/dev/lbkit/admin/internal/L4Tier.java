package dev.lbkit.admin.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Json;
import dev.lbkit.l4.IpvsRules;
import dev.lbkit.l4.IpvsStats;
import dev.lbkit.l4.IpvsTable;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l4.RealServer;
import dev.lbkit.l4.VirtualServer;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An L4 balancer on the admin page: its virtual services (each pool is one service's real servers,
 * named {@code tcp:127.0.0.1:80}), connections, packets, bytes and IPVS's rates per real server, and the
 * {@code ipvsadm -ln} listing. Real servers are added and removed through {@link VirtualServer}, so that
 * lb-l4's per-server counters follow.
 */
public final class L4Tier implements TierView {
    private final String name;
    private final L4Balancer lb;

    public L4Tier(String name, L4Balancer lb) {
        this.name = name;
        this.lb = lb;
    }

    @Override
    public String kind() {
        return "l4";
    }

    @Override
    public String name() {
        return name;
    }

    /** The name a service's pool has on the page and in the API: {@code tcp:127.0.0.1:80}. */
    public static String serviceName(VirtualServer vs) {
        return vs.protocol().name().toLowerCase(java.util.Locale.ROOT) + ":"
                + Upstream.of(vs.localAddress()).key();
    }

    @Override
    public Map<String, UpstreamPool> pools() {
        Map<String, UpstreamPool> m = new LinkedHashMap<>();
        for (VirtualServer vs : lb.services()) {
            m.put(serviceName(vs), vs.pool());
        }
        return m;
    }

    private Optional<VirtualServer> service(UpstreamPool pool) {
        for (VirtualServer vs : lb.services()) {
            if (vs.pool() == pool) {
                return Optional.of(vs);
            }
        }
        return Optional.empty();
    }

    @Override
    public void traffic(UpstreamPool pool, Map<String, Traffic> into) {
        Optional<VirtualServer> vs = service(pool);
        if (vs.isEmpty()) {
            return;
        }
        for (IpvsStats.RealServerStats d : vs.get().stats().realServers()) {
            Traffic t = into.computeIfAbsent(Upstream.of(d.address()).key(), k -> new Traffic());
            t.connections += d.counters().conns();
            t.bytesIn += d.counters().inBytes();
            t.bytesOut += d.counters().outBytes();
            t.rate = Math.max(t.rate, 0) + d.rates().cps();
        }
    }

    @Override
    public Membership membership(UpstreamPool pool) {
        Optional<VirtualServer> found = service(pool);
        if (found.isEmpty()) {
            return null;
        }
        VirtualServer vs = found.get();
        return new Membership() {
            @Override
            public void add(Upstream u) {
                if (u.isBackup()) {
                    throw new IllegalArgumentException("IPVS real servers have no backup tier");
                }
                if (u.maxConnections() > 0) {
                    throw new IllegalArgumentException("set an L4 real server's limit as its upper threshold (-x) in code");
                }
                if (u.name().isPresent()) {
                    // A real server is its address: a name would be dropped, and the answer would not show it.
                    throw new IllegalArgumentException("IPVS real servers have no name");
                }
                InetSocketAddress a = u.address();
                if (a.isUnresolved()) {
                    throw new IllegalArgumentException("a real server needs an IP address, got " + u.host());
                }
                vs.addRealServer(RealServer.builder(a).weight(u.weight()).build());
            }

            @Override
            public boolean remove(String key) {
                Optional<Member> m = pool.member(key);
                return m.isPresent() && vs.removeRealServer(m.get().upstream().address());
            }
        };
    }

    /**
     * {@code ipvsadm -ln}, with {@code --stats} or {@code --rate} for the variants {@code "stats"} and
     * {@code "rate"}; {@code ipvsadm -Sn} (the rules) for {@code "save"}.
     */
    public String ipvsadm(String variant) {
        if (variant.equals("save")) {
            return IpvsRules.save(lb);
        }
        IpvsStats s = lb.stats();
        switch (variant) {
            case "stats":
                return IpvsTable.renderStats(s);
            case "rate":
                return IpvsTable.renderRate(s);
            default:
                return IpvsTable.render(s);
        }
    }

    @Override
    public void writeSection(Json.Writer j) {
        IpvsStats s = lb.stats();
        j.field("summary", s.services().size() + " virtual services · " + lb.transport());
        j.name("columns").beginArray();
        for (String c : new String[] {"service", "scheduler", "conns", "in pkts", "out pkts", "in bytes", "out bytes",
                "conn/s", "in B/s", "out B/s", "refused", "no destination", "malformed PROXY", "nodest dropped"}) {
            j.value(c);
        }
        j.endArray();
        j.name("rows").beginArray();
        for (IpvsStats.Service v : s.services()) {
            j.beginArray().value(v.protocol().name().toLowerCase(java.util.Locale.ROOT) + ":" + Upstream.of(v.address()).key())
                    .value(v.scheduler()).value(v.counters().conns()).value(v.counters().inPkts())
                    .value(v.counters().outPkts()).value(v.counters().inBytes()).value(v.counters().outBytes())
                    .value(v.rates().cps()).value(v.rates().inBps()).value(v.rates().outBps()).value(v.refused())
                    .value(v.noDestination()).value(v.malformedProxyHeaders()).value(v.nodestDropped()).endArray();
        }
        j.endArray();
        j.field("text", IpvsTable.render(s));
    }
}
