package dev.lbkit.examples;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Json;
import dev.lbkit.examples.support.AdminServer;
import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Command;
import dev.lbkit.examples.support.Running;
import dev.lbkit.examples.support.StartException;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l7.HttpBalancer;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seed's scale-out shape on one machine: DNS round robin over two L4 virtual services, each spreading
 * connections over two L7 balancers, which balance HTTP over the two backends.
 *
 * <pre>
 *                         my-awesome-highload-app.local (127.0.0.1:8053)
 *                        /                                              \
 *       L4 127.0.100.1:8080 (rr)                              L4 127.0.100.2:8080 (rr)
 *        /                  \                                  /                  \
 * L7 127.0.0.11:8888   L7 127.0.0.12:8888             L7 127.0.0.13:8888   L7 127.0.0.14:8888
 *        \__________________\_____________ ____________________/__________________/
 *                                         |
 *                     backends 127.0.0.1:8081, 127.0.0.1:8082
 * </pre>
 *
 * <p>Every box is one of the other examples, started with different options: the same code runs a tier
 * on its own machine, with the machine's address instead of a loopback one. DNS probes the L4 port of
 * each virtual service address, so a dead L4 instance leaves the answers. One admin endpoint answers
 * {@code GET /ipvs} (both listings) and {@code GET /stats} (the four L7 balancers' counters).
 *
 * <p>Parts: {@code backends}, {@code dns}, {@code l4-a}, {@code l4-b}, {@code l7-1} … {@code l7-4} (each a
 * {@link Running}); addresses named after them.
 */
public final class StackCommand implements Command {
    private static final Logger log = LoggerFactory.getLogger(StackCommand.class);

    private static final List<String> VIPS = List.of("127.0.100.1", "127.0.100.2");
    private static final List<String> L7_HOSTS = List.of("127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14");

    private static final Cli.Spec SPEC = Cli.Spec.of("stack",
                    "DNS round robin over two L4 services, each over two L7 balancers, over the backends; on 127.0.0.x.")
            .option("ports", "seed|ephemeral", "seed", "seed ports (DNS 8053, L4 8080, L7 8888, backends 8081,8082)"
                    + " or ephemeral ones")
            .option("forward", "HOST:PORT|none", "none", "resolver for names other than the app's")
            .option("admin", "HOST:PORT|none", "127.0.0.1:9090", "admin endpoint: GET /ipvs, GET /stats")
            .option("threads", "N", "1", "event loops per balancer (seven balancers share the machine)");

    @Override
    public Cli.Spec spec() {
        return SPEC;
    }

    @Override
    public Running start(Cli.Args args) {
        // On ephemeral ports the second virtual service needs the port the kernel gave the first, on another
        // address, where it may be taken: a few attempts make that collision harmless.
        for (int attempt = 1;; attempt++) {
            try {
                return startOnce(args);
            } catch (StartException e) {
                if (attempt == 3 || !args.value("ports").equalsIgnoreCase("ephemeral")) {
                    throw e;
                }
            }
        }
    }

    private Running startOnce(Cli.Args args) {
        String mode = args.value("ports").toLowerCase(Locale.ROOT);
        if (!mode.equals("seed") && !mode.equals("ephemeral")) {
            throw args.usage("ports", "must be seed or ephemeral, got '" + args.value("ports") + "'");
        }
        boolean seed = mode.equals("seed");
        String threads = String.valueOf(args.intValue("threads", 1, 1024));
        String forward = args.optional("forward").orElse("none");
        Optional<InetSocketAddress> adminAt = args.addressOrNone("admin");

        Running running = new Running("stack");
        try {
            Running backends = running.own(new BackendsCommand().start("--ports", seed ? "8081,8082" : "0,0"));
            String b1 = Addresses.format(backends.address("backend-1"));
            String b2 = Addresses.format(backends.address("backend-2"));
            expose(running, "backends", backends, null);

            // Four L7 balancers, each balancing HTTP over both backends (no backup tier in the scale-out shape).
            List<Running> l7s = new ArrayList<>();
            for (int i = 0; i < L7_HOSTS.size(); i++) {
                Running l7 = running.own(new L7Command().start("--listen", L7_HOSTS.get(i) + ":" + (seed ? 8888 : 0),
                        "--upstream", b1, "--upstream", b2, "--backup", "none", "--admin", "none", "--threads", threads));
                l7s.add(l7);
                expose(running, "l7-" + (i + 1), l7, "l7");
            }

            // Two L4 virtual services on the same port of two addresses, each over two of the L7 balancers.
            List<Running> l4s = new ArrayList<>();
            int vipPort = seed ? 8080 : 0;
            for (int i = 0; i < VIPS.size(); i++) {
                Running l4 = running.own(new L4Command().start("--listen", VIPS.get(i) + ":" + vipPort,
                        "--real", Addresses.format(l7s.get(2 * i).address("l7")),
                        "--real", Addresses.format(l7s.get(2 * i + 1).address("l7")), "--admin", "none",
                        "--threads", threads));
                vipPort = l4.address("l4").getPort(); // DNS answers carry no port: both services share one.
                l4s.add(l4);
                expose(running, "l4-" + (char) ('a' + i), l4, "l4");
            }

            // DNS round robin over the two virtual service addresses, probing their port.
            Running dns = running.own(new DnsCommand().start("--listen", "127.0.0.1:" + (seed ? 8053 : 0),
                    "--address", VIPS.get(0), "--address", VIPS.get(1), "--health-port", String.valueOf(vipPort),
                    "--health-interval", "1s", "--forward", forward, "--threads", threads));
            expose(running, "dns", dns, "dns");

            if (adminAt.isPresent()) {
                AdminServer admin = running.own(AdminServer.builder()
                        .text("/ipvs", q -> listings(l4s, q))
                        .json("/stats", q -> stats(l7s))
                        .start("stack", adminAt.get()));
                running.address("admin", admin.address());
            }
            log.info("stack ready: {} -> {}:{} (L4 rr) -> 4 x L7 -> {}, {}", Seed.NAME, VIPS, vipPort, b1, b2);
            return running;
        } catch (StartException | Cli.UsageException e) {
            running.close();
            throw e;
        } catch (RuntimeException e) {
            running.close();
            throw new StartException("stack: " + Addresses.reason(e), e);
        }
    }

    /** Exposes {@code part} under {@code name}, its addresses as {@code name/key}, and its main one as {@code name}. */
    private static void expose(Running stack, String name, Running part, String mainKey) {
        stack.part(name, part);
        part.addresses().forEach((k, a) -> stack.address(name + "/" + k, a));
        if (mainKey != null) {
            stack.address(name, part.address(mainKey));
        }
    }

    private static String listings(List<Running> l4s, String query) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < l4s.size(); i++) {
            sb.append("# l4-").append((char) ('a' + i)).append('\n')
                    .append(L4Command.listing(l4s.get(i).part("l4", L4Balancer.class), query));
        }
        return sb.toString();
    }

    private static String stats(List<Running> l7s) {
        Map<String, Object> root = new LinkedHashMap<>();
        for (int i = 0; i < l7s.size(); i++) {
            Running l7 = l7s.get(i);
            root.put("l7-" + (i + 1), L7Command.stats(l7.part("l7", HttpBalancer.class), l7.part("pool", UpstreamPool.class)));
        }
        return Json.write(root) + "\n";
    }
}
