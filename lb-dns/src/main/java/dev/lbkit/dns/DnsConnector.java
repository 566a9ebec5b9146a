package dev.lbkit.dns;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Connects to a name the way a careful client does, and the way the seed's curl did against dnsmasq's
 * two addresses: every resolved address is tried in turn, each attempt bounded by its own timeout, so
 * one dead address costs one attempt and not the connection.
 *
 * <p>With {@code happyEyeballs} (the default), {@link #connect(Bootstrap, String, int)} follows RFC 8305:
 * <ul>
 *   <li>AAAA and A are asked for at once. When AAAA answers first, the attempts start at once; when A
 *       answers first, they start when AAAA answers or after the {@code resolutionDelay} (50 ms),
 *       whichever comes first (with {@code preferIpv6} false, the roles of A and AAAA swap). Addresses
 *       that arrive after the attempts started join the race.</li>
 *   <li>The addresses are sorted by the rules of RFC 6724 that need no routing table or source address
 *       (rule 6, precedence from the default policy table, which puts IPv6 before IPv4 unless
 *       {@code preferIpv6} is false; rule 8, smaller scope first; rule 10, otherwise the DNS order), then
 *       the families alternate, starting with the family of the best address (RFC 8305 section 4, first
 *       address family count 1).</li>
 *   <li>The next attempt starts after {@code attemptDelay} (250 ms) without waiting for the previous one
 *       to fail; the first connection wins and the others are closed.</li>
 * </ul>
 * Without {@code happyEyeballs}, both lookups are awaited and the sorted addresses are tried strictly one
 * after another.
 *
 * <p>Works with a Netty {@link Bootstrap} (cloned per attempt, so the caller's stays untouched); never
 * blocks. Thread-safe and immutable.
 */
public final class DnsConnector {
    /** Looks up one family's addresses of a name; how tests script the order and timing of the answers. */
    @FunctionalInterface
    interface AddressLookup {
        CompletableFuture<List<InetAddress>> lookup(String host, boolean ipv6);
    }

    private final Duration attemptTimeout;
    private final Duration attemptDelay;
    private final Duration resolutionDelay;
    private final boolean happyEyeballs;
    private final boolean preferIpv6;
    private final List<InetSocketAddress> servers;
    private final Duration lookupTimeout;
    private final AddressLookup lookup;

    private DnsConnector(Builder b) {
        this.attemptTimeout = b.attemptTimeout;
        this.attemptDelay = b.attemptDelay;
        this.resolutionDelay = b.resolutionDelay;
        this.happyEyeballs = b.happyEyeballs;
        this.preferIpv6 = b.preferIpv6;
        this.servers = List.copyOf(b.servers);
        this.lookupTimeout = b.lookupTimeout;
        this.lookup = b.lookup != null ? b.lookup : this::dnsLookup;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A connector with every default. */
    public static DnsConnector create() {
        return builder().build();
    }

    private CompletableFuture<List<InetAddress>> dnsLookup(String host, boolean ipv6) {
        DnsResolver.Builder rb = DnsResolver.builder(host).mode(ipv6 ? DnsResolver.Mode.AAAA : DnsResolver.Mode.A)
                .timeout(lookupTimeout);
        servers.forEach(rb::server);
        DnsResolver resolver = rb.build();
        return resolver.lookup().whenComplete((l, e) -> resolver.close()).thenCompose(l -> {
            if (l.result().error().isPresent()) {
                return CompletableFuture.failedFuture(l.result().error().get());
            }
            List<InetAddress> out = new ArrayList<>();
            for (Upstream u : l.result().upstreams()) {
                out.add(u.address().getAddress());
            }
            return CompletableFuture.completedFuture(out);
        });
    }

    /**
     * Looks up {@code host}'s AAAA and A records (with dnsjava, asynchronously, each query bounded by
     * {@code lookupTimeout}) and connects to one of them on {@code port}, as the class comment describes.
     *
     * @return completes with the connected channel, or fails when every address failed (the exception
     *     lists each attempt) or the lookups found none
     */
    public CompletableFuture<Channel> connect(Bootstrap bootstrap, String host, int port) {
        Objects.requireNonNull(bootstrap, "bootstrap");
        Checks.notBlank(host, "host");
        Checks.port(port, "port");
        EventLoop loop = bootstrap.config().group().next();
        Race race = new Race(bootstrap.clone(loop), loop, happyEyeballs, false);
        safeLookup(host, true).thenAccept(a -> loop.execute(() -> race.answer(true, a, port)));
        safeLookup(host, false).thenAccept(a -> loop.execute(() -> race.answer(false, a, port)));
        return race.result;
    }

    /** One family's answer: its addresses, or why there are none. */
    private record Answer(List<InetAddress> addresses, Throwable error) {}

    /** One family's lookup, never failing: a failure is an answer without addresses that names its cause. */
    private CompletableFuture<Answer> safeLookup(String host, boolean ipv6) {
        CompletableFuture<List<InetAddress>> f;
        try {
            f = Objects.requireNonNull(lookup.lookup(host, ipv6), "lookup result");
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        return f.handle((l, e) -> {
            if (e != null) {
                return new Answer(List.of(), e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            }
            return new Answer(l == null ? List.of() : l, null);
        });
    }

    /**
     * Connects to one of {@code addresses} (resolved): with {@code happyEyeballs}, sorted and interleaved
     * as the class comment describes, and raced; otherwise strictly in the given order.
     */
    public CompletableFuture<Channel> connect(Bootstrap bootstrap, List<InetSocketAddress> addresses) {
        Objects.requireNonNull(bootstrap, "bootstrap");
        Objects.requireNonNull(addresses, "addresses");
        if (addresses.isEmpty()) {
            return CompletableFuture.failedFuture(new ConnectException("no address to connect to"));
        }
        EventLoop loop = bootstrap.config().group().next();
        Race race = new Race(bootstrap.clone(loop), loop, happyEyeballs, true);
        List<InetSocketAddress> copy = List.copyOf(addresses);
        loop.execute(() -> race.start(copy));
        return race.result;
    }

    /**
     * RFC 6724 section 6, the rules that need neither a source address nor a routing table: rule 6
     * (higher precedence in the default policy table of section 2.1 first; with {@code preferIpv6}
     * false, IPv4 is given the highest precedence as section 10.3 suggests), rule 8 (smaller scope first),
     * and rule 10 (otherwise keep the given order: the sort is stable).
     */
    public static List<InetSocketAddress> sort(List<InetSocketAddress> addresses, boolean preferIpv6) {
        List<InetSocketAddress> out = new ArrayList<>(addresses);
        out.sort(Comparator.<InetSocketAddress>comparingInt(a -> -precedence(a.getAddress(), preferIpv6))
                .thenComparingInt(a -> scope(a.getAddress())));
        return out;
    }

    /** Precedence of the RFC 6724 default policy table (section 2.1); IPv4 is {@code ::ffff:0:0/96}. */
    static int precedence(InetAddress a, boolean preferIpv6) {
        if (!(a instanceof Inet6Address)) {
            return preferIpv6 ? 35 : 100;
        }
        byte[] b = a.getAddress();
        if (a.isLoopbackAddress()) {
            return 50;
        }
        if ((b[0] & 0xFF) == 0x20 && (b[1] & 0xFF) == 0x02) {
            return 30; // 2002::/16, 6to4
        }
        if ((b[0] & 0xFF) == 0x20 && (b[1] & 0xFF) == 0x01 && b[2] == 0 && b[3] == 0) {
            return 5; // 2001::/32, Teredo
        }
        if ((b[0] & 0xFE) == 0xFC) {
            return 3; // fc00::/7, unique local
        }
        boolean first96Zero = true;
        for (int i = 0; i < 12; i++) {
            first96Zero &= b[i] == 0;
        }
        if (first96Zero) {
            return 1; // ::/96, IPv4-compatible (deprecated)
        }
        if ((b[0] & 0xFF) == 0xFE && (b[1] & 0xC0) == 0xC0) {
            return 1; // fec0::/10, site-local (deprecated)
        }
        if ((b[0] & 0xFF) == 0x3F && (b[1] & 0xFF) == 0xFE) {
            return 1; // 3ffe::/16, 6bone
        }
        return 40;
    }

    /** RFC 6724 section 3.1 scope: 2 link-local (and loopback), 5 site-local, 14 global. */
    static int scope(InetAddress a) {
        if (a.isLoopbackAddress() || a.isLinkLocalAddress()) {
            return 2;
        }
        if (a instanceof Inet6Address) {
            if (a.isSiteLocalAddress()) {
                return 5;
            }
            if (a.isMulticastAddress()) {
                return a.getAddress()[1] & 0x0F;
            }
        }
        return 14;
    }

    /**
     * RFC 8305 section 4 with a first address family count of 1: the families alternate, starting with
     * the family of the first address, each family keeping its own order.
     */
    public static List<InetSocketAddress> interleave(List<InetSocketAddress> addresses) {
        return addresses.isEmpty() ? List.of() : interleave(addresses, isV6(addresses.get(0)));
    }

    private static List<InetSocketAddress> interleave(List<InetSocketAddress> addresses, boolean v6First) {
        Deque<InetSocketAddress> v6 = new ArrayDeque<>();
        Deque<InetSocketAddress> v4 = new ArrayDeque<>();
        for (InetSocketAddress a : addresses) {
            (isV6(a) ? v6 : v4).add(a);
        }
        Deque<InetSocketAddress> first = v6First ? v6 : v4;
        Deque<InetSocketAddress> second = v6First ? v4 : v6;
        List<InetSocketAddress> out = new ArrayList<>(addresses.size());
        while (!first.isEmpty() || !second.isEmpty()) {
            if (!first.isEmpty()) {
                out.add(first.poll());
            }
            if (!second.isEmpty()) {
                out.add(second.poll());
            }
        }
        return out;
    }

    private static boolean isV6(InetSocketAddress a) {
        return a.getAddress() instanceof Inet6Address;
    }

    /** One connect: the addresses and attempts so far, confined to one event loop. */
    private final class Race {
        final Bootstrap bootstrap;
        final EventLoop loop;
        final boolean happy;
        /** Addresses given by the caller: no lookup is pending, and without Happy Eyeballs the order is kept. */
        final boolean given;
        final CompletableFuture<Channel> result = new CompletableFuture<>();
        final List<ChannelFuture> running = new ArrayList<>();
        final List<InetSocketAddress> order = new ArrayList<>();
        final StringBuilder failures = new StringBuilder();
        int next;
        int pendingLookups;
        boolean started;
        List<InetSocketAddress> early = new ArrayList<>();
        ScheduledFuture<?> attemptTimer;
        ScheduledFuture<?> resolutionTimer;

        Race(Bootstrap bootstrap, EventLoop loop, boolean happy, boolean given) {
            this.bootstrap = bootstrap;
            this.loop = loop;
            this.happy = happy;
            this.given = given;
            this.pendingLookups = given ? 0 : 2;
        }

        /** The caller's addresses: start at once. */
        void start(List<InetSocketAddress> addresses) {
            started = true;
            order.addAll(happy ? interleave(sort(addresses, preferIpv6)) : addresses);
            launch();
        }

        /** One family's answer (or failure) arrived. */
        void answer(boolean ipv6, Answer answer, int port) {
            pendingLookups--;
            if (answer.error() != null) {
                failures.append(failures.length() == 0 ? "" : "; ").append(ipv6 ? "AAAA" : "A")
                        .append(" lookup: ").append(answer.error());
            }
            List<InetSocketAddress> found = new ArrayList<>();
            for (InetAddress a : answer.addresses()) {
                found.add(new InetSocketAddress(a, port));
            }
            if (result.isDone()) {
                return;
            }
            if (started) {
                add(found);
            } else {
                early.addAll(found);
                if (!happy) {
                    if (pendingLookups == 0) {
                        begin();
                    }
                } else if (ipv6 == preferIpv6 || pendingLookups == 0 || early.isEmpty()) {
                    // The preferred family (or the last answer) is in, or the other found nothing: no reason to wait.
                    begin();
                } else if (resolutionTimer == null) {
                    // RFC 8305 section 3: A answered first; give AAAA the Resolution Delay (mirrored with preferIpv6 false).
                    resolutionTimer = loop.schedule(this::begin, resolutionDelay.toNanos(), TimeUnit.NANOSECONDS);
                }
            }
            finishIfHopeless();
        }

        void begin() {
            if (started || result.isDone()) {
                return;
            }
            if (resolutionTimer != null) {
                resolutionTimer.cancel(false);
            }
            if (early.isEmpty() && pendingLookups > 0) {
                return;
            }
            started = true;
            List<InetSocketAddress> sorted = sort(early, preferIpv6);
            early = List.of();
            order.addAll(happy ? interleave(sorted) : sorted);
            launch();
            finishIfHopeless();
        }

        /** Addresses that arrived after the attempts started join the untried ones (RFC 8305 section 4). */
        void add(List<InetSocketAddress> more) {
            if (more.isEmpty()) {
                return;
            }
            List<InetSocketAddress> untried = new ArrayList<>(order.subList(next, order.size()));
            untried.addAll(more);
            boolean v6First = next == 0 ? isV6(sort(untried, preferIpv6).get(0)) : !isV6(order.get(next - 1));
            order.subList(next, order.size()).clear();
            order.addAll(interleave(sort(untried, preferIpv6), v6First));
            if (running.isEmpty() && attemptTimer == null) {
                launch();
            } else {
                armAttemptTimer();
            }
        }

        boolean parallel() {
            if (!happy) {
                return false;
            }
            boolean v6 = false;
            boolean v4 = false;
            for (InetSocketAddress a : order) {
                v6 |= isV6(a);
                v4 |= !isV6(a);
            }
            return v6 && v4;
        }

        void launch() {
            attemptTimer = null;
            if (result.isDone() || next >= order.size()) {
                return;
            }
            InetSocketAddress address = order.get(next++);
            ChannelFuture f = bootstrap.clone(loop)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, attemptTimeout.toMillis()))
                    .connect(address);
            running.add(f);
            f.addListener(x -> done(f, address));
            armAttemptTimer();
        }

        void armAttemptTimer() {
            if (attemptTimer == null && !running.isEmpty() && next < order.size() && parallel()) {
                attemptTimer = loop.schedule(this::launch, attemptDelay.toNanos(), TimeUnit.NANOSECONDS);
            }
        }

        void done(ChannelFuture f, InetSocketAddress address) {
            running.remove(f);
            if (f.isSuccess()) {
                if (result.complete(f.channel())) {
                    cancelTimers();
                    // Cancelling runs the other attempts' listeners at once, which edit the list.
                    List<ChannelFuture> losers = new ArrayList<>(running);
                    running.clear();
                    for (ChannelFuture other : losers) {
                        other.cancel(false);
                        other.channel().close();
                    }
                } else {
                    f.channel().close();
                }
                return;
            }
            failures.append(failures.length() == 0 ? "" : "; ").append(address).append(": ")
                    .append(f.cause() == null ? "cancelled" : f.cause().getMessage());
            if (result.isDone()) {
                return;
            }
            if (next < order.size()) {
                if (attemptTimer != null) {
                    attemptTimer.cancel(false);
                }
                launch();
            }
            finishIfHopeless();
        }

        /** Fails the connect when nothing runs, nothing is left to try and no lookup can bring more. */
        void finishIfHopeless() {
            if (result.isDone() || !running.isEmpty() || next < order.size() || pendingLookups > 0
                    || (!started && !early.isEmpty())) {
                return;
            }
            cancelTimers();
            String what = order.isEmpty() ? "no address found" : "every address failed";
            result.completeExceptionally(new ConnectException(what + (failures.length() == 0 ? "" : ": " + failures)));
        }

        void cancelTimers() {
            if (attemptTimer != null) {
                attemptTimer.cancel(false);
            }
            if (resolutionTimer != null) {
                resolutionTimer.cancel(false);
            }
        }
    }

    private static final Duration MIN_ATTEMPT_DELAY = Duration.ofMillis(100);
    private static final Duration MAX_ATTEMPT_DELAY = Duration.ofSeconds(2);

    /** Builds a {@link DnsConnector}. Not thread-safe. */
    public static final class Builder {
        private Duration attemptTimeout = Duration.ofSeconds(2);
        private Duration attemptDelay = Duration.ofMillis(250);
        private Duration resolutionDelay = Duration.ofMillis(50);
        private boolean happyEyeballs = true;
        private boolean preferIpv6 = true;
        private AddressLookup lookup;
        private final List<InetSocketAddress> servers = new ArrayList<>();
        private Duration lookupTimeout = Duration.ofSeconds(2);

        private Builder() {}

        /** How long one connection attempt may take before the next address is tried. Default 2 s. */
        public Builder attemptTimeout(Duration attemptTimeout) {
            this.attemptTimeout = Checks.positive(attemptTimeout, "attemptTimeout");
            return this;
        }

        /**
         * Happy Eyeballs' Connection Attempt Delay (RFC 8305 section 5): how long an attempt runs alone
         * before the next one starts. Default 250 ms, as the RFC recommends; must be within the RFC's
         * bounds, 100 ms to 2 s.
         */
        public Builder attemptDelay(Duration attemptDelay) {
            Objects.requireNonNull(attemptDelay, "attemptDelay");
            if (attemptDelay.compareTo(MIN_ATTEMPT_DELAY) < 0 || attemptDelay.compareTo(MAX_ATTEMPT_DELAY) > 0) {
                throw new IllegalArgumentException("attemptDelay must be in 100 ms..2 s (RFC 8305 section 5), got " + attemptDelay);
            }
            this.attemptDelay = attemptDelay;
            return this;
        }

        /**
         * Happy Eyeballs' Resolution Delay (RFC 8305 section 3): when A answers before AAAA, how long to
         * wait for AAAA before connecting to the IPv4 addresses (with {@code preferIpv6} false: when AAAA
         * answers first, how long to wait for A). Default 50 ms, as the RFC recommends;
         * 0 to 2 s (zero starts at once).
         */
        public Builder resolutionDelay(Duration resolutionDelay) {
            Objects.requireNonNull(resolutionDelay, "resolutionDelay");
            if (resolutionDelay.isNegative() || resolutionDelay.compareTo(MAX_ATTEMPT_DELAY) > 0) {
                throw new IllegalArgumentException("resolutionDelay must be in 0..2 s, got " + resolutionDelay);
            }
            this.resolutionDelay = resolutionDelay;
            return this;
        }

        /**
         * Whether IPv6 addresses sort before IPv4 ones (RFC 6724's default policy table). Default true;
         * false gives IPv4 the highest precedence (RFC 6724 section 10.3).
         */
        public Builder preferIpv6(boolean preferIpv6) {
            this.preferIpv6 = preferIpv6;
            return this;
        }

        /** Replaces the DNS lookups (tests script the order and timing of the answers with it). */
        Builder lookup(AddressLookup lookup) {
            this.lookup = Objects.requireNonNull(lookup, "lookup");
            return this;
        }

        /** Race the families when both are present. Default true; false tries strictly one after another. */
        public Builder happyEyeballs(boolean happyEyeballs) {
            this.happyEyeballs = happyEyeballs;
            return this;
        }

        /** Adds a DNS server for {@link #connect(Bootstrap, String, int)}. Default: the system's. */
        public Builder server(InetSocketAddress server) {
            servers.add(Objects.requireNonNull(server, "server"));
            return this;
        }

        /** Timeout of each DNS query (AAAA and A are asked for in parallel). Default 2 s. */
        public Builder lookupTimeout(Duration lookupTimeout) {
            this.lookupTimeout = Checks.positive(lookupTimeout, "lookupTimeout");
            return this;
        }

        public DnsConnector build() {
            return new DnsConnector(this);
        }
    }
}
