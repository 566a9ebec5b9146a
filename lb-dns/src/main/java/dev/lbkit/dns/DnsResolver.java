package dev.lbkit.dns;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.resolve.ResolutionResult;
import dev.lbkit.api.resolve.Resolver;
import dev.lbkit.api.resolve.ResolverListener;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ResolverConfig;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A {@link Resolver} that follows a DNS name: A and/or AAAA records (each address with a configured
 * port) or SRV records (each target's addresses with the record's port; weight kept, priorities
 * below the best one as backups), so a pool can follow a name as Consul or a Kubernetes headless service
 * publishes it: {@code pool.follow(DnsResolver.builder("_http._tcp.web.service.consul").srv().build())}.
 * An SRV target of {@code "."} is never looked up: a single such record (RFC 2782, "decidedly not
 * available at this domain") is an answer with no upstreams, kept for the record's TTL, and among other
 * records it is skipped.
 *
 * <p>Lookups are dnsjava's asynchronous ones against the configured servers (or the system's), never
 * blocking the caller. The name is looked up again when the smallest TTL of the answer runs out (a
 * record type without records counts with its SOA's negative TTL, RFC 2308 section 5), clamped to
 * {@code minRefresh..maxRefresh}; after a failure, after {@code minRefresh}. A failure after an answer
 * is told once as that answer's upstreams, {@linkplain ResolutionResult#isStale() stale}; a failure
 * before any answer as {@link ResolutionResult#failed}. Listeners are told on the resolver's own thread, the first result always and then only changes; upstreams are sorted
 * by key so that a server rotating its answers is not a change.
 *
 * <p>Thread-safe.
 */
public final class DnsResolver implements Resolver {
    private static final Logger logger = LoggerFactory.getLogger(DnsResolver.class);

    /** Which records to look up. */
    public enum Mode {
        /** IPv4 addresses (A). */
        A,
        /** IPv6 addresses (AAAA). */
        AAAA,
        /** Both, IPv4 first. */
        A_AND_AAAA,
        /** Service records (SRV), then the targets' addresses. */
        SRV
    }

    private final Name name;
    private final Mode mode;
    private final int port;
    private final Duration minRefresh;
    private final Duration maxRefresh;
    private final org.xbill.DNS.Resolver dns;
    private final ScheduledExecutorService executor;
    private final boolean ownExecutor;
    private final List<ResolverListener> listeners = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private volatile ResolutionResult latest;
    private ScheduledFuture<?> next;
    private boolean started;
    private volatile boolean closed;

    private DnsResolver(Builder b) {
        this.name = b.name;
        this.mode = b.mode;
        this.port = b.port;
        this.minRefresh = b.minRefresh;
        this.maxRefresh = b.maxRefresh;
        List<InetSocketAddress> servers = b.servers.isEmpty() ? ResolverConfig.getCurrentConfig().servers() : b.servers;
        if (servers.size() == 1) {
            SimpleResolver r = new SimpleResolver(servers.get(0));
            r.setTimeout(b.timeout);
            this.dns = r;
        } else {
            List<org.xbill.DNS.Resolver> rs = new ArrayList<>();
            for (InetSocketAddress s : servers) {
                rs.add(new SimpleResolver(s));
            }
            ExtendedResolver r = new ExtendedResolver(rs);
            r.setTimeout(b.timeout);
            this.dns = r;
        }
        if (b.executor != null) {
            this.executor = b.executor;
            this.ownExecutor = false;
        } else {
            this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "lbkit-dns-resolver-" + b.name);
                t.setDaemon(true);
                return t;
            });
            this.ownExecutor = true;
        }
    }

    /** A resolver for {@code name} (absolute; a trailing dot is optional). */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    @Override
    public AutoCloseable subscribe(ResolverListener listener) {
        Objects.requireNonNull(listener, "listener");
        if (closed) {
            throw new IllegalStateException("resolver for " + name + " is closed");
        }
        listeners.add(listener);
        synchronized (lock) {
            if (!started) {
                started = true;
                next = executor.schedule(this::refresh, 0, TimeUnit.NANOSECONDS);
            }
        }
        ResolutionResult current = latest;
        if (current != null) {
            executor.execute(() -> tell(listener, current));
        }
        return () -> listeners.remove(listener);
    }

    /** The latest result, if a lookup has finished. */
    public java.util.Optional<ResolutionResult> latest() {
        return java.util.Optional.ofNullable(latest);
    }

    /** Looks the name up once now, without telling listeners or changing the refresh schedule. */
    public CompletableFuture<Lookup> lookup() {
        return lookupOnce();
    }

    /** One lookup's outcome: the result and the TTL (smallest of the records) it may be kept for. */
    public static final class Lookup {
        private final ResolutionResult result;
        private final long ttlSeconds;

        Lookup(ResolutionResult result, long ttlSeconds) {
            this.result = result;
            this.ttlSeconds = ttlSeconds;
        }

        public ResolutionResult result() {
            return result;
        }

        /** Seconds; 0 for failures. */
        public long ttlSeconds() {
            return ttlSeconds;
        }
    }

    private void refresh() {
        if (closed) {
            return;
        }
        lookupOnce().whenComplete((l, e) -> executor.execute(() -> {
            Lookup lookup = e != null ? new Lookup(ResolutionResult.failed(e), 0) : l;
            publish(lookup.result());
            long delayNanos = lookup.result().error().isPresent() ? minRefresh.toNanos()
                    : Math.max(minRefresh.toNanos(), Math.min(maxRefresh.toNanos(), lookup.ttlSeconds() * 1_000_000_000L));
            synchronized (lock) {
                if (!closed) {
                    next = executor.schedule(this::refresh, delayNanos, TimeUnit.NANOSECONDS);
                }
            }
        }));
    }

    private void publish(ResolutionResult r) {
        ResolutionResult old = latest;
        if (r.error().isPresent() && old != null && old.error().isEmpty()) {
            // Keep the last answer, marked stale, so that a listener subscribing during the outage gets it too.
            r = old.isStale() ? old : ResolutionResult.stale(old.upstreams(), r.error().get());
        }
        if (old != null && old.sameAs(r)) {
            return;
        }
        if (r.error().isPresent() && old != null && old.error().isPresent()) {
            return;
        }
        latest = r;
        for (ResolverListener l : listeners) {
            tell(l, r);
        }
    }

    private void tell(ResolverListener l, ResolutionResult r) {
        try {
            l.onResult(r);
        } catch (RuntimeException e) {
            logger.warn("resolver {}: listener {} failed", name, l, e);
        }
    }

    private CompletableFuture<Lookup> lookupOnce() {
        switch (mode) {
            case A:
                return addresses(name, Type.A, port);
            case AAAA:
                return addresses(name, Type.AAAA, port);
            case A_AND_AAAA:
                return addresses(name, Type.A, port).thenCombine(addresses(name, Type.AAAA, port), DnsResolver::merge);
            default:
                return srv();
        }
    }

    private CompletableFuture<Message> query(Name n, int type) {
        Message q = Message.newQuery(Record.newRecord(n, type, DClass.IN));
        return dns.sendAsync(q).toCompletableFuture();
    }

    /** The records of {@code type} for {@code n}, as upstreams on {@code port}. NXDOMAIN and SERVFAIL are failures. */
    private CompletableFuture<Lookup> addresses(Name n, int type, int upstreamPort) {
        return query(n, type).thenApply(m -> {
            if (m.getRcode() != Rcode.NOERROR) {
                return failure(n, type, m);
            }
            List<Upstream> out = new ArrayList<>();
            long ttl = Long.MAX_VALUE;
            for (Record r : m.getSection(Section.ANSWER)) {
                InetAddress a = address(r);
                if (a != null) {
                    out.add(Upstream.builder(new InetSocketAddress(a, upstreamPort)).name(n.toString(true)).build());
                    ttl = Math.min(ttl, r.getTTL());
                }
            }
            out.sort(Comparator.comparing(Upstream::key));
            return new Lookup(ResolutionResult.of(out), ttl == Long.MAX_VALUE ? negativeTtl(m) : ttl);
        }).exceptionally(e -> {
            // A timeout of one family must not hide the other's answer (A_AND_AAAA merges the two).
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
            return new Lookup(ResolutionResult.failed(cause), 0);
        });
    }

    /** The address of an A or AAAA record without the host name dnsjava attaches (an upstream's key is its address). */
    private static InetAddress address(Record r) {
        InetAddress a = r instanceof ARecord ? ((ARecord) r).getAddress()
                : r instanceof AAAARecord ? ((AAAARecord) r).getAddress() : null;
        try {
            return a == null ? null : InetAddress.getByAddress(a.getAddress());
        } catch (UnknownHostException e) {
            // Only thrown for a byte array of the wrong length, which a parsed record cannot have.
            throw new IllegalStateException(e);
        }
    }

    /**
     * How long a NODATA answer may be kept: RFC 2308 section 5, the smaller of the authority SOA's TTL and
     * minimum; 0 without an SOA. Otherwise a family without records (an IPv4-only name in A_AND_AAAA, an
     * SRV target) would pull the whole lookup down to {@code minRefresh}.
     */
    private static long negativeTtl(Message m) {
        for (Record r : m.getSection(Section.AUTHORITY)) {
            if (r instanceof SOARecord) {
                return Math.min(r.getTTL(), ((SOARecord) r).getMinimum());
            }
        }
        return 0;
    }

    private static Lookup failure(Name n, int type, Message m) {
        return new Lookup(ResolutionResult.failed(new UnknownHostException(
                n + " " + Type.string(type) + ": " + Rcode.string(m.getRcode()))), 0);
    }

    private static Lookup merge(Lookup a, Lookup b) {
        if (a.result().error().isPresent() && b.result().error().isPresent()) {
            return a;
        }
        List<Upstream> all = new ArrayList<>(a.result().upstreams());
        all.addAll(b.result().upstreams());
        long ttl = Math.min(a.result().error().isPresent() ? Long.MAX_VALUE : a.ttlSeconds(),
                b.result().error().isPresent() ? Long.MAX_VALUE : b.ttlSeconds());
        return new Lookup(ResolutionResult.of(all), ttl);
    }

    private CompletableFuture<Lookup> srv() {
        return query(name, Type.SRV).thenCompose(m -> {
            if (m.getRcode() != Rcode.NOERROR) {
                return CompletableFuture.completedFuture(failure(name, Type.SRV, m));
            }
            List<SRVRecord> records = new ArrayList<>();
            long ttl = Long.MAX_VALUE;
            for (Record r : m.getSection(Section.ANSWER)) {
                if (r instanceof SRVRecord) {
                    ttl = Math.min(ttl, r.getTTL());
                    // RFC 2782: a target of "." means the service is decidedly not available here; no lookup.
                    if (!((SRVRecord) r).getTarget().equals(Name.root)) {
                        records.add((SRVRecord) r);
                    }
                }
            }
            int best = records.stream().mapToInt(SRVRecord::getPriority).min().orElse(0);
            List<CompletableFuture<Lookup>> parts = new ArrayList<>();
            for (SRVRecord s : records) {
                List<Upstream> glue = new ArrayList<>();
                for (Record r : m.getSection(Section.ADDITIONAL)) {
                    InetAddress a = address(r);
                    if (a != null && r.getName().equals(s.getTarget())) {
                        glue.add(Upstream.builder(new InetSocketAddress(a, s.getPort())).build());
                    }
                }
                CompletableFuture<Lookup> targets = !glue.isEmpty()
                        ? CompletableFuture.completedFuture(new Lookup(ResolutionResult.of(glue), Long.MAX_VALUE))
                        : addresses(s.getTarget(), Type.A, s.getPort())
                                .thenCombine(addresses(s.getTarget(), Type.AAAA, s.getPort()), DnsResolver::merge);
                parts.add(targets.thenApply(l -> {
                    List<Upstream> us = new ArrayList<>();
                    for (Upstream u : l.result().upstreams()) {
                        // SRV weight 0 means "rarely", an Upstream weight 0 means drained: keep it pickable.
                        us.add(u.toBuilder().weight(Math.max(1, s.getWeight())).backup(s.getPriority() > best)
                                .name(s.getTarget().toString(true)).build());
                    }
                    return new Lookup(ResolutionResult.of(us), l.ttlSeconds());
                }));
            }
            long srvTtl = ttl == Long.MAX_VALUE ? 0 : ttl;
            return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
                List<Upstream> all = new ArrayList<>();
                java.util.Set<String> keys = new java.util.HashSet<>();
                long min = srvTtl;
                for (CompletableFuture<Lookup> p : parts) {
                    Lookup l = p.join();
                    for (Upstream u : l.result().upstreams()) {
                        if (keys.add(u.key())) {
                            all.add(u);
                        }
                    }
                    min = Math.min(min, l.ttlSeconds());
                }
                all.sort(Comparator.comparing(Upstream::key));
                return new Lookup(ResolutionResult.of(all), min);
            });
        });
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (next != null) {
                next.cancel(false);
            }
        }
        listeners.clear();
        if (ownExecutor) {
            executor.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "DnsResolver{" + name + " " + mode + (mode == Mode.SRV ? "" : " port " + port) + "}";
    }

    /** Builds a {@link DnsResolver}. Not thread-safe. */
    public static final class Builder {
        private final Name name;
        private Mode mode = Mode.A;
        private int port = 80;
        private final List<InetSocketAddress> servers = new ArrayList<>();
        private Duration timeout = Duration.ofSeconds(2);
        private Duration minRefresh = Duration.ofSeconds(1);
        private Duration maxRefresh = Duration.ofMinutes(5);
        private ScheduledExecutorService executor;

        private Builder(String name) {
            Checks.notBlank(name, "name");
            try {
                this.name = Name.fromString(name.endsWith(".") ? name : name + ".");
            } catch (TextParseException e) {
                throw new IllegalArgumentException("bad DNS name '" + name + "': " + e.getMessage(), e);
            }
        }

        /** Which records to follow. Default {@link Mode#A}. */
        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** Shorthand for {@code mode(Mode.SRV)}. */
        public Builder srv() {
            return mode(Mode.SRV);
        }

        /** The port of the upstreams made from A/AAAA records. Default 80. */
        public Builder port(int port) {
            this.port = Checks.port(port, "port");
            return this;
        }

        /** Adds a DNS server to ask. Default: the system's ({@code /etc/resolv.conf}). */
        public Builder server(InetSocketAddress server) {
            Objects.requireNonNull(server, "server");
            if (server.isUnresolved()) {
                throw new IllegalArgumentException("server address must be resolved, got " + server);
            }
            servers.add(server);
            return this;
        }

        /** Timeout of one query (per server). Default 2 s. */
        public Builder timeout(Duration timeout) {
            this.timeout = Checks.positive(timeout, "timeout");
            return this;
        }

        /** Shortest time between lookups, whatever the TTL (TTL 0 included), and the retry delay after a failure. Default 1 s. */
        public Builder minRefresh(Duration minRefresh) {
            this.minRefresh = Checks.positive(minRefresh, "minRefresh");
            return this;
        }

        /** Longest time between lookups, whatever the TTL. Default 5 min. */
        public Builder maxRefresh(Duration maxRefresh) {
            this.maxRefresh = Checks.positive(maxRefresh, "maxRefresh");
            return this;
        }

        /** Where lookups are scheduled and listeners called. Default: a daemon thread of the resolver's own. */
        public Builder executor(ScheduledExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        public DnsResolver build() {
            if (minRefresh.compareTo(maxRefresh) > 0) {
                throw new IllegalArgumentException("minRefresh " + minRefresh + " must not exceed maxRefresh " + maxRefresh);
            }
            return new DnsResolver(this);
        }
    }
}
