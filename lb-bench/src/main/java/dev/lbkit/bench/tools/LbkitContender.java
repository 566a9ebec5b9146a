package dev.lbkit.bench.tools;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.dns.ServedName;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l4.RealServer;
import dev.lbkit.l4.VirtualService;
import dev.lbkit.l7.HostHeader;
import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.ProxyTimeouts;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.l7.UpstreamKeepAlive;
import dev.lbkit.transport.TransportType;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * lbkit's contenders in lb-bench/run, configured exactly as the script configures nginx, HAProxy and
 * dnsmasq, with N event loops:
 *
 * <ul>
 *   <li>{@code l7 LISTEN UPSTREAM N}: lb-l7 in front of one upstream, a keep-alive pool of 1024 idle upstream
 *       connections per event loop (nginx's {@code keepalive 1024}, unlimited requests per connection),
 *       {@code X-high-load-test: 123} set on every request, 1 s upstream timeouts;</li>
 *   <li>{@code l4 LISTEN REAL N}: lb-l4, one TCP virtual service, scheduler {@code rr}, one real server,
 *       1 s connect timeout;</li>
 *   <li>{@code dns LISTEN N}: lb-dns answering {@code my-awesome-highload-app.local} with 127.0.0.1 and
 *       127.0.0.2, TTL 0, no forwarding, no health probes (dnsmasq probes nothing either).</li>
 * </ul>
 *
 * <p>The {@code l7} command of lb-examples reproduces the seed, which has no upstream keep-alive (nginx's
 * {@code proxy_pass} default): against peers that keep upstream connections alive it would measure that
 * configuration difference, not the proxies. The contenders are built here, from the modules'
 * public API, so that one file shows what is compared.
 *
 * <p>The transport is the builders' default ({@code AUTO}: epoll when it loads) unless the system
 * property {@code lbkit.transport} names another {@link TransportType} ({@code IO_URING}, {@code NIO}).
 * {@code -Dlbkit.zeroCopy=true} makes lb-l4 splice on epoll instead of copying through buffers (its default).
 *
 * <p>Prints one line once listening, runs until SIGTERM; exits 2 with a usage line on bad arguments.
 */
public final class LbkitContender {

    /**
     * Idle upstream connections kept per event loop: nginx's {@code keepalive 1024} in the benchmark, more
     * than the 512 clients of its largest load, as HAProxy keeps every idle connection by default.
     */
    public static final int KEEP_ALIVE_IDLE = 1024;
    /** The transport every contender runs on: {@code -Dlbkit.transport=...}, default AUTO. */
    static final TransportType TRANSPORT = transport(System.getProperty("lbkit.transport", "AUTO"));
    /** {@code -Dlbkit.zeroCopy=true|false} for lb-l4 (splicing, used on epoll only); absent: the builder's default. */
    static final String ZERO_COPY = System.getProperty("lbkit.zeroCopy");
    /** The seed's name. */
    public static final String NAME = "my-awesome-highload-app.local";

    private static final String USAGE = "usage: LbkitContender l7 LISTEN UPSTREAM N | l4 LISTEN REAL N | dns LISTEN N"
            + "   (HOST:PORT addresses, N event loops)";

    private LbkitContender() {
    }

    /** The named transport if it loads here, else AUTO (said on standard error). */
    static TransportType transport(String name) {
        TransportType t = TransportType.valueOf(name.toUpperCase(java.util.Locale.ROOT));
        if (t != TransportType.AUTO && !TransportType.available().contains(t)) {
            System.err.println("LbkitContender: transport " + t + " does not load here; running on AUTO");
            return TransportType.AUTO;
        }
        return t;
    }

    /**
     * Entry point.
     *
     * @param args see the class description
     * @throws InterruptedException if interrupted while serving
     */
    public static void main(String[] args) throws InterruptedException {
        serve("LbkitContender", USAGE, args, LbkitContender::start);
    }

    /** Starts a contender from its arguments, adding what must be closed to {@code parts} in start order. */
    @FunctionalInterface
    interface Starter {
        Started start(String[] args, List<AutoCloseable> parts);
    }

    /**
     * Runs a benchmark tool's main: starts it, prints its one line, serves until SIGTERM and closes what it
     * started in reverse order; on bad arguments prints the usage and the reason and exits 2.
     */
    static void serve(String tool, String usage, String[] args, Starter starter) throws InterruptedException {
        List<AutoCloseable> parts = new ArrayList<>();
        Started started;
        try {
            started = starter.start(args, parts);
        } catch (IllegalArgumentException e) {
            System.err.println(usage);
            System.err.println(tool + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (int i = parts.size() - 1; i >= 0; i--) {
                try {
                    parts.get(i).close();
                } catch (Exception e) {
                    System.err.println(tool + ": stopping: " + e);
                }
            }
            stopped.countDown();
        }, tool + "-stop"));
        System.out.println(started.description());
        System.out.flush();
        stopped.await();
    }

    /**
     * A started contender.
     *
     * @param description one line saying what listens where
     * @param address the bound address
     */
    record Started(String description, InetSocketAddress address) {
    }

    /** Starts the contender args describe, adding what must be closed to parts, in start order. */
    static Started start(String[] args, List<AutoCloseable> parts) {
        if (args.length == 0) {
            throw new IllegalArgumentException("no tier given");
        }
        switch (args[0]) {
            case "l7" -> {
                expect(args, 4);
                InetSocketAddress listen = address(args[1]);
                InetSocketAddress upstream = address(args[2]);
                int loops = loops(args[3]);
                UpstreamPool pool = UpstreamPool.builder().name("backend").add(Upstream.of(upstream)).build();
                parts.add(pool);
                Route route = Route.builder("/")
                        .group(UpstreamGroup.builder(pool).name("backend")
                                .keepAlive(new UpstreamKeepAlive(KEEP_ALIVE_IDLE, Duration.ofSeconds(300),
                                        Integer.MAX_VALUE))
                                .build())
                        .hostHeader(HostHeader.groupName())
                        .setRequestHeader("X-high-load-test", "123")
                        .build();
                Duration second = Duration.ofSeconds(1);
                ProxyTimeouts timeouts = ProxyTimeouts.builder().connect(second).send(second).read(second)
                        .clientSend(second).keepAlive(Duration.ofSeconds(300)).build();
                HttpBalancer balancer = HttpBalancer.builder().listen(listen).route(route).timeouts(timeouts)
                        .eventLoops(loops).transport(TRANSPORT).build().start();
                parts.add(balancer);
                return new Started("lbkit l7 listening on " + balancer.address() + ", upstream " + upstream + ", "
                        + loops + " event loop(s) on " + balancer.transport() + ", upstream keep-alive " + KEEP_ALIVE_IDLE,
                        balancer.address());
            }
            case "l4" -> {
                expect(args, 4);
                InetSocketAddress listen = address(args[1]);
                InetSocketAddress real = address(args[2]);
                int loops = loops(args[3]);
                L4Balancer.Builder builder = L4Balancer.builder().ioThreads(loops).transport(TRANSPORT);
                if (ZERO_COPY != null) {
                    builder.zeroCopy(Boolean.parseBoolean(ZERO_COPY));
                }
                L4Balancer balancer = builder.build();
                parts.add(balancer);
                // 1 s connect timeout, as nginx's proxy_connect_timeout and HAProxy's timeout connect here.
                InetSocketAddress bound = balancer.addService(VirtualService.tcp(listen).scheduler("rr")
                        .connectTimeout(Duration.ofSeconds(1)).realServer(RealServer.of(real)).build())
                        .localAddress();
                return new Started("lbkit l4 listening on " + bound + ", real server " + real + ", " + loops
                        + " event loop(s) on " + balancer.transport() + (balancer.zeroCopy() ? " with splice" : " copying"),
                        bound);
            }
            case "dns" -> {
                expect(args, 3);
                InetSocketAddress listen = address(args[1]);
                int loops = loops(args[2]);
                // A records carry no port; the pool's port is never used.
                UpstreamPool pool = UpstreamPool.builder().name(NAME)
                        .add(Upstream.of(new InetSocketAddress("127.0.0.1", 80)))
                        .add(Upstream.of(new InetSocketAddress("127.0.0.2", 80)))
                        .build();
                parts.add(pool);
                DnsBalancer dns = DnsBalancer.builder().listen(listen)
                        .name(ServedName.builder(NAME, pool).ttl(Duration.ZERO).build())
                        .ioThreads(loops).transport(TRANSPORT)
                        .start();
                parts.add(dns);
                return new Started("lbkit dns listening on " + dns.localAddress() + ", " + NAME
                        + " A 127.0.0.1 127.0.0.2 TTL 0, " + loops + " event loop(s) on " + dns.transport(), dns.localAddress());
            }
            default -> throw new IllegalArgumentException("unknown tier '" + args[0] + "' (l7, l4, dns)");
        }
    }

    private static void expect(String[] args, int n) {
        if (args.length != n) {
            throw new IllegalArgumentException(args[0] + " takes " + (n - 1) + " arguments, got " + (args.length - 1));
        }
    }

    private static int loops(String s) {
        try {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= 64) {
                return n;
            }
        } catch (NumberFormatException e) {
            // Reported below with the value.
        }
        throw new IllegalArgumentException("event loops must be 1..64, got '" + s + "'");
    }

    static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + hostPort + "'");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad address '" + hostPort + "': " + e.getMessage(), e);
        }
    }
}
