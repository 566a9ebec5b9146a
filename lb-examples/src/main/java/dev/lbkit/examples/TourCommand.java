package dev.lbkit.examples;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.dns.DnsConnector;
import dev.lbkit.dns.ServedName;
import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Command;
import dev.lbkit.examples.support.Curl;
import dev.lbkit.examples.support.Dig;
import dev.lbkit.examples.support.Running;
import dev.lbkit.examples.support.StartException;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.xbill.DNS.Record;

/**
 * The main demo: starts every example in one JVM on loopback addresses and replays the seed's experiments
 * with the examples' own clients (a curl-like HTTP client, a dig-like DNS client), printing what a person
 * would see, then one verdict line per tier. Exits 0 when every tier behaved as in the seed.
 *
 * <p>By default it uses the seed's ports (8081, 8082, 8053, 127.0.100.1:8080, 8888, admin 9090 and 9091);
 * when one is busy it says so and falls back to ephemeral ports, as {@code --ports ephemeral} asks. With
 * {@code --serve} everything keeps running afterwards, back in the seed's initial state.
 *
 * <p>Like python's {@code http.server}, which listens on 0.0.0.0, each backend also answers on 127.0.0.2,
 * the second address of the DNS name: that is what makes curl's failover between the two addresses visible.
 */
public final class TourCommand implements Command {
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(5);
    /** Longer than the seed's 1 s proxy timeouts plus the retry on the backup. */
    private static final Duration L7_CLIENT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final String HOST_2 = "127.0.0.2";
    /** The name the stand-in for the seed's 8.8.8.8 answers, to show forwarding without leaving the machine. */
    private static final String OTHER_NAME = "other-app.test";

    private static final Cli.Spec SPEC = Cli.Spec.of("tour",
                    "The main demo: every tier on loopback, the seed's experiments replayed, one verdict per tier.")
            .option("ports", "seed|ephemeral", "seed", "the seed's ports (falling back to ephemeral ones when busy)"
                    + " or ephemeral ports")
            .flag("serve", "keep everything running afterwards (until Ctrl-C)")
            .flag("verbose", "also print the servers' log lines");

    private final PrintStream out;

    /** A tour printing to {@link System#out}. */
    public TourCommand() {
        this(System.out);
    }

    /** A tour printing to {@code out}. */
    public TourCommand(PrintStream out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    @Override
    public Cli.Spec spec() {
        return SPEC;
    }

    /** One tier's result. */
    record Verdict(String tier, boolean ok, String detail) {}

    /** Where each part listens. */
    record Layout(boolean seed) {
        InetSocketAddress at(String host, int seedPort) {
            return new InetSocketAddress(host, seed ? seedPort : 0);
        }
    }

    @Override
    public Running start(Cli.Args args) {
        String mode = args.value("ports").toLowerCase(Locale.ROOT);
        if (!mode.equals("seed") && !mode.equals("ephemeral")) {
            throw args.usage("ports", "must be seed or ephemeral, got '" + args.value("ports") + "'");
        }
        Tour tour;
        try {
            tour = Tour.start(new Layout(mode.equals("seed")), out);
        } catch (StartException e) {
            if (mode.equals("seed") && args.given("ports")) {
                throw e;
            }
            if (mode.equals("seed")) {
                out.println("note: " + e.getMessage() + "; using ephemeral ports instead");
            }
            tour = Tour.startEphemeral(out, e);
        }
        try {
            List<Verdict> verdicts = tour.run();
            boolean ok = verdicts.stream().allMatch(Verdict::ok);
            if (args.flag("serve")) {
                tour.restoreSeedState();
                tour.printServing();
            } else {
                tour.running.finished(ok ? 0 : 1);
            }
            return tour.running;
        } catch (RuntimeException e) {
            tour.running.close();
            throw e;
        }
    }

    /** The running examples and the experiments on them. */
    static final class Tour {
        final Running running = new Running("tour");
        final PrintStream out;
        final List<Verdict> verdicts = new ArrayList<>();
        Running backends;
        Running host2;
        Running dns;
        Running healthDns;
        Running l4;
        Running l7;
        DnsBalancer resolver;
        InetSocketAddress b1;
        InetSocketAddress b2;
        /** The event loop of the tour's own Netty client (DnsConnector). */
        EventLoopGroup clientLoop;

        private Tour(PrintStream out) {
            this.out = out;
        }

        static Tour start(Layout layout, PrintStream out) {
            Tour t = new Tour(out);
            try {
                t.startAll(layout);
                return t;
            } catch (RuntimeException e) {
                t.running.close();
                throw e;
            }
        }

        /**
         * Starts on ephemeral ports. The copies on 127.0.0.2 need the ports the kernel gave on 127.0.0.1, which
         * may be taken there: a few attempts make that collision harmless.
         */
        static Tour startEphemeral(PrintStream out, StartException first) {
            StartException last = first;
            for (int attempt = 0; attempt < 3; attempt++) {
                try {
                    return start(new Layout(false), out);
                } catch (StartException e) {
                    last = e;
                }
            }
            throw last;
        }

        private void startAll(Layout layout) {
            clientLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            running.own(() -> clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
            backends = running.own(new BackendsCommand().start("--ports", layout.seed ? "8081,8082" : "0,0"));
            b1 = backends.address("backend-1");
            b2 = backends.address("backend-2");
            host2 = running.own(new BackendsCommand().start("--host", HOST_2, "--ports", b1.getPort() + "," + b2.getPort()));
            // The stand-in for the seed's 8.8.8.8: a resolver on loopback, so the tour sends nothing off this machine.
            UpstreamPool far = running.own(UpstreamPool.of(Upstream.of("127.0.0.9", 80)));
            resolver = running.own(DnsBalancer.builder().listen(new InetSocketAddress("127.0.0.1", 0))
                    .name(ServedName.builder(OTHER_NAME, far).ttl(Duration.ofSeconds(140)).build()).ioThreads(1).start());
            String forward = Addresses.format(resolver.localAddress());
            dns = running.own(new DnsCommand().start("--listen", Addresses.format(layout.at("127.0.0.1", 8053)),
                    "--forward", forward, "--threads", "1"));
            healthDns = running.own(new DnsCommand().start("--listen", Addresses.format(layout.at("127.0.0.1", 8054)),
                    "--forward", forward, "--health-port", String.valueOf(b2.getPort()), "--health-interval", "200ms",
                    "--threads", "1"));
            l4 = running.own(new L4Command().start("--listen", Addresses.format(layout.at("127.0.100.1", 8080)),
                    "--real", Addresses.format(b1), "--real", Addresses.format(b2),
                    "--admin", Addresses.format(layout.at("127.0.0.1", 9090)), "--threads", "1"));
            l7 = running.own(new L7Command().start("--listen", Addresses.format(layout.at("127.0.0.1", 8888)),
                    "--upstream", Addresses.format(b1), "--backup", Addresses.format(b2),
                    "--admin", Addresses.format(layout.at("127.0.0.1", 9091)), "--threads", "1"));
            expose("backends", backends);
            expose("host-2", host2);
            running.address("resolver", resolver.localAddress());
            expose("dns", dns);
            expose("dns-health", healthDns);
            expose("l4", l4);
            expose("l7", l7);
        }

        private void expose(String prefix, Running part) {
            part.addresses().forEach((name, a) -> running.address(prefix + "/" + name, a));
        }

        List<Verdict> run() {
            out.println("lbkit tour: the seed's experiments, tier by tier, in one JVM on loopback addresses");
            section(this::task1, "Task 1: a server pool", "backends");
            section(this::task2, "Task 2: DNS round robin", "dns (dnsmasq)");
            section(this::task3, "Task 3: L4 balancing", "l4 (IPVS)");
            section(this::task4, "Task 4: L7 balancing", "l7 (nginx)");
            section(this::healthAwareDns, "What dnsmasq cannot do: health-aware DNS", "dns (health)");
            heading("Verdict");
            for (Verdict v : verdicts) {
                out.printf(Locale.ROOT, "%-14s %-4s %s%n", v.tier(), v.ok() ? "OK" : "FAIL", v.detail());
            }
            boolean ok = verdicts.stream().allMatch(Verdict::ok);
            out.println(ok ? "Every tier behaved as in the seed." : "Some tier did not behave as in the seed.");
            return List.copyOf(verdicts);
        }

        interface Experiment {
            String run() throws Exception;
        }

        private void section(Experiment e, String title, String tier) {
            heading(title);
            try {
                verdicts.add(new Verdict(tier, true, e.run()));
            } catch (Exception | AssertionError x) {
                out.println("!! " + x.getMessage());
                verdicts.add(new Verdict(tier, false, String.valueOf(x.getMessage())));
            }
        }

        private void heading(String title) {
            out.println();
            out.println("== " + title + " " + "=".repeat(Math.max(3, 72 - title.length())));
        }

        private static void check(boolean condition, String failure) {
            if (!condition) {
                throw new AssertionError(failure);
            }
        }

        // Task 1: two python3 -m http.server backends; curl each.
        private String task1() throws IOException {
            out.println("backend 1 on http://" + Addresses.format(b1) + "/, backend 2 on http://" + Addresses.format(b2)
                    + "/ (and on " + HOST_2 + ", as python's 0.0.0.0 would)");
            List<String> pages = List.of(Seed.PAGE_1, Seed.PAGE_2);
            List<InetSocketAddress> at = List.of(b1, b2);
            for (int i = 0; i < 2; i++) {
                InetSocketAddress a = at.get(i);
                out.println("$ curl -v http://" + Addresses.format(a) + "/");
                Curl.Response r = Curl.get(List.of(a), Addresses.format(a), "/", CLIENT_TIMEOUT, out);
                out.println("* Closing connection");
                check(r.statusLine().equals("HTTP/1.0 200 OK"), "backend " + (i + 1) + " answered " + r.statusLine());
                check(r.bodyText().equals(pages.get(i)), "backend " + (i + 1) + " page differs: " + r.bodyText());
                check(r.header("Content-type").orElse("").equals("text/html"), "no Content-type: text/html");
                check(r.header("Content-Length").orElse("").equals(String.valueOf(r.body().length)), "bad Content-Length");
                check(r.header("Last-Modified").isPresent(), "no Last-Modified");
                check(r.closedByServer(), "backend " + (i + 1) + " kept the connection open");
            }
            return "both pages byte for byte; HTTP/1.0, Content-type, Content-Length, Last-Modified, closed after the body";
        }

        // Task 2: dig the name, dig another name (forwarded), curl by name with failover.
        private String task2() throws Exception {
            InetSocketAddress server = dns.address("dns");
            out.println("dns on " + Addresses.format(server) + ": " + Seed.NAME + " -> 127.0.0.1, 127.0.0.2 TTL 0;"
                    + " other names forwarded to " + Addresses.format(resolver.localAddress())
                    + " (a stand-in for 8.8.8.8 on loopback)");
            Dig.Answer a = dig(server, Seed.NAME);
            check(a.status().equals("NOERROR"), "status " + a.status());
            check(a.flags().equals("qr aa rd ra"), "flags " + a.flags());
            check(a.answers().size() == 2, a.answers().size() + " answers");
            for (Record r : a.answers()) {
                check(r.getTTL() == 0, "TTL " + r.getTTL());
            }
            check(new HashSet<>(a.addresses()).equals(Set.of(ip("127.0.0.1"), ip(HOST_2))), "addresses " + a.addresses());
            Dig.Answer other = dig(server, OTHER_NAME);
            check(other.status().equals("NOERROR") && other.addresses().equals(List.of(ip("127.0.0.9"))),
                    "forwarded answer " + other.status() + " " + other.addresses());

            out.println("$ curl -v http://" + Seed.NAME + ":" + b1.getPort() + "/");
            Curl.Response first = curlByName(server, b1.getPort(), false);
            check(first.status() == 200 && first.bodyText().equals(Seed.PAGE_1), "curl by name: " + first.statusLine());

            out.println();
            out.println("backend 2 stops on " + HOST_2 + " (that host is down); dnsmasq still answers with both addresses");
            host2.part("backend-2", TestBackend.class).close();
            out.println("$ curl -v http://" + Seed.NAME + ":" + b2.getPort() + "/");
            Curl.Response failover = curlByName(server, b2.getPort(), true);
            check(failover.status() == 200 && failover.bodyText().equals(Seed.PAGE_2)
                    && failover.from().getAddress().getHostAddress().equals("127.0.0.1"),
                    "curl did not fail over to 127.0.0.1: " + failover.statusLine() + " from " + failover.from());

            // The DNS tier's client side does the same inside a Java service: lb-dns's DnsConnector.
            List<InetSocketAddress> answer = List.of(new InetSocketAddress(HOST_2, b2.getPort()), b2);
            Channel channel = DnsConnector.builder().attemptTimeout(Duration.ofSeconds(1)).build()
                    .connect(new Bootstrap().group(clientLoop).channel(NioSocketChannel.class)
                            .handler(new ChannelInitializer<Channel>() {
                                @Override
                                protected void initChannel(Channel ch) {
                                    // Connect only: the tour reads nothing on this channel.
                                }
                            }), answer)
                    .get(CLIENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            InetSocketAddress connected = (InetSocketAddress) channel.remoteAddress();
            channel.close().syncUninterruptibly();
            out.println("lbkit's DnsConnector, given the addresses " + HOST_2 + ", 127.0.0.1 for port " + b2.getPort()
                    + ": connected to " + Addresses.format(connected));
            check(connected.getAddress().getHostAddress().equals("127.0.0.1"),
                    "DnsConnector connected to " + Addresses.format(connected));
            return "NOERROR, flags qr aa rd ra, 2 A records TTL 0, order rotating; other names forwarded;"
                    + " curl and DnsConnector failed over from " + HOST_2 + " to 127.0.0.1";
        }

        private Dig.Answer dig(InetSocketAddress server, String name) throws IOException {
            out.println("$ dig @" + server.getAddress().getHostAddress() + " -p " + server.getPort() + " " + name);
            Dig.Answer a = Dig.a(server, name, CLIENT_TIMEOUT);
            out.print(a.text());
            return a;
        }

        /**
         * Resolves the name with the examples' DNS client and connects to the addresses in the answer's
         * order, as curl does. With {@code host2First}, asks again (the order rotates) until 127.0.0.2
         * comes first, so that the failover is visible.
         */
        private Curl.Response curlByName(InetSocketAddress server, int port, boolean host2First) throws IOException {
            List<InetAddress> addresses = Dig.a(server, Seed.NAME, CLIENT_TIMEOUT).addresses();
            for (int i = 0; host2First && i < 4 && !addresses.get(0).getHostAddress().equals(HOST_2); i++) {
                addresses = Dig.a(server, Seed.NAME, CLIENT_TIMEOUT).addresses();
            }
            out.println("* Host " + Seed.NAME + ":" + port + " was resolved.");
            out.println("* IPv4: " + addresses.stream().map(InetAddress::getHostAddress).collect(Collectors.joining(", ")));
            List<InetSocketAddress> targets = addresses.stream().map(x -> new InetSocketAddress(x, port)).toList();
            Curl.Response r = Curl.get(targets, Seed.NAME + ":" + port, "/", CLIENT_TIMEOUT, out);
            out.println("* Closing connection");
            return r;
        }

        // Task 3: ten requests through the virtual service, the listing, 92 more, the listing again.
        private String task3() throws Exception {
            InetSocketAddress vip = l4.address("l4");
            L4Balancer balancer = l4.part("l4", L4Balancer.class);
            out.println("l4: TCP " + Addresses.format(vip) + " rr -> " + Addresses.format(b1) + ", " + Addresses.format(b2)
                    + " (Masq); admin http://" + Addresses.format(l4.address("admin")) + "/ipvs");
            out.println("$ ipvsadm -ln        # GET http://" + Addresses.format(l4.address("admin")) + "/ipvs");
            out.print(L4Command.listing(balancer, ""));
            List<String> bodies = new ArrayList<>();
            out.println("$ for i in {1..10}; do curl http://" + Addresses.format(vip) + "/; done");
            for (int i = 0; i < 102; i++) {
                if (i == 10) {
                    out.println("$ ipvsadm -ln");
                    out.print(awaitListing(balancer, "0 5"));
                    out.println("$ for i in {1..92}; do curl -s http://" + Addresses.format(vip) + "/ > /dev/null; done");
                }
                Curl.Response r = Curl.get(vip, Addresses.format(vip), "/", CLIENT_TIMEOUT);
                check(r.status() == 200, "request " + (i + 1) + ": " + r.statusLine());
                bodies.add(r.bodyText());
                if (i < 10) {
                    out.print(r.bodyText());
                }
            }
            for (int i = 1; i < bodies.size(); i++) {
                check(!bodies.get(i).equals(bodies.get(i - 1)), "responses did not alternate at request " + (i + 1));
            }
            out.println("$ ipvsadm -ln");
            String listing = awaitListing(balancer, "0 51");
            out.print(listing);
            check(counters(listing, b1).equals("0 51") && counters(listing, b2).equals("0 51"),
                    "ActiveConn InActConn: " + counters(listing, b1) + " and " + counters(listing, b2));
            return "responses alternate 1, 2, 1, 2 ...; after 102 requests ipvsadm -ln shows 0 51 for each real server";
        }

        private String awaitListing(L4Balancer balancer, String expected) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            String listing = L4Command.listing(balancer, "");
            while (System.nanoTime() < deadline
                    && !(counters(listing, b1).equals(expected) && counters(listing, b2).equals(expected))) {
                Thread.sleep(20);
                listing = L4Command.listing(balancer, "");
            }
            return listing;
        }

        private static String counters(String listing, InetSocketAddress real) {
            for (String line : listing.split("\n")) {
                if (line.startsWith("  -> " + Addresses.format(real) + " ")) {
                    String[] f = line.trim().split("\\s+");
                    return f[4] + " " + f[5];
                }
            }
            return "?";
        }

        // Task 4: one request through nginx's configuration, then the slow backend 1 and ten requests.
        private String task4() throws Exception {
            InetSocketAddress lb = l7.address("l7");
            TestBackend backend1 = backends.part("backend-1", TestBackend.class);
            TestBackend backend2 = backends.part("backend-2", TestBackend.class);
            out.println("l7 on http://" + Addresses.format(lb) + "/: upstream backend { server " + Addresses.format(b1)
                    + " max_fails=7 fail_timeout=10s; server " + Addresses.format(b2) + " backup; },"
                    + " X-high-load-test: 123, all timeouts 1s");
            backend1.clear();
            backend2.clear();
            out.println("$ curl -v http://" + Addresses.format(lb) + "/");
            Curl.Response r = Curl.get(List.of(lb), Addresses.format(lb), "/", L7_CLIENT_TIMEOUT, out);
            check(r.status() == 200 && r.bodyText().equals(Seed.PAGE_1), "first request: " + r.statusLine() + " " + r.bodyText());
            check(r.version().equals("HTTP/1.1"), "the client got " + r.version());
            check(backend1.requestCount() == 1, "backend 1 got " + backend1.requestCount() + " requests");
            RecordedRequest seen = backend1.requests().get(0);
            out.println("backend 1 received: " + seen.method() + " " + seen.target() + " " + seen.version()
                    + seen.headers().stream().map(h -> ", " + h.getKey() + ": " + h.getValue()).collect(Collectors.joining()));
            check(seen.header("X-high-load-test").orElse("").equals("123"), "no X-high-load-test: 123 at backend 1");
            check(seen.header("Host").orElse("").equals(L7Command.GROUP), "Host at backend 1: " + seen.header("Host"));

            out.println();
            out.println("backend 1 is replaced by the seed's slow server (answers after 1000 s)");
            backend1.script(SlowBackendCommand.slowScript(Duration.ofSeconds(1000)));
            backend1.clear();
            backend2.clear();
            out.println("$ for i in {1..10}; do curl http://" + Addresses.format(lb) + "/; done");
            int contacted = 0;
            StringBuilder pattern = new StringBuilder();
            for (int i = 1; i <= 10; i++) {
                int before1 = backend1.requestCount();
                int before2 = backend2.requestCount();
                Curl.Response res = Curl.get(lb, Addresses.format(lb), "/", L7_CLIENT_TIMEOUT);
                double s = res.took().toNanos() / 1e9;
                boolean tried1 = backend1.requestCount() > before1;
                boolean tried2 = backend2.requestCount() > before2;
                contacted += tried1 ? 1 : 0;
                pattern.append(tried1 ? '1' : '-');
                List<String> tried = new ArrayList<>();
                if (tried1) {
                    tried.add(Addresses.format(b1) + " (no answer within 1s)");
                }
                if (tried2) {
                    tried.add(Addresses.format(b2));
                }
                out.printf(Locale.ROOT, "request %2d: %d %s  %.2f s  tried %s%n", i, res.status(),
                        res.bodyText().strip(), s, String.join(", then ", tried));
                check(res.status() == 200 && res.bodyText().equals(Seed.PAGE_2),
                        "request " + i + ": " + res.statusLine() + " " + res.bodyText());
            }
            check(pattern.toString().equals("1111111---"),
                    "backend 1 was contacted on requests " + pattern + " (expected the first seven only)");
            check(contacted == 7, "backend 1 contacted " + contacted + " times");
            out.println("$ curl http://" + Addresses.format(l7.address("admin")) + "/stats");
            out.print(L7Command.statsJson(l7.part("l7", dev.lbkit.l7.HttpBalancer.class), l7.part("pool", UpstreamPool.class)));
            return "10 x 200 with backend 2's page; backend 1 contacted exactly 7 times, then left alone;"
                    + " X-high-load-test: 123 seen by the backend";
        }

        // Health-aware DNS: the same name, but the addresses whose backend 2 port is dead are left out.
        private String healthAwareDns() throws Exception {
            InetSocketAddress plain = dns.address("dns");
            InetSocketAddress server = healthDns.address("dns");
            out.println("dns on " + Addresses.format(server) + " serves the same name, probing TCP port " + b2.getPort()
                    + " on each address every 200ms");
            out.println("backend 2 comes back on " + HOST_2);
            host2.close();
            host2 = running.own(new BackendsCommand().start("--host", HOST_2, "--ports", b1.getPort() + "," + b2.getPort()));
            List<InetAddress> both = awaitAnswer(server, 2);
            check(both.size() == 2, "with both backends up the answer is " + both);
            dig(server, Seed.NAME);
            out.println("backend 2 stops on " + HOST_2 + " again");
            long stopped = System.nanoTime();
            host2.part("backend-2", TestBackend.class).close();
            List<InetAddress> left = awaitAnswer(server, 1);
            double s = (System.nanoTime() - stopped) / 1e9;
            Dig.Answer a = dig(server, Seed.NAME);
            check(left.equals(List.of(ip("127.0.0.1"))) && a.addresses().equals(List.of(ip("127.0.0.1"))),
                    "the health-aware answer is " + a.addresses());
            out.printf(Locale.ROOT, "%s left out %.1f s after its backend stopped; dnsmasq-style %s still answers %s%n",
                    HOST_2, s, Addresses.format(plain), Dig.a(plain, Seed.NAME, CLIENT_TIMEOUT).addresses().stream()
                            .map(InetAddress::getHostAddress).collect(Collectors.joining(", ")));
            return HOST_2 + " left out of the answers " + String.format(Locale.ROOT, "%.1f s", s)
                    + " after its backend stopped, 127.0.0.1 still answered";
        }

        private static List<InetAddress> awaitAnswer(InetSocketAddress server, int size) throws Exception {
            long deadline = System.nanoTime() + WAIT.toNanos();
            List<InetAddress> now = Dig.a(server, Seed.NAME, CLIENT_TIMEOUT).addresses();
            while (now.size() != size && System.nanoTime() < deadline) {
                Thread.sleep(50);
                now = Dig.a(server, Seed.NAME, CLIENT_TIMEOUT).addresses();
            }
            return now;
        }

        /** Puts the seed's initial state back: backend 1 answers again, backend 2 answers on 127.0.0.2 again. */
        void restoreSeedState() {
            backends.part("backend-1", TestBackend.class).script(Script.pythonHttpServer(Seed.PAGE_1));
            host2.close();
            host2 = running.own(new BackendsCommand().start("--host", HOST_2, "--ports", b1.getPort() + "," + b2.getPort()));
        }

        void printServing() {
            heading("Serving until Ctrl-C");
            for (Map.Entry<String, InetSocketAddress> e : running.addresses().entrySet()) {
                out.printf(Locale.ROOT, "%-22s %s%n", e.getKey(), Addresses.format(e.getValue()));
            }
            for (String tier : List.of("l7", "l4")) {
                InetSocketAddress admin = running.addresses().get(tier + "/admin");
                if (admin != null) {
                    out.printf(Locale.ROOT, "%s stats page: http://%s/%n", tier, Addresses.format(admin));
                }
            }
        }

        private static InetAddress ip(String literal) throws UnknownHostException {
            return InetAddress.getByName(literal);
        }
    }
}
