package dev.lbkit.zookeeper;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.resolve.CoalescingResolver;
import dev.lbkit.zookeeper.internal.Instances;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the instances of one service that Curator's {@code ServiceDiscovery} (and so Spring Cloud
 * Zookeeper) registers in ZooKeeper: the children of {@code <basePath>/<serviceName>}, each holding an
 * instance's JSON ({@code address}, {@code port} or {@code sslPort}, optional {@code payload} with lbkit's
 * {@code weight}, {@code backup} and {@code metadata}). Disabled instances ({@code "enabled":false}) are
 * left out.
 *
 * <p>Membership is told after the first complete read (then {@link #whenReady()} completes) and watched
 * with Curator's {@code CuratorCache}. When the connection to ZooKeeper is suspended or lost, the last
 * membership stays and is told {@linkplain #isStale() stale}; on reconnection a fresh cache reads the
 * service path afresh, and its complete read replaces the membership; what the old cache still delivers
 * after the connection was lost is ignored. An instance whose JSON is bad is skipped, logged once and
 * {@linkplain #rejectedEntries() counted}.
 *
 * <pre>{@code
 * CuratorFramework zk = CuratorFrameworkFactory.newClient("127.0.0.1:2181", new ExponentialBackoffRetry(200, 10));
 * zk.start();
 * ZooKeeperResolver resolver = ZooKeeperResolver.builder(zk, "/services/web").build();
 * pool.follow(resolver);
 * }</pre>
 *
 * <p>Thread-safe. The client is the caller's (it must be started), unless the resolver built it from a
 * {@linkplain #builder(String, String) connect string}.
 */
public final class ZooKeeperResolver extends CoalescingResolver {
    private static final Logger logger = LoggerFactory.getLogger(ZooKeeperResolver.class);

    private final CuratorFramework client;
    private final boolean ownsClient;
    private final String path;
    private final ConnectionStateListener connectionListener = this::onConnectionState;
    /** Guarded by {@code this}. */
    private CuratorCache cache;
    /** Touched only on the resolver's thread: the number of caches started. */
    private long generations;
    /**
     * Written only on the resolver's thread: the generation of the cache whose events apply, 0 while none
     * does (the connection is away and the next cache is not started yet). Volatile for {@link #generation()}.
     */
    private volatile long applying;

    private ZooKeeperResolver(Builder b, CuratorFramework client, boolean ownsClient) {
        super(b.name != null ? b.name : "zk:" + b.path, b.coalesceDelay);
        this.client = client;
        this.ownsClient = ownsClient;
        this.path = b.path;
    }

    /** A builder following the instances under {@code servicePath} ({@code <basePath>/<serviceName>}). */
    public static Builder builder(CuratorFramework client, String servicePath) {
        return new Builder(Objects.requireNonNull(client, "client"), servicePath);
    }

    /**
     * A builder following {@code servicePath} on the ensemble at {@code connectString}
     * ({@code host:port[,host:port]}); the resolver owns that client and closes it.
     */
    public static Builder builder(String connectString, String servicePath) {
        Builder b = new Builder(null, servicePath);
        b.connectString = Checks.notBlank(connectString, "connectString");
        return b;
    }

    /**
     * A builder from a URI {@code zk://host:port[,host:port...]/basePath/serviceName}, as the examples'
     * {@code --discovery} option takes it; the resolver owns its client.
     *
     * @throws IllegalArgumentException naming the URI if it is not of that form
     */
    public static Builder builder(URI uri) {
        Objects.requireNonNull(uri, "uri");
        String authority = uri.getRawAuthority();
        String path = uri.getPath();
        if (!"zk".equalsIgnoreCase(uri.getScheme()) || authority == null || path == null || path.length() < 2) {
            throw new IllegalArgumentException("ZooKeeper discovery must be zk://host:port/path, got '" + uri + "'");
        }
        return builder(authority, path);
    }

    /** The service path followed. */
    public String path() {
        return path;
    }

    @Override
    protected void start() {
        if (ownsClient) {
            client.start();
        }
        client.getConnectionStateListenable().addListener(connectionListener);
        startCache();
    }

    /**
     * Starts a fresh cache whose first complete read replaces the membership. Runs on the resolver's
     * thread, as every cache event is applied there: an event of an older cache, even one it delivered
     * after the connection was lost, is dropped there, so it cannot change what the new cache reads.
     */
    private synchronized void startCache() {
        if (isClosed()) {
            return;
        }
        long gen = ++generations;
        CuratorCache c = CuratorCache.build(client, path);
        c.listenable().addListener(listener(gen, c));
        CuratorCache old = cache;
        cache = c;
        applying = gen;
        c.start();
        if (old != null) {
            old.close();
        }
    }

    /**
     * The listener of {@code cache}, the cache of generation {@code gen}: it hands each event to the
     * resolver's thread, which applies it only while {@code gen} is the {@linkplain #generation() current}
     * generation. Package-private so that a test can deliver an old cache's event.
     */
    CuratorCacheListener listener(long gen, CuratorCache cache) {
        return CuratorCacheListener.builder()
                .forCreatesAndChanges((old, data) -> apply(gen, () -> onData(data)))
                .forDeletes(data -> apply(gen, () -> {
                    String id = id(data.getPath());
                    if (id != null) {
                        remove(id);
                    }
                }))
                .forInitialized(() -> apply(gen, () -> resyncFrom(cache)))
                .build();
    }

    /** The generation of the cache whose events apply now; 0 while the connection is away. For tests. */
    long generation() {
        return applying;
    }

    private void apply(long gen, Runnable event) {
        onResolverThread(() -> {
            if (gen == applying) {
                event.run();
            }
        });
    }

    private void onResolverThread(Runnable task) {
        try {
            executor().execute(task);
        } catch (RejectedExecutionException e) {
            // Closed: nothing more is applied.
        }
    }

    @Override
    protected void stop() {
        client.getConnectionStateListenable().removeListener(connectionListener);
        CuratorCache c;
        synchronized (this) {
            c = cache;
            cache = null;
        }
        if (c != null) {
            c.close();
        }
        if (ownsClient) {
            client.close();
        }
    }

    private void onConnectionState(CuratorFramework c, ConnectionState state) {
        if (state == ConnectionState.SUSPENDED || state == ConnectionState.LOST) {
            // Retired on the thread that applies events, in the same step as the staleness: the old
            // cache's events after this point are dropped, those before it were applied before it.
            onResolverThread(() -> {
                applying = 0;
                stale(new IOException("ZooKeeper connection " + state));
            });
        } else if (state == ConnectionState.RECONNECTED) {
            // Changes made while away may not all reach a cache as events: read everything again.
            onResolverThread(this::startCache);
        }
    }

    private void resyncFrom(CuratorCache c) {
        Map<String, Upstream> all = new HashMap<>();
        c.stream().forEach(data -> {
            String id = id(data.getPath());
            if (id != null) {
                parse(id, data.getData()).ifPresent(u -> all.put(id, u));
            }
        });
        resync(all);
        logger.debug("resolver {}: read {} instances", name(), all.size());
    }

    private void onData(ChildData data) {
        String id = id(data.getPath());
        if (id != null) {
            Optional<Upstream> u = parse(id, data.getData());
            if (u.isPresent()) {
                put(id, u.get());
            }
        }
    }

    private Optional<Upstream> parse(String id, byte[] data) {
        String text = data == null ? "" : new String(data, UTF_8);
        try {
            Optional<Upstream> u = Instances.parse(text);
            if (u.isEmpty()) {
                remove(id);
            }
            return u;
        } catch (IllegalArgumentException e) {
            reject(id, text, e.getMessage());
            return Optional.empty();
        }
    }

    /** The instance id of a direct child of the service path, or {@code null} for the path itself or deeper nodes. */
    private String id(String nodePath) {
        if (nodePath.length() <= path.length() + 1 || !nodePath.startsWith(path) || nodePath.charAt(path.length()) != '/') {
            return null;
        }
        String id = nodePath.substring(path.length() + 1);
        return id.indexOf('/') >= 0 ? null : id;
    }

    /**
     * Builds a {@link ZooKeeperResolver}. Not thread-safe. Defaults: name {@code zk:<path>}, coalescing
     * delay {@link CoalescingResolver#DEFAULT_COALESCE_DELAY} (20 ms); for a client the resolver builds:
     * session timeout 60 s, connection timeout 15 s, retries with exponential back-off from 200 ms.
     */
    public static final class Builder {
        private final CuratorFramework client;
        private final String path;
        private String connectString;
        private String name;
        private Duration coalesceDelay = DEFAULT_COALESCE_DELAY;
        private Duration sessionTimeout = Duration.ofSeconds(60);
        private Duration connectionTimeout = Duration.ofSeconds(15);

        private Builder(CuratorFramework client, String path) {
            this.client = client;
            String p = Checks.notBlank(path, "servicePath");
            if (!p.startsWith("/")) {
                throw new IllegalArgumentException("servicePath must start with '/', got '" + path + "'");
            }
            this.path = p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
        }

        /** The name in logs and the resolver thread's name. */
        public Builder name(String name) {
            this.name = Checks.notBlank(name, "name");
            return this;
        }

        /** How long a burst of changes is collected before it is told; zero tells each change alone. */
        public Builder coalesceDelay(Duration coalesceDelay) {
            this.coalesceDelay = Checks.positiveOrZero(coalesceDelay, "coalesceDelay");
            return this;
        }

        /** The session timeout of the client the resolver builds (ignored with a given client). */
        public Builder sessionTimeout(Duration sessionTimeout) {
            this.sessionTimeout = Checks.positive(sessionTimeout, "sessionTimeout");
            return this;
        }

        /** The connection timeout of the client the resolver builds (ignored with a given client). */
        public Builder connectionTimeout(Duration connectionTimeout) {
            this.connectionTimeout = Checks.positive(connectionTimeout, "connectionTimeout");
            return this;
        }

        public ZooKeeperResolver build() {
            if (client != null) {
                return new ZooKeeperResolver(this, client, false);
            }
            CuratorFramework owned = CuratorFrameworkFactory.builder().connectString(connectString)
                    .sessionTimeoutMs((int) sessionTimeout.toMillis())
                    .connectionTimeoutMs((int) connectionTimeout.toMillis())
                    .retryPolicy(new ExponentialBackoffRetry(200, 10, 5000)).build();
            return new ZooKeeperResolver(this, owned, true);
        }
    }
}
