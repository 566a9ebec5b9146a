package dev.lbkit.examples;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.PassiveHealthPolicy;
import dev.lbkit.api.internal.Json;
import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Command;
import dev.lbkit.examples.support.Discovery;
import dev.lbkit.examples.support.Durations;
import dev.lbkit.examples.support.Running;
import dev.lbkit.examples.support.StatsPage;
import dev.lbkit.l7.HostHeader;
import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.HttpBalancerStats;
import dev.lbkit.l7.ProxyTimeouts;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.TrafficStats;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.l7.UpstreamKeepAlive;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task 4 of the seed: nginx's configuration, wired with lb-l7.
 *
 * <pre>
 * upstream backend {
 *     server 127.0.0.1:8081 max_fails=7 fail_timeout=10s;
 *     server 127.0.0.1:8082 backup;
 * }
 * server {
 *     listen 127.0.0.1:8888;
 *     location / {
 *         proxy_pass http://backend;
 *         proxy_set_header X-high-load-test 123;
 *         proxy_connect_timeout 1s; proxy_send_timeout 1s; proxy_read_timeout 1s; send_timeout 1s;
 *     }
 * }
 * </pre>
 *
 * <p>As {@code proxy_pass http://backend} does, the upstream request carries {@code Host: backend} and
 * {@code Connection: close} (no upstream keep-alive). An admin endpoint answers {@code GET /stats} with the
 * per-upstream counters as JSON.
 *
 * <p>Parts: {@code l7} (the {@link HttpBalancer}), {@code pool} (the {@link UpstreamPool}); addresses
 * {@code l7} and, unless {@code --admin none}, {@code admin}.
 */
public final class L7Command implements Command {
    private static final Logger log = LoggerFactory.getLogger(L7Command.class);

    /** The upstream block's name: nginx sends it as the Host header. */
    public static final String GROUP = "backend";

    private static final Cli.Spec SPEC = Cli.Spec.of("l7",
                    "Task 4: the seed's nginx configuration (primary, backup, max_fails, 1 s timeouts) with lb-l7.")
            .option("listen", "HOST:PORT", "127.0.0.1:8888", "address to listen on")
            .repeatable("upstream", "HOST:PORT", List.of("127.0.0.1:8081"), "primary upstream server")
            .option("max-fails", "N", "7", "failures within --fail-timeout that make an upstream unavailable")
            .option("fail-timeout", "DURATION", "10s", "failure window, and how long an upstream stays unavailable")
            .option("backup", "HOST:PORT|none", "127.0.0.1:8082", "backup server, used when no primary is available")
            .repeatable("set-header", "'NAME: VALUE'|none", List.of("X-high-load-test: 123"),
                    "request header set towards the upstreams (proxy_set_header)")
            .option("connect-timeout", "DURATION", "1s", "proxy_connect_timeout")
            .option("send-timeout", "DURATION", "1s", "proxy_send_timeout")
            .option("read-timeout", "DURATION", "1s", "proxy_read_timeout")
            .option("client-send-timeout", "DURATION", "1s", "send_timeout (towards the client)")
            .option("scheduler", "NAME", "rr", "scheduler among the primaries (rr, wrr, lc, p2c, ...)")
            .option("discovery", "URI|none", "none", Discovery.HELP)
            .option("threads", "N", null, "event loops (default: available processors)")
            .option("admin", "HOST:PORT|none", "127.0.0.1:9091",
                    "lb-admin: stats page at /, JSON and runtime API under /api/v1/, GET /stats")
            .option("admin-token", "TOKEN|none", "none", StatsPage.TOKEN_HELP);

    @Override
    public Cli.Spec spec() {
        return SPEC;
    }

    @Override
    public Running start(Cli.Args args) {
        InetSocketAddress listen = args.address("listen");
        List<InetSocketAddress> primaries = args.addresses("upstream");
        Optional<InetSocketAddress> backup = args.addressOrNone("backup");
        int maxFails = args.intValue("max-fails", 0, PassiveHealthPolicy.MAX_MAX_FAILS);
        Duration failTimeout = args.duration("fail-timeout");
        List<String[]> headers = headers(args);
        ProxyTimeouts timeouts;
        try {
            timeouts = ProxyTimeouts.builder()
                    .connect(args.duration("connect-timeout"))
                    .send(args.duration("send-timeout"))
                    .read(args.duration("read-timeout"))
                    .clientSend(args.duration("client-send-timeout"))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new Cli.UsageException("l7: " + e.getMessage());
        }
        Optional<Integer> threads = args.optional("threads").map(t -> args.intValue("threads", 1, 1024));

        Running running = new Running("l7");
        try {
            // upstream backend { server ... max_fails=7 fail_timeout=10s; server ... backup; }
            UpstreamPool.Builder pool = UpstreamPool.builder().name(GROUP);
            try {
                pool.healthPolicy(PassiveHealthPolicy.builder().maxFails(maxFails).failTimeout(failTimeout).build());
            } catch (IllegalArgumentException e) {
                throw args.usage("fail-timeout", "must be positive, got '" + args.value("fail-timeout") + "'");
            }
            try {
                pool.scheduler(args.value("scheduler"));
            } catch (IllegalArgumentException e) {
                throw args.usage("scheduler", "is not a known scheduler: " + e.getMessage());
            }
            for (InetSocketAddress a : primaries) {
                pool.add(Upstream.of(a));
            }
            backup.ifPresent(a -> pool.add(Upstream.builder(a).backup(true).build()));
            UpstreamPool upstreams = running.own(pool.build());
            Discovery.follow(args, "discovery", upstreams, running);

            // location / { proxy_pass http://backend; proxy_set_header ...; }
            Route.Builder route = Route.builder("/")
                    .group(UpstreamGroup.builder(upstreams).name(GROUP).keepAlive(UpstreamKeepAlive.OFF).build())
                    .hostHeader(HostHeader.groupName());
            for (String[] h : headers) {
                route.setRequestHeader(h[0], h[1]);
            }
            HttpBalancer.Builder builder = HttpBalancer.builder().listen(listen).timeouts(timeouts).route(route.build());
            threads.ifPresent(builder::eventLoops);
            HttpBalancer balancer = running.own(Addresses.bind("l7", listen, () -> builder.build().start()));
            running.address("l7", balancer.address());
            running.part("l7", balancer);
            running.part("pool", upstreams);
            log.info("l7 listening on http://{}/ -> upstream {} {}, proxy timeouts {}", Addresses.format(balancer.address()),
                    GROUP, "{" + describe(upstreams, maxFails, failTimeout) + "}", Durations.format(timeouts.read()));

            StatsPage.start("l7", args, running, b -> b.http("l7", balancer)
                    .endpoint("/stats", "application/json", q -> statsJson(balancer, upstreams)));
            return running;
        } catch (RuntimeException e) {
            running.close();
            throw e;
        }
    }

    private static List<String[]> headers(Cli.Args args) {
        List<String[]> out = new ArrayList<>();
        for (String h : args.values("set-header")) {
            if (h.equalsIgnoreCase("none")) {
                continue;
            }
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw args.usage("set-header", "must be 'NAME: VALUE', got '" + h + "'");
            }
            out.add(new String[] {h.substring(0, colon).trim(), h.substring(colon + 1).trim()});
        }
        return out;
    }

    private static String describe(UpstreamPool pool, int maxFails, Duration failTimeout) {
        List<String> parts = new ArrayList<>();
        for (Member m : pool.snapshot().members()) {
            parts.add(m.upstream().key() + (m.upstream().isBackup() ? " backup"
                    : " max_fails=" + maxFails + " fail_timeout=" + Durations.format(failTimeout)));
        }
        return String.join("; ", parts);
    }

    /** The per-upstream counters, with each upstream's tier and whether it is available now, as JSON. */
    static String statsJson(HttpBalancer balancer, UpstreamPool pool) {
        return Json.write(stats(balancer, pool)) + "\n";
    }

    /** The per-upstream counters, with each upstream's tier and whether it is available now. */
    static Map<String, Object> stats(HttpBalancer balancer, UpstreamPool pool) {
        HttpBalancerStats stats = balancer.stats();
        long now = pool.ticker().nanoTime();
        List<Object> upstreams = new ArrayList<>();
        for (Member m : pool.snapshot().members()) {
            TrafficStats t = stats.upstream(GROUP, m.upstream().key());
            Map<String, Object> u = new LinkedHashMap<>();
            u.put("group", GROUP);
            u.put("upstream", m.upstream().key());
            u.put("backup", m.upstream().isBackup());
            u.put("available", m.isAvailable(now));
            u.putAll(counters(t));
            upstreams.add(u);
        }
        Map<String, Object> routes = new LinkedHashMap<>();
        stats.routes().forEach((name, t) -> routes.put(name, counters(t)));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("listen", Addresses.format(balancer.address()));
        root.put("openConnections", stats.openConnections());
        root.put("upstreams", upstreams);
        root.put("routes", routes);
        return root;
    }

    private static Map<String, Object> counters(TrafficStats t) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("requests", t.requests());
        Map<String, Object> classes = new LinkedHashMap<>();
        for (int i = 1; i <= 5; i++) {
            classes.put(i + "xx", t.responses(i));
        }
        c.put("responses", classes);
        c.put("failures", t.failures());
        c.put("retries", t.retries());
        c.put("bytesIn", t.bytesIn());
        c.put("bytesOut", t.bytesOut());
        c.put("inFlight", t.inFlight());
        return c;
    }
}
