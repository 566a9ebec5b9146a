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
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Connects to a name the way a careful client does, and the way the seed's curl did against dnsmasq's
 * two addresses: every resolved address is tried in turn, each attempt bounded by its own timeout, so
 * one dead address costs one attempt and not the connection. When the addresses include both IPv4 and
 * IPv6, Happy Eyeballs (RFC 8305): families alternate, IPv6 first, and the next attempt starts after
 * {@code attemptDelay} without waiting for the previous one to fail; the first connection wins and the
 * others are closed.
 *
 * <p>Works with a Netty {@link Bootstrap} (cloned per attempt, so the caller's stays untouched); never
 * blocks. Thread-safe and immutable.
 *
 * <p>Not implemented from RFC 8305: the 50 ms resolution delay (both families are looked up together
 * and the attempts start when both answers, or failures, are in) and sorting by RFC 6724 preference.
 */
public final class DnsConnector {
    private final Duration attemptTimeout;
    private final Duration attemptDelay;
    private final boolean happyEyeballs;
    private final List<InetSocketAddress> servers;
    private final Duration lookupTimeout;

    private DnsConnector(Builder b) {
        this.attemptTimeout = b.attemptTimeout;
        this.attemptDelay = b.attemptDelay;
        this.happyEyeballs = b.happyEyeballs;
        this.servers = List.copyOf(b.servers);
        this.lookupTimeout = b.lookupTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A connector with every default. */
    public static DnsConnector create() {
        return builder().build();
    }

    /**
     * Looks up {@code host}'s A and AAAA records (with dnsjava, asynchronously) and connects to one of
     * them on {@code port}.
     *
     * @return completes with the connected channel, or fails when every address failed (the exception
     *     lists each attempt) or the lookup found none
     */
    public CompletableFuture<Channel> connect(Bootstrap bootstrap, String host, int port) {
        Objects.requireNonNull(bootstrap, "bootstrap");
        Checks.notBlank(host, "host");
        Checks.port(port, "port");
        DnsResolver.Builder rb = DnsResolver.builder(host).mode(DnsResolver.Mode.A_AND_AAAA).port(port).timeout(lookupTimeout);
        servers.forEach(rb::server);
        DnsResolver resolver = rb.build();
        return resolver.lookup().whenComplete((l, e) -> resolver.close()).thenCompose(l -> {
            if (l.result().error().isPresent()) {
                return CompletableFuture.failedFuture(l.result().error().get());
            }
            List<InetSocketAddress> addresses = new ArrayList<>();
            for (Upstream u : l.result().upstreams()) {
                addresses.add(u.address());
            }
            return connect(bootstrap, addresses);
        });
    }

    /** Connects to one of {@code addresses} (resolved), in the order described in the class comment. */
    public CompletableFuture<Channel> connect(Bootstrap bootstrap, List<InetSocketAddress> addresses) {
        Objects.requireNonNull(bootstrap, "bootstrap");
        Objects.requireNonNull(addresses, "addresses");
        if (addresses.isEmpty()) {
            return CompletableFuture.failedFuture(new ConnectException("no address to connect to"));
        }
        boolean mixed = addresses.stream().anyMatch(a -> a.getAddress() instanceof Inet6Address)
                && addresses.stream().anyMatch(a -> !(a.getAddress() instanceof Inet6Address));
        boolean parallel = happyEyeballs && mixed;
        EventLoop loop = bootstrap.config().group().next();
        Race race = new Race(bootstrap.clone(loop), loop, parallel ? interleave(addresses) : List.copyOf(addresses), parallel);
        loop.execute(race::launch);
        return race.result;
    }

    /** RFC 8305 section 4: IPv6 and IPv4 alternate, IPv6 first, each family keeping its own order. */
    public static List<InetSocketAddress> interleave(List<InetSocketAddress> addresses) {
        Deque<InetSocketAddress> v6 = new ArrayDeque<>();
        Deque<InetSocketAddress> v4 = new ArrayDeque<>();
        for (InetSocketAddress a : addresses) {
            (a.getAddress() instanceof Inet6Address ? v6 : v4).add(a);
        }
        List<InetSocketAddress> out = new ArrayList<>(addresses.size());
        while (!v6.isEmpty() || !v4.isEmpty()) {
            if (!v6.isEmpty()) {
                out.add(v6.poll());
            }
            if (!v4.isEmpty()) {
                out.add(v4.poll());
            }
        }
        return out;
    }

    /** One connect: the attempts so far, confined to one event loop. */
    private final class Race {
        final Bootstrap bootstrap;
        final EventLoop loop;
        final List<InetSocketAddress> order;
        final boolean parallel;
        final CompletableFuture<Channel> result = new CompletableFuture<>();
        final List<ChannelFuture> running = new ArrayList<>();
        final StringBuilder failures = new StringBuilder();
        int next;

        Race(Bootstrap bootstrap, EventLoop loop, List<InetSocketAddress> order, boolean parallel) {
            this.bootstrap = bootstrap;
            this.loop = loop;
            this.order = order;
            this.parallel = parallel;
        }

        void launch() {
            if (result.isDone() || next >= order.size()) {
                return;
            }
            InetSocketAddress address = order.get(next++);
            ChannelFuture f = bootstrap.clone(loop)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, attemptTimeout.toMillis()))
                    .connect(address);
            running.add(f);
            f.addListener(x -> done(f, address));
            if (parallel && next < order.size()) {
                loop.schedule(() -> {
                    if (!f.isDone()) {
                        launch();
                    }
                }, attemptDelay.toNanos(), TimeUnit.NANOSECONDS);
            }
        }

        void done(ChannelFuture f, InetSocketAddress address) {
            running.remove(f);
            if (f.isSuccess()) {
                if (result.complete(f.channel())) {
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
                launch();
            } else if (running.isEmpty()) {
                result.completeExceptionally(new ConnectException("every address failed: " + failures));
            }
        }
    }

    /** Builds a {@link DnsConnector}. Not thread-safe. */
    public static final class Builder {
        private Duration attemptTimeout = Duration.ofSeconds(2);
        private Duration attemptDelay = Duration.ofMillis(250);
        private boolean happyEyeballs = true;
        private final List<InetSocketAddress> servers = new ArrayList<>();
        private Duration lookupTimeout = Duration.ofSeconds(2);

        private Builder() {}

        /** How long one connection attempt may take before the next address is tried. Default 2 s. */
        public Builder attemptTimeout(Duration attemptTimeout) {
            this.attemptTimeout = Checks.positive(attemptTimeout, "attemptTimeout");
            return this;
        }

        /** Happy Eyeballs' Connection Attempt Delay (RFC 8305 section 5). Default 250 ms, as the RFC recommends. */
        public Builder attemptDelay(Duration attemptDelay) {
            this.attemptDelay = Checks.positive(attemptDelay, "attemptDelay");
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

        /** Timeout of each DNS query. Default 2 s. */
        public Builder lookupTimeout(Duration lookupTimeout) {
            this.lookupTimeout = Checks.positive(lookupTimeout, "lookupTimeout");
            return this;
        }

        public DnsConnector build() {
            return new DnsConnector(this);
        }
    }
}
