package dev.lbkit.zookeeper;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.zookeeper.internal.Instances;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedding service's announcement of itself as an instance of a service in ZooKeeper, in the JSON
 * format of Curator's {@code ServiceDiscovery} (so Curator, Spring Cloud Zookeeper and
 * {@link ZooKeeperResolver} all find it), with lbkit's weight, backup and metadata in the payload.
 *
 * <p>The node is ephemeral: if the process dies, ZooKeeper removes it when the session expires (the
 * client's session timeout). Curator's {@code PersistentNode} writes it again after a session loss while
 * the process lives. A graceful stop ({@link #close()}) drains first: weight 0 is published, work in
 * flight finishes during the {@linkplain Builder#drainTime drain time}, then the node is deleted.
 *
 * <pre>{@code
 * ZooKeeperRegistration me = ZooKeeperRegistration.builder(zk, "/services/web", Upstream.of("127.0.0.1", 8081))
 *         .register();
 * // ... serve ...
 * me.close(); // drains for 5 s, then leaves
 * }</pre>
 *
 * <p>Thread-safe. The client is the caller's and must be started.
 */
public final class ZooKeeperRegistration implements AutoCloseable {
    private static final Logger logger = LoggerFactory.getLogger(ZooKeeperRegistration.class);

    private final String serviceName;
    private final String id;
    private final String nodePath;
    private final Duration drainTime;
    private final long registrationTime = System.currentTimeMillis();
    private final PersistentNode node;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private Upstream upstream;
    /** Guarded by {@link #lock}. */
    private boolean closed;

    private ZooKeeperRegistration(Builder b) {
        String path = b.servicePath;
        this.serviceName = path.substring(path.lastIndexOf('/') + 1);
        this.id = b.id != null ? b.id : UUID.randomUUID().toString();
        this.nodePath = path + "/" + id;
        this.drainTime = b.drainTime;
        this.upstream = b.upstream;
        this.node = new PersistentNode(b.client, CreateMode.EPHEMERAL, false, nodePath, data(b.upstream));
    }

    /** A builder announcing {@code upstream} under {@code servicePath} ({@code <basePath>/<serviceName>}). */
    public static Builder builder(CuratorFramework client, String servicePath, Upstream upstream) {
        return new Builder(client, servicePath, upstream);
    }

    /** The instance's node, {@code <servicePath>/<id>}. */
    public String path() {
        return nodePath;
    }

    /** The upstream as currently announced (weight 0 once drained). */
    public Upstream upstream() {
        synchronized (lock) {
            return upstream;
        }
    }

    /**
     * Publishes weight 0: balancers stop sending new traffic here; work in flight continues.
     *
     * @throws IllegalStateException if ZooKeeper refuses the change
     */
    public void drain() {
        synchronized (lock) {
            upstream = upstream.toBuilder().weight(0).build();
            try {
                node.setData(data(upstream));
            } catch (Exception e) {
                throw new IllegalStateException("could not drain " + nodePath + ": " + e, e);
            }
        }
    }

    /**
     * Leaves gracefully: drains, waits the drain time, deletes the node. Blocks for the drain time.
     * Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            drain();
            Thread.sleep(drainTime.toMillis());
        } catch (IllegalStateException e) {
            logger.warn("registration {}: {}", nodePath, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            node.close();
        } catch (IOException e) {
            logger.warn("registration {}: could not delete the node, it goes with the session: {}", nodePath, e.toString());
        }
    }

    private byte[] data(Upstream u) {
        return Instances.toJson(serviceName, id, u, registrationTime).getBytes(UTF_8);
    }

    /**
     * Builds and registers a {@link ZooKeeperRegistration}. Not thread-safe. Defaults: a random UUID id
     * (as Curator's), drain time 5 s, registration timeout 10 s.
     */
    public static final class Builder {
        private final CuratorFramework client;
        private final String servicePath;
        private final Upstream upstream;
        private String id;
        private Duration drainTime = Duration.ofSeconds(5);
        private Duration registrationTimeout = Duration.ofSeconds(10);

        private Builder(CuratorFramework client, String servicePath, Upstream upstream) {
            this.client = Objects.requireNonNull(client, "client");
            String p = Checks.notBlank(servicePath, "servicePath");
            if (!p.startsWith("/") || p.length() < 2) {
                throw new IllegalArgumentException("servicePath must be /<basePath>/<serviceName>, got '" + servicePath + "'");
            }
            this.servicePath = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
            this.upstream = Objects.requireNonNull(upstream, "upstream");
        }

        /** The instance id, the node's name; must not contain {@code /}. */
        public Builder id(String id) {
            Checks.notBlank(id, "id");
            if (id.indexOf('/') >= 0) {
                throw new IllegalArgumentException("id must not contain '/', got '" + id + "'");
            }
            this.id = id;
            return this;
        }

        /** How long {@link #close()} waits at weight 0 for work in flight before it leaves; zero leaves at once. */
        public Builder drainTime(Duration drainTime) {
            this.drainTime = Checks.positiveOrZero(drainTime, "drainTime");
            return this;
        }

        /** How long {@link #register()} waits for the node to be written. */
        public Builder registrationTimeout(Duration registrationTimeout) {
            this.registrationTimeout = Checks.positive(registrationTimeout, "registrationTimeout");
            return this;
        }

        /**
         * Registers: writes the ephemeral node (and its parents) and keeps it. Blocks until written.
         *
         * @throws IllegalStateException if the node is not written within the registration timeout
         */
        public ZooKeeperRegistration register() {
            ZooKeeperRegistration r = new ZooKeeperRegistration(this);
            r.node.start();
            boolean created;
            try {
                created = r.node.waitForInitialCreate(registrationTimeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                created = false;
            }
            if (!created) {
                try {
                    r.node.close();
                } catch (IOException e) {
                    logger.debug("registration {}: close after failure: {}", r.nodePath, e.toString());
                }
                throw new IllegalStateException("could not register " + r.nodePath + " within " + registrationTimeout);
            }
            logger.info("registration {}: registered {}", r.nodePath, upstream);
            return r;
        }
    }
}
