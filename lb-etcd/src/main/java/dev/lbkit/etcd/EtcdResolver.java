package dev.lbkit.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.resolve.CoalescingResolver;
import dev.lbkit.api.resolve.UpstreamEntry;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the upstreams kept under an etcd v3 prefix: one key per upstream, {@code <prefix>/<id>}, whose
 * value is an {@link UpstreamEntry} ({@code {"host":"127.0.0.1","port":8081,"weight":1,"backup":false,
 * "metadata":{}}}, weight, backup and metadata optional).
 *
 * <p>It reads the prefix once, tells that membership (and completes {@link #whenReady()}), then watches
 * the prefix from the revision of that read, so that no change between the read and the watch is lost.
 * Every {@code checkInterval} it checks that etcd answers; when it does not, or when the watch fails (a
 * compaction overtook it, its stream broke), the last membership stays and is told
 * {@linkplain #isStale() stale} until the prefix is read afresh (at once after a failed watch, else once
 * etcd answers again) and the watch restarted from the new revision. A value that is not a valid entry
 * is skipped, logged once and {@linkplain #rejectedEntries() counted}; one deleted, even in changes a
 * failed watch missed, is forgotten, and counted again if written again.
 *
 * <pre>{@code
 * Client etcd = Client.builder().endpoints("http://127.0.0.1:2379").build();
 * EtcdResolver resolver = EtcdResolver.builder(etcd, "/lbkit/web").build();
 * pool.follow(resolver);
 * resolver.whenReady().get(5, TimeUnit.SECONDS);
 * }</pre>
 *
 * <p>Thread-safe. The client is the caller's: closing the resolver stops the watch but leaves the client
 * open, unless the resolver built it from {@link Builder#endpoints endpoints}.
 */
public final class EtcdResolver extends CoalescingResolver {
    private static final Logger logger = LoggerFactory.getLogger(EtcdResolver.class);

    private final Client client;
    private final boolean ownsClient;
    private final String prefix;
    private final ByteSequence watchedPrefix;
    private final Duration checkInterval;
    private final Duration requestTimeout;
    /** Serialises applying a read and applying watch events, so an old event never lands after a newer read. */
    private final Object applyLock = new Object();
    /** Guarded by {@link #applyLock}: events at or below the revision of the last complete read are old. */
    private long readRevision;
    /** Guarded by {@link #applyLock}. */
    private long generation;
    /** Guarded by {@link #applyLock}. */
    private Watch.Watcher watcher;
    private final AtomicBoolean checking = new AtomicBoolean();
    private volatile boolean needRead = true;
    private volatile ScheduledFuture<?> checks;

    private EtcdResolver(Builder b, Client client, boolean ownsClient) {
        super(b.name != null ? b.name : "etcd:" + b.prefix, b.coalesceDelay);
        this.client = client;
        this.ownsClient = ownsClient;
        this.prefix = b.prefix;
        this.watchedPrefix = ByteSequence.from(b.prefix + "/", UTF_8);
        this.checkInterval = b.checkInterval;
        this.requestTimeout = b.requestTimeout;
    }

    /** A builder following {@code prefix} (keys {@code <prefix>/<id>}) through {@code client}. */
    public static Builder builder(Client client, String prefix) {
        return new Builder(Objects.requireNonNull(client, "client"), prefix);
    }

    /**
     * A builder following {@code prefix} on the etcd cluster at {@code endpoints} (such as
     * {@code http://127.0.0.1:2379}); the resolver owns that client and closes it.
     */
    public static Builder builder(String prefix, String... endpoints) {
        Builder b = new Builder(null, prefix);
        b.endpoints = endpoints.clone();
        if (endpoints.length == 0) {
            throw new IllegalArgumentException("endpoints must not be empty");
        }
        return b;
    }

    /**
     * A builder from a URI {@code etcd://host:port[,host:port...]/prefix}, as the examples'
     * {@code --discovery} option takes it: plaintext endpoints, the resolver owns its client.
     *
     * @throws IllegalArgumentException naming the URI if it is not of that form
     */
    public static Builder builder(URI uri) {
        Objects.requireNonNull(uri, "uri");
        String authority = uri.getRawAuthority();
        String path = uri.getPath();
        if (!"etcd".equalsIgnoreCase(uri.getScheme()) || authority == null || path == null || path.length() < 2) {
            throw new IllegalArgumentException("etcd discovery must be etcd://host:port/prefix, got '" + uri + "'");
        }
        String[] hosts = authority.split(",");
        String[] endpoints = new String[hosts.length];
        for (int i = 0; i < hosts.length; i++) {
            endpoints[i] = "http://" + hosts[i];
        }
        return builder(path, endpoints);
    }

    /** The prefix followed, without the trailing slash. */
    public String prefix() {
        return prefix;
    }

    @Override
    protected void start() {
        check();
        checks = executor().scheduleWithFixedDelay(this::check, checkInterval.toNanos(), checkInterval.toNanos(),
                TimeUnit.NANOSECONDS);
    }

    @Override
    protected void stop() {
        ScheduledFuture<?> c = checks;
        if (c != null) {
            c.cancel(false);
        }
        synchronized (applyLock) {
            generation++;
            closeWatcherLocked();
        }
        if (ownsClient) {
            client.close();
        }
    }

    /** Reads the prefix afresh when needed, otherwise probes that etcd answers. Never blocks. */
    private void check() {
        if (isClosed() || !checking.compareAndSet(false, true)) {
            return;
        }
        boolean read = needRead;
        GetOption option = read ? GetOption.builder().isPrefix(true).build()
                : GetOption.builder().isPrefix(true).withCountOnly(true).build();
        client.getKVClient().get(watchedPrefix, option)
                .orTimeout(requestTimeout.toNanos(), TimeUnit.NANOSECONDS)
                .whenComplete((response, error) -> {
                    checking.set(false);
                    if (isClosed()) {
                        return;
                    }
                    if (error != null) {
                        synchronized (applyLock) {
                            lostLocked(error);
                        }
                    } else if (read) {
                        applyRead(response);
                    } else if (isStale()) {
                        // etcd is back: read everything again and watch from there (the watch that
                        // missed changes while it was away was dropped).
                        needRead = true;
                        executor().execute(this::check);
                    }
                });
    }

    private void applyRead(GetResponse response) {
        long revision = response.getHeader().getRevision();
        Map<String, Upstream> all = new HashMap<>();
        synchronized (applyLock) {
            if (isClosed()) {
                return;
            }
            for (KeyValue kv : response.getKvs()) {
                String id = id(kv);
                Upstream u = parse(id, kv);
                if (u != null) {
                    all.put(id, u);
                }
            }
            readRevision = revision;
            resync(all);
            needRead = false;
            long gen = ++generation;
            closeWatcherLocked();
            WatchOption option = WatchOption.builder().isPrefix(true).withRevision(revision + 1).build();
            watcher = client.getWatchClient().watch(watchedPrefix, option,
                    Watch.listener(r -> onWatch(gen, r), e -> onWatchError(gen, e)));
        }
        logger.debug("resolver {}: read {} entries at revision {}", name(), all.size(), revision);
    }

    private void onWatch(long gen, WatchResponse response) {
        synchronized (applyLock) {
            if (gen != generation) {
                return;
            }
            for (WatchEvent event : response.getEvents()) {
                KeyValue kv = event.getKeyValue();
                if (kv.getModRevision() <= readRevision) {
                    continue;
                }
                String id = id(kv);
                if (event.getEventType() == WatchEvent.EventType.DELETE) {
                    remove(id);
                } else if (event.getEventType() == WatchEvent.EventType.PUT) {
                    Upstream u = parse(id, kv);
                    if (u != null) {
                        put(id, u);
                    }
                }
            }
        }
    }

    private void onWatchError(long gen, Throwable error) {
        // jetcd calls this holding its watch client's lock, which closing a watcher takes while a read is
        // applied under applyLock: taking applyLock here could deadlock, so the resolver's thread does it.
        try {
            executor().execute(() -> {
                synchronized (applyLock) {
                    if (gen != generation || isClosed()) {
                        return;
                    }
                    logger.warn("resolver {}: watch failed, reading {} again: {}", name(), prefix, error.toString());
                    lostLocked(error);
                }
                check();
            });
        } catch (RejectedExecutionException e) {
            // Closed meanwhile.
        }
    }

    /**
     * The changes can no longer be followed (etcd does not answer, or the watch failed: a compaction
     * overtook it, its stream broke): the watch is dropped, so that none of its events lands after this,
     * the membership is stale, and the prefix is read again at the next check. Changes missed meanwhile,
     * a bad entry's deletion included, are learned from that read.
     */
    private void lostLocked(Throwable cause) {
        generation++;
        closeWatcherLocked();
        needRead = true;
        stale(cause);
    }

    private Upstream parse(String id, KeyValue kv) {
        String text = kv.getValue().toString(UTF_8);
        try {
            return UpstreamEntry.parse(text);
        } catch (IllegalArgumentException e) {
            reject(id, text, e.getMessage());
            return null;
        }
    }

    private String id(KeyValue kv) {
        return kv.getKey().substring(watchedPrefix.size()).toString(UTF_8);
    }

    private void closeWatcherLocked() {
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
    }

    /**
     * Builds an {@link EtcdResolver}. Not thread-safe. Defaults: name {@code etcd:<prefix>}, coalescing
     * delay {@link CoalescingResolver#DEFAULT_COALESCE_DELAY} (20 ms), check interval 1 s, request
     * timeout 2 s.
     */
    public static final class Builder {
        private final Client client;
        private final String prefix;
        private String[] endpoints;
        private String name;
        private Duration coalesceDelay = DEFAULT_COALESCE_DELAY;
        private Duration checkInterval = Duration.ofSeconds(1);
        private Duration requestTimeout = Duration.ofSeconds(2);

        private Builder(Client client, String prefix) {
            this.client = client;
            String p = Checks.notBlank(prefix, "prefix");
            // "/a/b/" and "/a/b" name the same keys.
            this.prefix = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
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

        /** How often etcd's reachability is checked (and a failed read retried). */
        public Builder checkInterval(Duration checkInterval) {
            this.checkInterval = Checks.positive(checkInterval, "checkInterval");
            return this;
        }

        /** How long a read or check may take before etcd counts as unreachable. */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = Checks.positive(requestTimeout, "requestTimeout");
            return this;
        }

        public EtcdResolver build() {
            if (client != null) {
                return new EtcdResolver(this, client, false);
            }
            return new EtcdResolver(this, Client.builder().endpoints(endpoints).build(), true);
        }
    }
}
