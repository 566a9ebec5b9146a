package dev.lbkit.dns;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.dns.internal.AddressSelection;
import dev.lbkit.dns.internal.SourceLookup;
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
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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
 *   <li>The addresses are sorted by RFC 6724's destination address selection (RFC 8305 section 4), see
 *       {@link #sort(List, boolean)}, then the families alternate, starting with the family of the best
 *       address (first address family count 1).</li>
 *   <li>The next attempt starts after {@code attemptDelay} (250 ms) without waiting for the previous one
 *       to fail; the first connection wins and the others are closed.</li>
 * </ul>
 * Without {@code happyEyeballs}, both lookups are awaited and the sorted addresses are tried strictly one
 * after another.
 *
 * <p>The sort needs the source address the host would use for each destination. It is found as glibc's
 * getaddrinfo finds it: a UDP socket is connected to the destination (which sends no packet; the kernel
 * only looks up the route) and its local address read. This happens once per resolution, never per
 * attempt: for {@link #connect(Bootstrap, String, int)} on the thread that completes each DNS answer
 * (dnsjava's, not the event loop), for {@link #connect(Bootstrap, List)} on the calling thread (only with
 * {@code happyEyeballs}, the only case it sorts). Each lookup takes about 25 µs; at most 64 distinct
 * addresses per answer are looked up (any further ones count as usable, with a source that matches
 * nothing).
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
    private final SourceLookup sourceLookup;

    private DnsConnector(Builder b) {
        this.attemptTimeout = b.attemptTimeout;
        this.attemptDelay = b.attemptDelay;
        this.resolutionDelay = b.resolutionDelay;
        this.happyEyeballs = b.happyEyeballs;
        this.preferIpv6 = b.preferIpv6;
        this.servers = List.copyOf(b.servers);
        this.lookupTimeout = b.lookupTimeout;
        this.lookup = b.lookup != null ? b.lookup : this::dnsLookup;
        this.sourceLookup = b.sourceLookup != null ? b.sourceLookup : SourceLookup.system();
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
        safeLookup(host, true, port).thenAccept(a -> loop.execute(() -> race.answer(true, a)));
        safeLookup(host, false, port).thenAccept(a -> loop.execute(() -> race.answer(false, a)));
        return race.result;
    }

    /** One family's answer: its addresses and their source addresses, or why there are none. */
    private record Answer(List<InetSocketAddress> addresses, Map<InetSocketAddress, Optional<InetAddress>> sources,
            Throwable error) {}

    /**
     * One family's lookup, never failing: a failure is an answer without addresses that names its cause.
     * The sources are looked up on the thread completing the lookup, so never on the event loop.
     */
    private CompletableFuture<Answer> safeLookup(String host, boolean ipv6, int port) {
        CompletableFuture<List<InetAddress>> f;
        try {
            f = Objects.requireNonNull(lookup.lookup(host, ipv6), "lookup result");
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        return f.handle((l, e) -> {
            if (e != null) {
                return new Answer(List.of(), Map.of(), e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            }
            try {
                List<InetSocketAddress> found = new ArrayList<>();
                for (InetAddress a : l == null ? List.<InetAddress>of() : l) {
                    found.add(new InetSocketAddress(Objects.requireNonNull(a, "looked-up address"), port));
                }
                return new Answer(found, AddressSelection.sources(found, sourceLookup), null);
            } catch (RuntimeException bad) {
                return new Answer(List.of(), Map.of(), bad);
            }
        });
    }

    /**
     * Connects to one of {@code addresses} (resolved): with {@code happyEyeballs}, sorted and interleaved
     * as the class comment describes, and raced; otherwise strictly in the given order. With
     * {@code happyEyeballs}, the source address of each address is looked up on the calling thread first
     * (a connected UDP socket, no packet sent, about 25 µs per address).
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
        // Only Happy Eyeballs sorts the caller's addresses; the sources are looked up here, off the event loop.
        Map<InetSocketAddress, Optional<InetAddress>> sources = happyEyeballs ? AddressSelection.sources(copy, sourceLookup) : Map.of();
        loop.execute(() -> race.start(copy, sources));
        return race.result;
    }

    /**
     * Sorts resolved addresses by RFC 6724 section 6, destination address selection, as RFC 8305 section 4
     * asks, with the default policy table of section 2.1 (with {@code preferIpv6} false, the table of
     * section 10.3, which gives IPv4 the highest precedence). The rules applied, in order:
     * <ol>
     *   <li>rule 1, avoid unusable destinations: those the host has no route to (no source address);</li>
     *   <li>rule 2, prefer matching scope: the destination's scope equals its source's;</li>
     *   <li>rule 5, prefer matching label (policy table labels, including 6to4, Teredo, unique local,
     *       site-local, IPv4-mapped and IPv4-compatible);</li>
     *   <li>rule 6, prefer higher precedence (policy table);</li>
     *   <li>rule 8, prefer smaller scope;</li>
     *   <li>rule 9, prefer the longest prefix shared with the source, up to 64 bits, IPv6 only (for IPv4 it
     *       would undo DNS round robin, as Go's resolver found);</li>
     *   <li>rule 10, otherwise keep the given order (the sort is stable).</li>
     * </ol>
     * Rules 3 (deprecated source), 4 (home address) and 7 (native transport) are ties: Java does not expose
     * an address's deprecated state, Mobile IPv6 home addresses, or whether a route is a tunnel.
     *
     * <p>Looks up each address's source on the calling thread (a connected UDP socket, no packet sent,
     * about 25 µs per distinct address, at most 64; any further ones count as usable, with a source that
     * matches nothing).
     *
     * @param addresses resolved addresses
     * @return a new list
     */
    public static List<InetSocketAddress> sort(List<InetSocketAddress> addresses, boolean preferIpv6) {
        return sort(addresses, preferIpv6, SourceLookup.system());
    }

    /** {@link #sort(List, boolean)} with the sources from {@code sourceLookup}. */
    static List<InetSocketAddress> sort(List<InetSocketAddress> addresses, boolean preferIpv6, SourceLookup sourceLookup) {
        return AddressSelection.sort(addresses, AddressSelection.sources(addresses, sourceLookup), preferIpv6);
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
        /** Each address's source (RFC 6724's Source(D)), looked up once as its answer arrived. */
        final Map<InetSocketAddress, Optional<InetAddress>> sources = new HashMap<>();
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

        /** RFC 6724 order, from the sources known so far; no I/O. */
        List<InetSocketAddress> sorted(List<InetSocketAddress> addresses) {
            return AddressSelection.sort(addresses, sources, preferIpv6);
        }

        /** The caller's addresses: start at once. */
        void start(List<InetSocketAddress> addresses, Map<InetSocketAddress, Optional<InetAddress>> found) {
            started = true;
            sources.putAll(found);
            order.addAll(happy ? interleave(sorted(addresses)) : addresses);
            launch();
        }

        /** One family's answer (or failure) arrived. */
        void answer(boolean ipv6, Answer answer) {
            pendingLookups--;
            if (answer.error() != null) {
                failures.append(failures.length() == 0 ? "" : "; ").append(ipv6 ? "AAAA" : "A")
                        .append(" lookup: ").append(answer.error());
            }
            List<InetSocketAddress> found = answer.addresses();
            sources.putAll(answer.sources());
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
            List<InetSocketAddress> sorted = sorted(early);
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
            List<InetSocketAddress> sorted = sorted(untried);
            boolean v6First = next == 0 ? isV6(sorted.get(0)) : !isV6(order.get(next - 1));
            order.subList(next, order.size()).clear();
            order.addAll(interleave(sorted, v6First));
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
        private SourceLookup sourceLookup;
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
         * Which RFC 6724 policy table sorts the addresses. Default true: the default table of section 2.1
         * (IPv6 precedence 40 above IPv4's 35); false: the table of section 10.3, which gives IPv4
         * precedence 100. Rules 1, 2 and 5 (unusable destination, scope and label of the source) still
         * come first, so a host without an IPv6 route tries IPv4 first either way.
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

        /** Replaces the source address lookup (tests supply sources for addresses they must not touch). */
        Builder sourceLookup(SourceLookup sourceLookup) {
            this.sourceLookup = Objects.requireNonNull(sourceLookup, "sourceLookup");
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
