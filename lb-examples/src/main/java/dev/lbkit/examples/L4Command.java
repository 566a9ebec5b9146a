package dev.lbkit.examples;

import dev.lbkit.api.Upstream;
import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Command;
import dev.lbkit.examples.support.Discovery;
import dev.lbkit.examples.support.Running;
import dev.lbkit.examples.support.StatsPage;
import dev.lbkit.l4.IpvsTable;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l4.RealServer;
import dev.lbkit.l4.VirtualServer;
import dev.lbkit.l4.VirtualService;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task 3 of the seed: an IPVS virtual service in NAT mode, wired with lb-l4.
 *
 * <pre>
 * ipvsadm -A -t 127.0.100.1:8080 -s rr
 * ipvsadm -a -t 127.0.100.1:8080 -r 127.0.0.1:8081 -m
 * ipvsadm -a -t 127.0.100.1:8080 -r 127.0.0.1:8082 -m
 * </pre>
 *
 * <p>The seed's VIP was 192.168.100.1:80 on a dummy interface; the example uses 127.0.100.1:8080, a
 * loopback address that needs neither root nor an interface. An admin endpoint answers {@code GET /ipvs}
 * with the {@code ipvsadm -ln} listing, {@code GET /ipvs?stats} and {@code GET /ipvs?rate} with
 * {@code --stats} and {@code --rate}.
 *
 * <p>Parts: {@code l4} (the {@link L4Balancer}), {@code service} (the {@link VirtualServer}); addresses
 * {@code l4} and, unless {@code --admin none}, {@code admin}.
 */
public final class L4Command implements Command {
    private static final Logger log = LoggerFactory.getLogger(L4Command.class);

    private static final Cli.Spec SPEC = Cli.Spec.of("l4",
                    "Task 3: an IPVS-style TCP virtual service (rr, NAT) with an ipvsadm -ln listing, with lb-l4.")
            .option("listen", "HOST:PORT", "127.0.100.1:8080", "virtual service address (VIP:port)")
            .option("scheduler", "NAME", "rr", "IPVS scheduler: rr, wrr, lc, wlc, sh, dh, mh, ...")
            .repeatable("real", "HOST:PORT[:WEIGHT]", List.of("127.0.0.1:8081", "127.0.0.1:8082"),
                    "real server (ipvsadm -a -r ... -m -w WEIGHT)")
            .flag("udp", "a UDP virtual service (ipvsadm -A -u) instead of TCP")
            .option("discovery", "URI|none", "none", Discovery.HELP)
            .option("threads", "N", null, "I/O threads (default: available processors)")
            .option("admin", "HOST:PORT|none", "127.0.0.1:9090",
                    "lb-admin: stats page at /, JSON and runtime API under /api/v1/, GET /ipvs, /ipvs?stats, /ipvs?rate")
            .option("admin-token", "TOKEN|none", "none", StatsPage.TOKEN_HELP);

    @Override
    public Cli.Spec spec() {
        return SPEC;
    }

    /** The {@code --real} values as real servers; the host must be an address literal. */
    static List<RealServer> realServers(Cli.Args args) {
        List<RealServer> out = new ArrayList<>();
        for (String text : args.values("real")) {
            Upstream u;
            try {
                u = Upstream.parse(text);
            } catch (IllegalArgumentException e) {
                throw args.usage("real", "must be HOST:PORT[:WEIGHT], got '" + text + "'");
            }
            if (u.address().isUnresolved()) {
                throw args.usage("real", "must name an IP address literal, got '" + text + "'");
            }
            out.add(RealServer.builder(u.address()).weight(u.weight()).build());
        }
        return out;
    }

    @Override
    public Running start(Cli.Args args) {
        InetSocketAddress listen = args.address("listen");
        List<RealServer> reals = realServers(args);
        Optional<Integer> threads = args.optional("threads").map(t -> args.intValue("threads", 1, 1024));
        VirtualService.Builder service = (args.flag("udp") ? VirtualService.udp(listen) : VirtualService.tcp(listen))
                .scheduler(args.value("scheduler"));
        reals.forEach(service::realServer);
        VirtualService config;
        try {
            config = service.build();
        } catch (IllegalArgumentException e) {
            throw args.usage("scheduler", "is not usable: " + e.getMessage());
        }

        Running running = new Running("l4");
        try {
            L4Balancer.Builder builder = L4Balancer.builder();
            threads.ifPresent(builder::ioThreads);
            L4Balancer balancer = running.own(builder.build());
            // ipvsadm -A -t VIP:PORT -s rr; ipvsadm -a -t VIP:PORT -r REAL -m (for each real server)
            VirtualServer vs = Addresses.bind("l4", listen, () -> balancer.addService(config));
            running.address("l4", vs.localAddress());
            running.part("l4", balancer);
            running.part("service", vs);
            Discovery.follow(args, "discovery", vs.pool(), running);
            log.info("l4 listening on {} {} scheduler {} -> real servers {}", config.protocol(),
                    Addresses.format(vs.localAddress()), config.scheduler(), describe(reals));

            // lb-admin serves /ipvs (?stats, ?rate) with lb-l4's renderings, as listing() does.
            StatsPage.start("l4", args, running, b -> b.l4("l4", balancer));
            return running;
        } catch (RuntimeException e) {
            running.close();
            throw e;
        }
    }

    /** {@code ipvsadm -ln}, or with {@code query} {@code stats} / {@code rate}, {@code --stats} / {@code --rate}. */
    public static String listing(L4Balancer balancer, String query) {
        return switch (query) {
            case "stats" -> IpvsTable.renderStats(balancer.stats());
            case "rate" -> IpvsTable.renderRate(balancer.stats());
            default -> IpvsTable.render(balancer.stats());
        };
    }

    private static String describe(List<RealServer> reals) {
        List<String> parts = new ArrayList<>();
        for (RealServer r : reals) {
            parts.add(Addresses.format(r.address()) + (r.weight() == 1 ? "" : " weight " + r.weight()));
        }
        return String.join(", ", parts);
    }
}
