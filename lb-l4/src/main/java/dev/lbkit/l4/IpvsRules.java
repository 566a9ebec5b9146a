package dev.lbkit.l4;

import dev.lbkit.transport.internal.IpAddresses;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * ipvsadm's rule files: {@link #save} writes what {@code ipvsadm -Sn} writes, {@link #restore} applies
 * what {@code ipvsadm-restore} reads, so that rules kept for IPVS move to lb-l4 and back.
 *
 * <p>The lines {@link #restore} understands are ipvsadm's commands {@code -A -E -D -C -a -e -d} (or
 * their long names, optionally after a leading {@code ipvsadm}) with the options {@code -t -u -s -p
 * [timeout] -M -o -r -m -w -x -y}; {@code #} starts a comment. Options ipvsadm has and lb-l4 has not are
 * rejected by name rather than ignored: firewall marks ({@code -f}), direct routing and tunnelling
 * ({@code -g}, {@code -i}; lb-l4 forwards as NAT, so {@code -m} and no forwarding option both mean NAT),
 * persistence engines ({@code pe}), scheduler flags ({@code -b}). Addresses must be numeric, as
 * {@code -n} prints them (names are not resolved). Defaults are ipvsadm's: scheduler {@code wlc},
 * persistence timeout 300 s when {@code -p} has none, weight 1, no thresholds; {@code -E} and
 * {@code -e} set every scheduling option anew from the line (absent ones take these defaults) and keep
 * the lbkit-only settings (timeouts, health policy, PROXY protocol ...). The scheduler name is written
 * and read as lbkit names it: an IPVS name, with lbkit's options after a colon ({@code mh:table-size=251}).
 *
 * <p>Stateless and thread-safe.
 */
public final class IpvsRules {
    /** ipvsadm's persistence timeout when {@code -p} is given without one. */
    public static final Duration DEFAULT_PERSISTENCE = Duration.ofSeconds(300);

    private static final Pattern NUMBER = Pattern.compile("\\d{1,9}");

    private IpvsRules() {}

    /**
     * {@code ipvsadm -Sn}: one {@code -A} line per running service, sorted as ipvsadm sorts them, each
     * followed by an {@code -a} line per real server, with {@code -x}/{@code -y} when set (ipvsadm leaves
     * thresholds out; its {@code -a} accepts them).
     */
    public static String save(L4Balancer lb) {
        Objects.requireNonNull(lb, "lb");
        List<VirtualServer> services = new ArrayList<>(lb.services());
        services.sort(Comparator.comparing(VirtualServer::protocol)
                .thenComparing(VirtualServer::localAddress, IpvsTable.BY_ADDRESS));
        StringBuilder sb = new StringBuilder();
        for (VirtualServer vs : services) {
            String name = serviceName(vs.protocol(), vs.localAddress());
            sb.append(serviceLine(name, vs.localAddress(), vs.config())).append('\n');
            List<RealServer> reals = new ArrayList<>(vs.realServers());
            reals.sort(Comparator.comparing(RealServer::address, IpvsTable.BY_ADDRESS));
            for (RealServer rs : reals) {
                sb.append(realServerLine(name, rs)).append('\n');
            }
        }
        return sb.toString();
    }

    /** {@code -t a.b.c.d:port}, {@code -u [v6]:port}. */
    static String serviceName(Protocol protocol, InetSocketAddress address) {
        return (protocol == Protocol.TCP ? "-t " : "-u ") + IpvsTable.addrPort(address);
    }

    /** A service's {@code -A} line as ipvsadm writes it, for the service bound to {@code address}. */
    static String serviceLine(String name, InetSocketAddress address, VirtualService c) {
        StringBuilder sb = new StringBuilder("-A ").append(name).append(" -s ").append(c.scheduler());
        if (!c.persistence().isZero()) {
            sb.append(" -p ").append(c.persistence().toSeconds());
            boolean v4 = address.getAddress() instanceof Inet4Address;
            if (c.persistenceNetmask() != (v4 ? 32 : 128)) {
                sb.append(" -M ").append(v4 ? IpvsTable.netmask(c.persistenceNetmask()) : c.persistenceNetmask());
            }
        }
        if (c.onePacket()) {
            sb.append(" --ops");
        }
        return sb.toString();
    }

    /** A real server's {@code -a} line: ipvsadm's, and the thresholds when set. */
    static String realServerLine(String name, RealServer rs) {
        StringBuilder sb = new StringBuilder("-a ").append(name).append(" -r ").append(IpvsTable.addrPort(rs.address()))
                .append(" -m -w ").append(rs.weight());
        if (rs.upperThreshold() > 0) {
            sb.append(" -x ").append(rs.upperThreshold());
        }
        if (rs.lowerThreshold() > 0) {
            sb.append(" -y ").append(rs.lowerThreshold());
        }
        return sb.toString();
    }

    /**
     * {@code ipvsadm-restore}: applies {@code rules} line by line to {@code lb}. Every line is parsed
     * before any is applied, so a malformed file changes nothing; a line that fails when applied (a
     * service that exists already or does not, a real server that is not there, a bind error) stops the
     * restore there, the lines before it applied, as ipvsadm-restore stops.
     *
     * @throws IllegalArgumentException naming the line and the bad value, for a malformed line or one that
     *     cannot be applied
     */
    public static void restore(L4Balancer lb, String rules) {
        Objects.requireNonNull(lb, "lb");
        for (Rule r : parse(Objects.requireNonNull(rules, "rules"))) {
            try {
                r.apply(lb);
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new IllegalArgumentException("line " + r.line + ": " + e.getMessage(), e);
            }
        }
    }

    /** Parses every line; package-private for the parser's tests. */
    static List<Rule> parse(String rules) {
        List<Rule> out = new ArrayList<>();
        String[] lines = rules.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String text = lines[i];
            int hash = text.indexOf('#');
            if (hash >= 0) {
                text = text.substring(0, hash);
            }
            text = text.strip();
            if (text.isEmpty()) {
                continue;
            }
            try {
                out.add(parseLine(i + 1, text.split("\\s+")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static Rule parseLine(int line, String[] t) {
        Rule r = new Rule(line);
        int i = t[0].equals("ipvsadm") ? 1 : 0;
        for (; i < t.length; i++) {
            String o = t[i];
            switch (o) {
                case "-A", "--add-service" -> r.command('A', o);
                case "-E", "--edit-service" -> r.command('E', o);
                case "-D", "--delete-service" -> r.command('D', o);
                case "-C", "--clear" -> r.command('C', o);
                case "-a", "--add-server" -> r.command('a', o);
                case "-e", "--edit-server" -> r.command('e', o);
                case "-d", "--delete-server" -> r.command('d', o);
                case "-t", "--tcp-service" -> r.service(Protocol.TCP, address(arg(t, ++i, o)));
                case "-u", "--udp-service" -> r.service(Protocol.UDP, address(arg(t, ++i, o)));
                case "-s", "--scheduler" -> r.scheduler = arg(t, ++i, o);
                case "-p", "--persistent" -> {
                    r.persistence = DEFAULT_PERSISTENCE;
                    if (i + 1 < t.length && !t[i + 1].startsWith("-")) {
                        r.persistence = Duration.ofSeconds(number(t[++i], o));
                        if (r.persistence.isZero()) {
                            throw new IllegalArgumentException("-p timeout must be positive, got 0");
                        }
                    }
                }
                case "-M", "--netmask" -> r.netmask = arg(t, ++i, o);
                case "-o", "--ops" -> r.onePacket = true;
                case "-r", "--real-server" -> r.real = address(arg(t, ++i, o));
                case "-m", "--masquerading" -> { }
                case "-w", "--weight" -> r.weight = number(arg(t, ++i, o), o);
                case "-x", "--u-threshold" -> r.upper = number(arg(t, ++i, o), o);
                case "-y", "--l-threshold" -> r.lower = number(arg(t, ++i, o), o);
                case "-f", "--fwmark-service" -> throw unsupported(o, "firewall-mark services");
                case "-g", "--gatewaying" -> throw unsupported(o, "direct routing (lb-l4 forwards as NAT, -m)");
                case "-i", "--ipip" -> throw unsupported(o, "tunnelling (lb-l4 forwards as NAT, -m)");
                case "-b", "--sched-flags" -> throw unsupported(o, "scheduler flags");
                case "pe", "--pe" -> throw unsupported(o, "persistence engines");
                default -> throw new IllegalArgumentException("unknown option '" + o + "'");
            }
        }
        r.check();
        return r;
    }

    private static IllegalArgumentException unsupported(String option, String what) {
        return new IllegalArgumentException("'" + option + "': lb-l4 has no " + what);
    }

    private static String arg(String[] t, int i, String option) {
        if (i >= t.length) {
            throw new IllegalArgumentException("'" + option + "' needs a value");
        }
        return t[i];
    }

    private static int number(String s, String option) {
        if (!NUMBER.matcher(s).matches()) {
            throw new IllegalArgumentException("'" + option + "' needs a number, got '" + s + "'");
        }
        return Integer.parseInt(s);
    }

    /** {@code a.b.c.d:port} or {@code [v6]:port}, numeric only: nothing is resolved. */
    static InetSocketAddress address(String s) {
        int colon = s.lastIndexOf(':');
        String host = colon > 0 ? s.substring(0, colon) : "";
        String port = colon > 0 ? s.substring(colon + 1) : "";
        boolean v6 = host.startsWith("[") && host.endsWith("]");
        if (v6) {
            host = host.substring(1, host.length() - 1);
        }
        byte[] ip = new byte[16];
        int n = IpAddresses.parseLiteral(host, 0, host.length(), ip);
        if (n != (v6 ? 16 : 4) || !NUMBER.matcher(port).matches()) {
            throw new IllegalArgumentException("'" + s + "' is not a numeric address:port (a.b.c.d:port or "
                    + "[v6]:port; names are not resolved)");
        }
        int p = Integer.parseInt(port);
        if (p < 1 || p > 65535) {
            throw new IllegalArgumentException("port of '" + s + "' must be in 1..65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOf(ip, n)), p);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are an address", e);
        }
    }

    /** One parsed line. Mutable while parsed, then only read. */
    static final class Rule {
        final int line;
        char command;
        Protocol protocol;
        InetSocketAddress service;
        String scheduler;
        Duration persistence;
        String netmask;
        boolean onePacket;
        InetSocketAddress real;
        int weight = -1;
        int upper = -1;
        int lower = -1;

        Rule(int line) {
            this.line = line;
        }

        void command(char c, String option) {
            if (command != 0) {
                throw new IllegalArgumentException("'" + option + "' after another command");
            }
            command = c;
        }

        void service(Protocol p, InetSocketAddress a) {
            if (service != null) {
                throw new IllegalArgumentException("two services on one line");
            }
            protocol = p;
            service = a;
        }

        /** What each command needs and allows. */
        void check() {
            if (command == 0) {
                throw new IllegalArgumentException("no command (-A, -E, -D, -C, -a, -e or -d)");
            }
            if (command == 'C') {
                if (service != null || real != null) {
                    throw new IllegalArgumentException("-C takes no service or real server");
                }
                return;
            }
            if (service == null) {
                throw new IllegalArgumentException("-" + command + " needs a service (-t or -u)");
            }
            boolean serviceCommand = command == 'A' || command == 'E' || command == 'D';
            if (serviceCommand && (real != null || weight >= 0 || upper >= 0 || lower >= 0)) {
                throw new IllegalArgumentException("-" + command + " takes no real server options (-r -w -x -y)");
            }
            if (!serviceCommand && (scheduler != null || persistence != null || netmask != null || onePacket)) {
                throw new IllegalArgumentException("-" + command + " takes no service options (-s -p -M -o)");
            }
            if (!serviceCommand && real == null) {
                throw new IllegalArgumentException("-" + command + " needs a real server (-r)");
            }
            if (netmask != null && persistence == null) {
                throw new IllegalArgumentException("-M needs -p");
            }
            if (real != null && (real.getAddress() instanceof Inet6Address)
                    != (service.getAddress() instanceof Inet6Address)) {
                throw new IllegalArgumentException("real server " + IpvsTable.addrPort(real)
                        + " is not of the service's address family");
            }
            if (command == 'A' || command == 'E') {
                // Built now so that a bad scheduler, netmask or --ops on TCP fails before anything is applied.
                config(VirtualService.builder(protocol, service));
            }
            if (command == 'a' || command == 'e') {
                realServer();
            }
        }

        /** The line's scheduling options on {@code b}, absent ones at ipvsadm's defaults. */
        VirtualService config(VirtualService.Builder b) {
            boolean v4 = service.getAddress() instanceof Inet4Address;
            b.scheduler(scheduler != null ? scheduler : "wlc")
                    .persistence(persistence != null ? persistence : Duration.ZERO)
                    .persistenceNetmask(netmask == null ? (v4 ? 32 : 128) : prefix(netmask, v4))
                    .onePacket(onePacket);
            return b.build();
        }

        RealServer realServer() {
            return RealServer.builder(real).weight(weight >= 0 ? weight : 1).upperThreshold(Math.max(upper, 0))
                    .lowerThreshold(Math.max(lower, 0)).build();
        }

        void apply(L4Balancer lb) {
            switch (command) {
                case 'A' -> lb.addService(config(VirtualService.builder(protocol, service)));
                case 'E' -> {
                    VirtualServer vs = existing(lb);
                    vs.edit(config(vs.config().toBuilder()));
                }
                case 'D' -> existing(lb).delete();
                case 'C' -> lb.clear();
                case 'a' -> existing(lb).addRealServer(realServer());
                case 'e' -> existing(lb).editRealServer(realServer());
                case 'd' -> {
                    if (!existing(lb).removeRealServer(real)) {
                        throw new IllegalArgumentException("no real server " + IpvsTable.addrPort(real) + " in "
                                + IpvsTable.addrPort(service));
                    }
                }
                default -> throw new AssertionError(command);
            }
        }

        private VirtualServer existing(L4Balancer lb) {
            return lb.service(protocol, service).orElseThrow(() -> new IllegalArgumentException(
                    "no " + protocol + " service " + IpvsTable.addrPort(service)));
        }
    }

    /** {@code -M}: a dotted IPv4 mask (contiguous) or a prefix length. */
    static int prefix(String mask, boolean v4) {
        if (NUMBER.matcher(mask).matches()) {
            int p = Integer.parseInt(mask);
            if (p > (v4 ? 32 : 128)) {
                throw new IllegalArgumentException("-M prefix length " + p + " is out of range");
            }
            return p;
        }
        byte[] b = new byte[16];
        if (!v4 || IpAddresses.parseLiteral(mask, 0, mask.length(), b) != 4) {
            throw new IllegalArgumentException("-M '" + mask + "' is not " + (v4 ? "a netmask" : "a prefix length"));
        }
        long m = (b[0] & 0xFFL) << 24 | (b[1] & 0xFFL) << 16 | (b[2] & 0xFFL) << 8 | b[3] & 0xFFL;
        int p = Long.numberOfLeadingZeros(~m & 0xFFFFFFFFL) - 32;
        long canonical = p == 0 ? 0 : (0xFFFFFFFFL << (32 - p)) & 0xFFFFFFFFL;
        if (m != canonical) {
            throw new IllegalArgumentException("-M '" + mask + "' is not a contiguous netmask");
        }
        return p;
    }
}
