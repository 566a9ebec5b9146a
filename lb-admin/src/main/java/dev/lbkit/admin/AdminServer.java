package dev.lbkit.admin;

import dev.lbkit.admin.internal.AdminHandler;
import dev.lbkit.admin.internal.AdminState;
import dev.lbkit.admin.internal.DnsTier;
import dev.lbkit.admin.internal.HttpTier;
import dev.lbkit.admin.internal.L4Tier;
import dev.lbkit.admin.internal.TierView;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.dns.DnsBalancer;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l7.HttpBalancer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embeddable admin HTTP server for lbkit balancers, in the spirit of HAProxy's stats page and runtime
 * API and Envoy's admin endpoint: a live stats page at {@code /}, the same state as JSON under
 * {@code /api/v1/}, runtime changes (drain, ready, maint, weight, add, remove) through lb-api's
 * {@link UpstreamPool}, Prometheus text at {@code /metrics} and, with an L4 balancer, IPVS's listing at
 * {@code /ipvs}.
 *
 * <pre>{@code
 * AdminServer admin = AdminServer.builder()
 *         .pool(pool)
 *         .token(System.getenv("LB_ADMIN_TOKEN"))      // without a token the API is read-only
 *         .metrics(prometheusRegistry::scrape)         // optional: serves /metrics
 *         .build()
 *         .start();
 * System.out.println("admin on http://" + admin.address().getHostString() + ":" + admin.address().getPort() + "/");
 * }</pre>
 *
 * <p>Safety: it listens on loopback unless told otherwise; with no token it changes nothing; with a
 * token every changing request under {@code /api/} needs {@code Authorization: Bearer <token>}
 * (compared in constant time), checked before anything else. GET never changes state.
 *
 * <p>Runs on one event loop thread of its own, so changes apply one at a time in arrival order.
 * Thread-safe.
 */
public final class AdminServer implements AutoCloseable {
    /** The default port, as the examples' {@code l7} command uses. */
    public static final int DEFAULT_PORT = 9091;
    /** The default largest request body: 64 KiB (bodies are small JSON objects). */
    public static final int DEFAULT_MAX_REQUEST_BODY = 64 * 1024;
    /** The default idle timeout after which a quiet connection is closed. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    private static final Logger logger = LoggerFactory.getLogger(AdminServer.class);

    private final InetSocketAddress listen;
    private final String token;
    private final Supplier<String> metrics;
    private final int maxRequestBody;
    private final Duration idleTimeout;
    private final Clock clock;
    private final Map<UpstreamPool, ActiveHealthPolicy> pools;
    private final List<TierView> tiers;
    private final Map<String, AdminHandler.Endpoint> texts;
    private final Object lock = new Object();
    private EventLoopGroup group;
    private Channel channel;
    private AdminState state;
    private boolean started;
    private boolean closed;

    private AdminServer(Builder b) {
        this.listen = b.listen;
        this.token = b.token;
        this.metrics = b.metrics;
        this.maxRequestBody = b.maxRequestBody;
        this.idleTimeout = b.idleTimeout;
        this.clock = b.clock;
        this.pools = new LinkedHashMap<>(b.pools);
        this.tiers = List.copyOf(b.tiers);
        this.texts = Map.copyOf(b.texts);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds and starts serving.
     *
     * @return this
     * @throws IllegalStateException if started before or it cannot bind (then nothing is left running)
     * @throws IllegalArgumentException if two different pools share a name
     */
    public AdminServer start() {
        synchronized (lock) {
            if (started) {
                throw new IllegalStateException("already started");
            }
            started = true;
            state = new AdminState(pools, tiers, clock);
            AdminHandler handler = new AdminHandler(state, token, metrics, texts, page());
            group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("lb-admin", true), NioIoHandler.newFactory());
            long idle = idleTimeout.toNanos();
            try {
                channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                        .childHandler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel ch) {
                                ch.pipeline().addLast(new IdleStateHandler(0, 0, idle, TimeUnit.NANOSECONDS))
                                        .addLast(new HttpServerCodec(4096, 8192, 8192))
                                        .addLast(new HttpObjectAggregator(maxRequestBody))
                                        .addLast(handler);
                            }
                        })
                        .bind(listen).syncUninterruptibly().channel();
            } catch (Exception e) {
                // Exception, not RuntimeException: Netty rethrows a failed bind's BindException as it is.
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                state.close();
                throw new IllegalStateException("admin server cannot listen on " + listen + ": " + e.getMessage(), e);
            }
            logger.info("lbkit admin on http://{}/ ({})", hostPort(address()),
                    token == null ? "read-only: no token" : "changes need the token");
            return this;
        }
    }

    /** The bound address (with the actual port when 0 was asked). */
    public InetSocketAddress address() {
        synchronized (lock) {
            if (channel == null) {
                throw new IllegalStateException("not started");
            }
            return (InetSocketAddress) channel.localAddress();
        }
    }

    /** The configured listen address (before binding). */
    InetSocketAddress listenAddress() {
        return listen;
    }

    /** {@code http://host:port/}, the page's address. */
    public String url() {
        return "http://" + hostPort(address()) + "/";
    }

    private static String hostPort(InetSocketAddress a) {
        String h = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    /** Whether changes are enabled (a token was configured). */
    public boolean changesEnabled() {
        return token != null;
    }

    /** Stops listening, closes connections and releases the thread. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed || !started) {
                closed = true;
                return;
            }
            closed = true;
            channel.close().syncUninterruptibly();
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            state.close();
        }
    }

    private static byte[] page() {
        try (InputStream in = AdminServer.class.getResourceAsStream("stats.html")) {
            if (in == null) {
                throw new IllegalStateException("stats.html is missing from lb-admin's jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Builds an {@link AdminServer}. Not thread-safe. Defaults: listens on {@code 127.0.0.1:9091}, no
     * token (read-only), no pools or balancers, no {@code /metrics}, request bodies up to 64 KiB, idle
     * connections closed after 60 s, the system UTC clock for the times it shows.
     */
    public static final class Builder {
        private InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), DEFAULT_PORT);
        private String token;
        private Supplier<String> metrics;
        private int maxRequestBody = DEFAULT_MAX_REQUEST_BODY;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Clock clock = Clock.systemUTC();
        private final Map<UpstreamPool, ActiveHealthPolicy> pools = new LinkedHashMap<>();
        private final List<TierView> tiers = new ArrayList<>();
        private final Map<String, AdminHandler.Endpoint> texts = new LinkedHashMap<>();
        private final List<L4Tier> l4 = new ArrayList<>();

        private Builder() {}

        /** Where to listen. Default {@code 127.0.0.1:9091}; port 0 picks a free port. Listening beyond loopback exposes the page. */
        public Builder listen(InetSocketAddress listen) {
            this.listen = Objects.requireNonNull(listen, "listen");
            return this;
        }

        /**
         * The bearer token that changing requests must carry; {@code null} (the default) makes the API
         * read-only. Give a long random value of visible ASCII characters, as RFC 6750's {@code b64token}.
         *
         * @throws IllegalArgumentException if the token is blank or holds white space, a control character
         *     or a non-ASCII character: a {@code b64token} has none, and the server trims the header's value
         *     and reads it as ISO-8859-1, so such a token at either end, or non-ASCII, could never match
         */
        public Builder token(String token) {
            if (token != null) {
                Checks.notBlank(token, "token");
                for (int i = 0; i < token.length(); i++) {
                    char c = token.charAt(i);
                    if (c <= ' ' || c > '~') {
                        throw new IllegalArgumentException("token must be visible ASCII characters, got "
                                + (c <= ' ' ? "white space or a control character" : "a non-ASCII character")
                                + " at index " + i);
                    }
                }
            }
            this.token = token;
            return this;
        }

        /** A pool to show and change; its {@link ActiveHealthPolicy}, if it is the pool's policy, gives the last checks. */
        public Builder pool(UpstreamPool pool) {
            pools.putIfAbsent(Objects.requireNonNull(pool, "pool"), null);
            return this;
        }

        /**
         * A pool with the active checks to show for it, for pools whose health policy is a composition
         * (the composition does not expose its parts).
         */
        public Builder pool(UpstreamPool pool, ActiveHealthPolicy checks) {
            pools.put(Objects.requireNonNull(pool, "pool"), Objects.requireNonNull(checks, "checks"));
            return this;
        }

        /**
         * The Prometheus text served at {@code /metrics}, typically {@code prometheusRegistry::scrape}
         * from Micrometer (see lb-micrometer). Default none: {@code /metrics} answers 404.
         */
        public Builder metrics(Supplier<String> scrape) {
            this.metrics = Objects.requireNonNull(scrape, "scrape");
            return this;
        }

        /** The largest request body accepted; larger ones get 413. 1..16 MiB, default 64 KiB. */
        public Builder maxRequestBody(int bytes) {
            this.maxRequestBody = Checks.inRange(bytes, 1, 16 * 1024 * 1024, "maxRequestBody");
            return this;
        }

        /** How long a connection may stay quiet before it is closed; &gt; 0, default 60 s. */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = Checks.positive(idleTimeout, "idleTimeout");
            return this;
        }

        /** The clock for the wall-clock times shown ("since", "time"). Default {@link Clock#systemUTC()}. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * An HTTP balancer, shown as service {@code name}: its routes' counters, and per upstream of its
         * routes' pools the requests, responses by class, errors, retries, bytes and latency. The pools
         * are shown and changeable under their group names.
         */
        public Builder http(String name, HttpBalancer balancer) {
            Checks.notBlank(name, "name");
            return tier(new HttpTier(name, Objects.requireNonNull(balancer, "balancer")));
        }

        /**
         * An L4 balancer, shown as service {@code name}: its virtual services (each one's real servers as
         * a pool named like {@code tcp:127.0.0.1:80}) with IPVS's counters and rates, and
         * {@code GET /ipvs} ({@code ?stats}, {@code ?rate}) answering as {@code ipvsadm -ln} does, and
         * {@code GET /ipvs?save} as {@code ipvsadm -Sn} (the rules, {@link dev.lbkit.l4.IpvsRules#save}).
         */
        public Builder l4(String name, L4Balancer balancer) {
            Checks.notBlank(name, "name");
            L4Tier t = new L4Tier(name, Objects.requireNonNull(balancer, "balancer"));
            l4.add(t);
            return tier(t);
        }

        /**
         * A DNS balancer, shown as service {@code name} with its answers per name and rcode; {@code pools}
         * are the pools its names serve (lb-dns does not list them), shown and changeable like {@link #pool}.
         */
        public Builder dns(String name, DnsBalancer dns, UpstreamPool... pools) {
            Checks.notBlank(name, "name");
            Objects.requireNonNull(dns, "dns");
            for (UpstreamPool p : pools) {
                pool(p);
            }
            return tier(new DnsTier(name, dns, List.of(pools)));
        }

        Builder tier(TierView tier) {
            tiers.add(Objects.requireNonNull(tier, "tier"));
            return this;
        }

        /**
         * Serves {@code GET path} (and HEAD) with {@code body.apply(query)}, {@code query} being the raw query
         * string ({@code ""} when there is none), for an application's own read-only pages next to the admin's.
         * It must not change state. Other methods get 405.
         *
         * @throws IllegalArgumentException if {@code path} does not start with {@code /}, or is one of the
         *     admin server's own ({@code /}, {@code /index.html}, {@code /metrics}, {@code /ipvs},
         *     anything under {@code /api}), or was given before
         */
        public Builder endpoint(String path, String contentType, Function<String, String> body) {
            Objects.requireNonNull(path, "path");
            Checks.notBlank(contentType, "contentType");
            Objects.requireNonNull(body, "body");
            if (!path.startsWith("/") || path.equals("/") || path.equals("/index.html") || path.equals("/metrics")
                    || path.equals("/ipvs") || path.equals("/api") || path.startsWith("/api/")) {
                throw new IllegalArgumentException("endpoint path must start with / and not be one of lb-admin's own, got '"
                        + path + "'");
            }
            if (texts.putIfAbsent(path, new AdminHandler.Endpoint(contentType, body)) != null) {
                throw new IllegalArgumentException("endpoint " + path + " is given twice");
            }
            return this;
        }

        public AdminServer build() {
            if (!l4.isEmpty()) {
                List<L4Tier> tiers = List.copyOf(l4);
                texts.put("/ipvs", new AdminHandler.Endpoint("text/plain; charset=utf-8", variant -> {
                    StringBuilder sb = new StringBuilder();
                    for (L4Tier t : tiers) {
                        if (sb.length() > 0) {
                            sb.append('\n');
                        }
                        sb.append(t.ipvsadm(variant));
                    }
                    return sb.toString();
                }));
            }
            return new AdminServer(this);
        }
    }
}
