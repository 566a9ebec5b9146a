package dev.lbkit.examples;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.TcpConnectProbe;
import dev.lbkit.api.internal.Json;
import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.dns.DnsStats;
import dev.lbkit.dns.ServedName;
import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Command;
import dev.lbkit.examples.support.Durations;
import dev.lbkit.examples.support.Running;
import dev.lbkit.examples.support.StatsPage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task 2 of the seed: dnsmasq's round robin, wired with lb-dns.
 *
 * <pre>
 * address=/my-awesome-highload-app.local/127.0.0.1
 * address=/my-awesome-highload-app.local/127.0.0.2
 * server=8.8.8.8
 * </pre>
 *
 * <p>The name is answered authoritatively with both addresses, TTL 0, the order rotating per query;
 * every other name is forwarded ({@code --forward}, by default the first nameserver of
 * {@code /etc/resolv.conf}), or REFUSED with {@code --forward none}. What dnsmasq cannot do:
 * {@code --health-port 8082} probes that TCP port on each address and leaves the dead ones out of the
 * answers.
 *
 * <p>Parts: {@code dns} (the {@link DnsBalancer}), {@code pool} (the {@link UpstreamPool} of the name's
 * addresses); addresses {@code dns} and, with {@code --admin}, {@code admin}.
 */
public final class DnsCommand implements Command {
    private static final Logger log = LoggerFactory.getLogger(DnsCommand.class);

    /** The port recorded on the name's upstreams when no health port is given: A records carry no port. */
    private static final int NO_PORT = 80;

    private static final Cli.Spec SPEC = Cli.Spec.of("dns",
                    "Task 2: dnsmasq-style DNS round robin (TTL 0, forwarding), health-aware on request, with lb-dns.")
            .option("listen", "HOST:PORT", "127.0.0.1:8053", "UDP and TCP address to answer on")
            .option("name", "NAME", Seed.NAME, "the name answered with --address records")
            .repeatable("address", "IP", List.of("127.0.0.1", "127.0.0.2"), "an address of --name (address=/NAME/IP)")
            .option("ttl", "SECONDS", "0", "TTL of the name's records")
            .option("forward", "HOST:PORT|none|resolv.conf", "resolv.conf",
                    "resolver for every other name (server=); none: REFUSED; resolv.conf: its first nameserver")
            .option("health-port", "PORT", null, "probe this TCP port on each address; leave dead ones out of answers")
            .option("health-interval", "DURATION", "2s", "time between two probes of an address")
            .option("threads", "N", null, "event loops (default: available processors)")
            .option("admin", "HOST:PORT|none", "none",
                    "lb-admin: stats page at /, JSON and runtime API under /api/v1/, GET /stats")
            .option("admin-token", "TOKEN|none", "none", StatsPage.TOKEN_HELP);

    @Override
    public Cli.Spec spec() {
        return SPEC;
    }

    @Override
    public Running start(Cli.Args args) {
        InetSocketAddress listen = args.address("listen");
        String name = args.value("name");
        List<InetAddress> addresses = args.hosts("address");
        int ttl = args.intValue("ttl", 0, Integer.MAX_VALUE);
        Optional<InetSocketAddress> forward = forwarder(args);
        Optional<Integer> healthPort = args.optional("health-port").map(p -> args.intValue("health-port", 1, 65535));
        Duration interval = args.duration("health-interval");
        if (interval.isZero()) {
            throw args.usage("health-interval", "must be positive");
        }
        Optional<Integer> threads = args.optional("threads").map(t -> args.intValue("threads", 1, 1024));

        Running running = new Running("dns");
        try {
            // address=/NAME/IP for each address, as the members of a pool, probed when asked to.
            UpstreamPool.Builder pool = UpstreamPool.builder().name(name);
            int port = healthPort.orElse(NO_PORT);
            for (InetAddress a : addresses) {
                pool.add(Upstream.of(new InetSocketAddress(a, port)));
            }
            healthPort.ifPresent(p -> pool.healthPolicy(
                    ActiveHealthPolicy.builder(TcpConnectProbe.onPort(p)).interval(interval).build()));
            UpstreamPool members = running.own(pool.build());
            ServedName served;
            try {
                served = ServedName.builder(name, members).ttl(Duration.ofSeconds(ttl)).build();
            } catch (IllegalArgumentException e) {
                throw args.usage("name", e.getMessage());
            }

            DnsBalancer.Builder builder = DnsBalancer.builder().listen(listen).name(served);
            forward.ifPresent(builder::forwarder);
            threads.ifPresent(builder::ioThreads);
            DnsBalancer dns = running.own(Addresses.bind("dns", listen, builder::start));
            running.address("dns", dns.localAddress());
            running.part("dns", dns);
            running.part("pool", members);
            log.info("dns listening on {} (UDP, TCP): {} -> {} TTL {}{}; other names {}", Addresses.format(dns.localAddress()),
                    name, addresses.stream().map(InetAddress::getHostAddress).toList(), ttl,
                    healthPort.map(p -> ", probing TCP port " + p + " every " + Durations.format(interval)).orElse(""),
                    forward.map(f -> "forwarded to " + Addresses.format(f)).orElse("REFUSED"));

            StatsPage.start("dns", args, running, b -> b.dns("dns", dns, members)
                    .endpoint("/stats", "application/json", q -> statsJson(dns, members)));
            return running;
        } catch (RuntimeException e) {
            running.close();
            throw e;
        }
    }

    /** {@code --forward}: an address, {@code none}, or ({@code resolv.conf}, the default) the first nameserver of /etc/resolv.conf. */
    static Optional<InetSocketAddress> forwarder(Cli.Args args) {
        if (!args.value("forward").equals("resolv.conf")) {
            return args.addressOrNone("forward");
        }
        Optional<InetSocketAddress> system = firstNameserver(Path.of("/etc/resolv.conf"));
        if (system.isEmpty()) {
            log.warn("no nameserver in /etc/resolv.conf: other names are REFUSED (use --forward HOST:PORT)");
        }
        return system;
    }

    /** The first {@code nameserver} line's address of a resolv.conf file, port 53; empty if there is none. */
    static Optional<InetSocketAddress> firstNameserver(Path resolvConf) {
        List<String> lines;
        try {
            lines = Files.readAllLines(resolvConf);
        } catch (IOException e) {
            return Optional.empty();
        }
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals("nameserver")) {
                String host = f[1];
                int zone = host.indexOf('%');
                try {
                    // Only literals appear here; a lookup would need the very resolver being configured.
                    InetAddress a = InetAddress.getByName(zone >= 0 ? host.substring(0, zone) : host);
                    return Optional.of(new InetSocketAddress(a, 53));
                } catch (IOException e) {
                    continue;
                }
            }
        }
        return Optional.empty();
    }

    /** The query counters and each address's availability, as JSON. */
    static String statsJson(DnsBalancer dns, UpstreamPool pool) {
        DnsStats s = dns.stats();
        long now = pool.ticker().nanoTime();
        List<Object> members = new ArrayList<>();
        for (Member m : pool.snapshot().members()) {
            Map<String, Object> u = new LinkedHashMap<>();
            u.put("address", m.upstream().host());
            u.put("available", m.isAvailable(now));
            members.add(u);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("listen", Addresses.format(dns.localAddress()));
        root.put("name", pool.name());
        root.put("addresses", members);
        root.put("byName", s.byName());
        root.put("udpQueries", s.udpQueries());
        root.put("tcpQueries", s.tcpQueries());
        root.put("forwarded", s.forwarded());
        root.put("cacheHits", s.cacheHits());
        root.put("forwardTimeouts", s.forwardTimeouts());
        root.put("dropped", s.dropped());
        return Json.write(root) + "\n";
    }
}
