package dev.lbkit.l4;

import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Renders an {@link IpvsStats} snapshot as ipvsadm does, column for column: {@link #render} is
 * {@code ipvsadm -ln}, {@link #renderStats} is {@code ipvsadm -ln --stats}, {@link #renderRate} is
 * {@code ipvsadm -ln --rate}, {@link #renderThresholds} is {@code ipvsadm -ln --thresholds},
 * {@link #renderPersistentConn} is {@code ipvsadm -ln --persistent-conn} and {@link #renderConnections}
 * is {@code ipvsadm -lnc}. Services are sorted by protocol, address and port, real servers by address
 * and port, as ipvsadm sorts them; the printf formats (and so the trailing blanks of {@code -ln}'s lines)
 * are ipvsadm's.
 *
 * <p>Stateless and thread-safe.
 */
public final class IpvsTable {
    /** The version ipvsadm prints for the kernel's IPVS; kept so that scripts parsing the title still work. */
    public static final String VERSION = "1.2.1";

    private IpvsTable() {}

    /** {@code ipvsadm -ln}. */
    public static String render(IpvsStats stats) {
        StringBuilder sb = title(stats);
        sb.append("Prot LocalAddress:Port Scheduler Flags\n");
        sb.append("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
        for (IpvsStats.Service s : sortedServices(stats)) {
            serviceLine(sb, s);
            for (IpvsStats.RealServerStats d : sortedDests(s)) {
                sb.append(String.format("  -> %-28s %-7s %-6d %-10d %-10d\n", destName(d), d.forward(), d.weight(),
                        d.activeConns(), d.inactiveConns()));
            }
        }
        return sb.toString();
    }

    /**
     * {@code ipvsadm -ln --thresholds}: each real server's upper ({@code -x}) and lower ({@code -y})
     * connection thresholds next to its connection counts; service lines as {@link #render}.
     */
    public static String renderThresholds(IpvsStats stats) {
        StringBuilder sb = title(stats);
        sb.append(String.format("%-33s %-10s %-10s %-10s %-10s\n", "Prot LocalAddress:Port", "Uthreshold",
                "Lthreshold", "ActiveConn", "InActConn")).append("  -> RemoteAddress:Port\n");
        for (IpvsStats.Service s : sortedServices(stats)) {
            serviceLine(sb, s);
            for (IpvsStats.RealServerStats d : sortedDests(s)) {
                sb.append(String.format("  -> %-28s %-10d %-10d %-10d %-10d\n", destName(d), d.upperThreshold(),
                        d.lowerThreshold(), d.activeConns(), d.inactiveConns()));
            }
        }
        return sb.toString();
    }

    /**
     * {@code ipvsadm -ln --persistent-conn}: each real server's weight, the persistence templates kept
     * on it ({@link IpvsStats.RealServerStats#persistConns()}) and its connection counts; service lines
     * as {@link #render}.
     */
    public static String renderPersistentConn(IpvsStats stats) {
        StringBuilder sb = title(stats);
        sb.append(String.format("%-33s %-9s %-11s %-10s %-10s\n", "Prot LocalAddress:Port", "Weight", "PersistConn",
                "ActiveConn", "InActConn")).append("  -> RemoteAddress:Port\n");
        for (IpvsStats.Service s : sortedServices(stats)) {
            serviceLine(sb, s);
            for (IpvsStats.RealServerStats d : sortedDests(s)) {
                sb.append(String.format("  -> %-28s %-9d %-11d %-10d %-10d\n", destName(d), d.weight(),
                        d.persistConns(), d.activeConns(), d.inactiveConns()));
            }
        }
        return sb.toString();
    }

    /** The service line of the listings without counters: name, scheduler, persistence flags. */
    private static void serviceLine(StringBuilder sb, IpvsStats.Service s) {
        sb.append(serviceName(s)).append(' ').append(s.scheduler());
        if (s.persistenceSeconds() > 0) {
            sb.append(" persistent ").append(s.persistenceSeconds());
            boolean v4 = s.address().getAddress() instanceof Inet4Address;
            if (v4 && s.persistenceNetmask() != 32) {
                sb.append(" mask ").append(netmask(s.persistenceNetmask()));
            } else if (!v4 && s.persistenceNetmask() != 128) {
                sb.append(" mask ").append(s.persistenceNetmask());
            }
        }
        if (s.onePacket()) {
            sb.append(" ops");
        }
        sb.append('\n');
    }

    /** {@code ipvsadm -ln --stats}. */
    public static String renderStats(IpvsStats stats) {
        StringBuilder sb = title(stats);
        sb.append(String.format("%-33s %8s %8s %8s %8s %8s", "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts",
                "InBytes", "OutBytes")).append("\n  -> RemoteAddress:Port\n");
        for (IpvsStats.Service s : sortedServices(stats)) {
            sb.append(String.format("%-33s", serviceName(s)));
            counters(sb, s.counters());
            for (IpvsStats.RealServerStats d : sortedDests(s)) {
                sb.append(String.format("  -> %-28s", destName(d)));
                counters(sb, d.counters());
            }
        }
        return sb.toString();
    }

    /** {@code ipvsadm -ln --rate}. */
    public static String renderRate(IpvsStats stats) {
        StringBuilder sb = title(stats);
        sb.append(String.format("%-33s %8s %8s %8s %8s %8s", "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS",
                "InBPS", "OutBPS")).append("\n  -> RemoteAddress:Port\n");
        for (IpvsStats.Service s : sortedServices(stats)) {
            sb.append(String.format("%-33s", serviceName(s)));
            rates(sb, s.rates());
            for (IpvsStats.RealServerStats d : sortedDests(s)) {
                sb.append(String.format("  -> %-28s", destName(d)));
                rates(sb, d.rates());
            }
        }
        return sb.toString();
    }

    /**
     * {@code ipvsadm -lnc}: one line per connection entry with its protocol, time left ({@code mm:ss}),
     * IPVS state, client, virtual service and real server. ipvsadm lists entries in hash order; here they
     * are sorted by protocol, virtual address, client and real server, so that listings compare.
     */
    public static String renderConnections(IpvsConnections connections) {
        Objects.requireNonNull(connections, "connections");
        StringBuilder sb = new StringBuilder(128 + 80 * connections.entries().size());
        sb.append("IPVS connection entries\n");
        sb.append(String.format("pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination"));
        List<IpvsConnections.Entry> l = new ArrayList<>(connections.entries());
        l.sort(Comparator.comparing(IpvsConnections.Entry::protocol)
                .thenComparing(IpvsConnections.Entry::virtual, BY_ADDRESS)
                .thenComparing(IpvsConnections.Entry::source, BY_ADDRESS)
                .thenComparing(IpvsConnections.Entry::destination, BY_ADDRESS));
        for (IpvsConnections.Entry e : l) {
            long seconds = e.expires().toSeconds();
            sb.append(String.format("%-3s %-6s %-11s %-18s %-18s %s\n", e.protocol().name(),
                    String.format("%02d:%02d", seconds / 60, seconds % 60), e.state().name(), addrPort(e.source()),
                    addrPort(e.virtual()), addrPort(e.destination())));
        }
        return sb.toString();
    }

    private static StringBuilder title(IpvsStats stats) {
        Objects.requireNonNull(stats, "stats");
        return new StringBuilder(256).append("IP Virtual Server version ").append(VERSION).append(" (size=")
                .append(stats.tableSize()).append(")\n");
    }

    private static void counters(StringBuilder sb, IpvsStats.Counters c) {
        largeNum(sb, c.conns());
        largeNum(sb, c.inPkts());
        largeNum(sb, c.outPkts());
        largeNum(sb, c.inBytes());
        largeNum(sb, c.outBytes());
        sb.append('\n');
    }

    private static void rates(StringBuilder sb, IpvsStats.Rates r) {
        largeNum(sb, r.cps());
        largeNum(sb, r.inPps());
        largeNum(sb, r.outPps());
        largeNum(sb, r.inBps());
        largeNum(sb, r.outBps());
        sb.append('\n');
    }

    /** ipvsadm's print_largenum without {@code --exact}: nine columns, K/M/G/T beyond 100 million. */
    static void largeNum(StringBuilder sb, long i) {
        if (i < 100_000_000L) {
            sb.append(String.format("%9d", i));
        } else if (i < 1_000_000_000L) {
            sb.append(String.format("%8dK", i / 1000));
        } else if (i < 100_000_000_000L) {
            sb.append(String.format("%8dM", i / 1_000_000L));
        } else if (i < 100_000_000_000_000L) {
            sb.append(String.format("%8dG", i / 1_000_000_000L));
        } else {
            sb.append(String.format("%8dT", i / 1_000_000_000_000L));
        }
    }

    private static String serviceName(IpvsStats.Service s) {
        String name = s.protocol().name() + "  " + addrPort(s.address());
        // ipvsadm cuts IPv4 service names at 33 characters.
        return s.address().getAddress() instanceof Inet6Address || name.length() <= 33 ? name : name.substring(0, 33);
    }

    private static String destName(IpvsStats.RealServerStats d) {
        String name = addrPort(d.address());
        return d.address().getAddress() instanceof Inet6Address || name.length() <= 28 ? name : name.substring(0, 28);
    }

    static String addrPort(InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        return ip instanceof Inet6Address ? "[" + ntop(ip) + "]:" + a.getPort() : ip.getHostAddress() + ":" + a.getPort();
    }

    private static final byte[] ZEROS = new byte[12];

    /**
     * An address as ipvsadm prints it, with glibc's inet_ntop: IPv6 in RFC 5952's form (Netty's
     * formatter: lowercase, no leading zeros, the longest run of two or more zero groups as "::", the
     * first on a tie), IPv4-mapped as ::ffff:a.b.c.d and IPv4-compatible as ::a.b.c.d; no scope.
     */
    static String ntop(InetAddress ip) {
        byte[] b = ip.getAddress();
        if (b.length == 16 && (b[12] | b[13]) != 0 && Arrays.equals(b, 0, 12, ZEROS, 0, 12)) {
            // inet_ntop prints the last 32 bits dotted after exactly six zero groups.
            return "::" + (b[12] & 0xFF) + "." + (b[13] & 0xFF) + "." + (b[14] & 0xFF) + "." + (b[15] & 0xFF);
        }
        return NetUtil.toAddressString(ip, true);
    }

    static String netmask(int prefix) {
        long m = prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
        return (m >>> 24) + "." + ((m >>> 16) & 0xFF) + "." + ((m >>> 8) & 0xFF) + "." + (m & 0xFF);
    }

    static final Comparator<InetSocketAddress> BY_ADDRESS = (a, b) -> {
        byte[] x = a.getAddress().getAddress();
        byte[] y = b.getAddress().getAddress();
        if (x.length != y.length) {
            return Integer.compare(x.length, y.length);
        }
        int c = Arrays.compareUnsigned(x, y);
        return c != 0 ? c : Integer.compare(a.getPort(), b.getPort());
    };

    private static List<IpvsStats.Service> sortedServices(IpvsStats stats) {
        List<IpvsStats.Service> l = new ArrayList<>(stats.services());
        l.sort(Comparator.comparing(IpvsStats.Service::protocol).thenComparing(IpvsStats.Service::address, BY_ADDRESS));
        return l;
    }

    private static List<IpvsStats.RealServerStats> sortedDests(IpvsStats.Service s) {
        List<IpvsStats.RealServerStats> l = new ArrayList<>(s.realServers());
        l.sort(Comparator.comparing(IpvsStats.RealServerStats::address, BY_ADDRESS));
        return l;
    }
}
