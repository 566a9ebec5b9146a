package dev.lbkit.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.resolve.CoalescingResolver;
import dev.lbkit.xds.internal.LoadAssignments;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one cluster of an xDS control plane, as Envoy and gRPC do: over one ADS stream it subscribes to
 * the cluster (CDS), then to its endpoints (EDS, under the cluster's {@code eds_cluster_config.service_name}
 * or its name; a cluster with an inline {@code load_assignment} needs no EDS), and acknowledges every
 * response.
 *
 * <p>Endpoints become upstreams: {@code load_balancing_weight} is the weight (default 1);
 * {@code UNHEALTHY}, {@code DRAINING} and {@code TIMEOUT} endpoints get weight 0, so they receive no new
 * traffic while work in flight finishes; priority 0 is the primary tier and any higher priority the backup
 * tier. Each upstream carries {@code xds.priority} and {@code xds.health} metadata. Locality weights are
 * not used. A bad endpoint (no socket address, port outside 1..65535, weight outside 1..65535) is skipped,
 * logged once and {@linkplain #rejectedEntries() counted}; a resource that cannot be decoded is rejected
 * (NACK) and the last membership kept.
 *
 * <p>The first endpoint response completes {@link #whenReady()}. When the stream fails, the last membership
 * stays and is told {@linkplain #isStale() stale}; the stream is opened again every
 * {@linkplain Builder#retryInterval retry interval}, and the first response after that replaces the
 * membership whole (as Envoy and gRPC keep the last EDS result until then). Later responses are applied
 * as differences, coalesced.
 *
 * <pre>{@code
 * XdsResolver resolver = XdsResolver.builder("127.0.0.1:18000", "web").nodeId("balancer-1").build();
 * pool.follow(resolver);
 * }</pre>
 *
 * <p>Thread-safe. The channel is the caller's unless the resolver built it from a target.
 */
public final class XdsResolver extends CoalescingResolver {
    private static final Logger logger = LoggerFactory.getLogger(XdsResolver.class);

    static final String CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    static final String ENDPOINT_TYPE = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

    private final ManagedChannel channel;
    private final boolean ownsChannel;
    private final String cluster;
    private final Node node;
    private final Duration retryInterval;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}; bumped by every new stream so that an old stream's callbacks are ignored. */
    private long generation;
    /** Guarded by {@link #lock}. */
    private StreamObserver<DiscoveryRequest> requests;
    /** Guarded by {@link #lock}: the EDS resource subscribed to, or {@code null}. */
    private String edsName;
    /** Guarded by {@link #lock}: the EDS resource a request was sent for on this stream, or {@code null}. */
    private String edsSubscribed;
    /** Guarded by {@link #lock}: the versions accepted on this stream, for NACKs. */
    private final Map<String, String> acceptedVersions = new HashMap<>();
    /** Guarded by {@link #lock}: whether the next membership replaces the whole (first on a stream). */
    private boolean wholeNext = true;
    /** Guarded by {@link #lock}: the ids of the last membership applied, its bad endpoints' included. */
    private Set<String> appliedIds = Set.of();

    private XdsResolver(Builder b, ManagedChannel channel, boolean ownsChannel) {
        super(b.name != null ? b.name : "xds:" + b.cluster, b.coalesceDelay);
        this.channel = channel;
        this.ownsChannel = ownsChannel;
        this.cluster = b.cluster;
        this.node = Node.newBuilder().setId(b.nodeId).setCluster(b.nodeCluster).setUserAgentName("lbkit").build();
        this.retryInterval = b.retryInterval;
    }

    /** A builder following {@code cluster} on the control plane at {@code target} ({@code host:port}, plaintext). */
    public static Builder builder(String target, String cluster) {
        Builder b = new Builder(null, cluster);
        b.target = Checks.notBlank(target, "target");
        return b;
    }

    /** A builder following {@code cluster} over the caller's channel (its credentials, its lifetime). */
    public static Builder builder(ManagedChannel channel, String cluster) {
        return new Builder(Objects.requireNonNull(channel, "channel"), cluster);
    }

    /**
     * A builder from a URI {@code xds://host:port/cluster}, as the examples' {@code --discovery} option
     * takes it: plaintext, the resolver owns its channel.
     *
     * @throws IllegalArgumentException naming the URI if it is not of that form
     */
    public static Builder builder(URI uri) {
        Objects.requireNonNull(uri, "uri");
        String authority = uri.getRawAuthority();
        String path = uri.getPath();
        if (!"xds".equalsIgnoreCase(uri.getScheme()) || authority == null || path == null || path.length() < 2
                || path.indexOf('/', 1) >= 0) {
            throw new IllegalArgumentException("xDS discovery must be xds://host:port/cluster, got '" + uri + "'");
        }
        return builder(authority, path.substring(1));
    }

    /** The cluster followed. */
    public String cluster() {
        return cluster;
    }

    @Override
    protected void start() {
        openStream();
    }

    @Override
    protected void stop() {
        synchronized (lock) {
            generation++;
            if (requests != null) {
                requests.onCompleted();
                requests = null;
            }
        }
        if (ownsChannel) {
            channel.shutdownNow();
        }
    }

    private void openStream() {
        if (isClosed()) {
            return;
        }
        synchronized (lock) {
            long gen = ++generation;
            edsName = null;
            edsSubscribed = null;
            acceptedVersions.clear();
            wholeNext = true;
            requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
                @Override
                public void onNext(DiscoveryResponse response) {
                    onResponse(gen, response);
                }

                @Override
                public void onError(Throwable t) {
                    onStreamEnd(gen, t);
                }

                @Override
                public void onCompleted() {
                    onStreamEnd(gen, new IllegalStateException("control plane closed the ADS stream"));
                }
            });
            requests.onNext(request(CLUSTER_TYPE, cluster, "", ""));
        }
    }

    private void onStreamEnd(long gen, Throwable cause) {
        synchronized (lock) {
            if (gen != generation) {
                return;
            }
            generation++;
            requests = null;
        }
        if (isClosed()) {
            return;
        }
        logger.warn("resolver {}: ADS stream ended, retrying in {}: {}", name(), retryInterval, cause.toString());
        stale(cause);
        try {
            executor().schedule(this::openStream, retryInterval.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Closed meanwhile.
        }
    }

    private void onResponse(long gen, DiscoveryResponse response) {
        synchronized (lock) {
            if (gen != generation || requests == null) {
                return;
            }
            String type = response.getTypeUrl();
            String resource = CLUSTER_TYPE.equals(type) ? cluster : edsName;
            try {
                if (CLUSTER_TYPE.equals(type)) {
                    onClusters(response.getResourcesList());
                } else if (ENDPOINT_TYPE.equals(type)) {
                    onEndpoints(response.getResourcesList());
                } else {
                    logger.debug("resolver {}: ignoring {}", name(), type);
                }
                acceptedVersions.put(type, response.getVersionInfo());
                requests.onNext(request(type, resource, response.getVersionInfo(), response.getNonce()));
            } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
                logger.warn("resolver {}: rejecting {} version {}: {}", name(), type, response.getVersionInfo(), e.toString());
                requests.onNext(request(type, resource, acceptedVersions.getOrDefault(type, ""), response.getNonce())
                        .toBuilder().setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3)
                                .setMessage(String.valueOf(e.getMessage()))).build());
            }
            // Subscribing to EDS after the CDS ACK keeps the order Envoy uses.
            if (edsName != null && !edsName.equals(edsSubscribed)) {
                edsSubscribed = edsName;
                acceptedVersions.remove(ENDPOINT_TYPE);
                requests.onNext(request(ENDPOINT_TYPE, edsName, "", ""));
            }
        }
    }

    private void onClusters(List<Any> resources) throws InvalidProtocolBufferException {
        for (Any any : resources) {
            Cluster c = any.unpack(Cluster.class);
            if (!c.getName().equals(cluster)) {
                continue;
            }
            if (c.hasLoadAssignment() && c.getType() != Cluster.DiscoveryType.EDS) {
                edsName = null;
                apply(c.getLoadAssignment());
            } else {
                String service = c.getEdsClusterConfig().getServiceName();
                String name = service.isEmpty() ? c.getName() : service;
                edsName = name;
            }
            return;
        }
        logger.warn("resolver {}: the control plane has no cluster {}, keeping the last membership", name(), cluster);
    }

    private void onEndpoints(List<Any> resources) throws InvalidProtocolBufferException {
        for (Any any : resources) {
            ClusterLoadAssignment cla = any.unpack(ClusterLoadAssignment.class);
            if (cla.getClusterName().equals(edsName)) {
                apply(cla);
                return;
            }
        }
    }

    private void apply(ClusterLoadAssignment assignment) {
        LoadAssignments.Result result = LoadAssignments.read(assignment);
        Set<String> ids = new HashSet<>(result.upstreams().keySet());
        for (LoadAssignments.Rejected r : result.rejected()) {
            reject(r.id(), r.text(), r.reason());
            ids.add(r.id());
        }
        Map<String, Upstream> next = result.upstreams();
        if (wholeNext) {
            wholeNext = false;
            resync(next);
        } else {
            // A bad endpoint that left is removed too: the resolver then forgets it, and counts it again if it comes back.
            for (String id : appliedIds) {
                if (!ids.contains(id)) {
                    remove(id);
                }
            }
            next.forEach(this::put);
        }
        appliedIds = ids;
    }

    private DiscoveryRequest request(String type, String resource, String version, String nonce) {
        return DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(type).addResourceNames(resource)
                .setVersionInfo(version).setResponseNonce(nonce).build();
    }

    /**
     * Builds an {@link XdsResolver}. Not thread-safe. Defaults: name {@code xds:<cluster>}, node id and node
     * cluster {@code lbkit}, coalescing delay {@link CoalescingResolver#DEFAULT_COALESCE_DELAY} (20 ms), retry
     * interval 1 s.
     */
    public static final class Builder {
        private final ManagedChannel channel;
        private final String cluster;
        private String target;
        private String name;
        private String nodeId = "lbkit";
        private String nodeCluster = "lbkit";
        private Duration coalesceDelay = DEFAULT_COALESCE_DELAY;
        private Duration retryInterval = Duration.ofSeconds(1);

        private Builder(ManagedChannel channel, String cluster) {
            this.channel = channel;
            this.cluster = Checks.notBlank(cluster, "cluster");
        }

        /** The name in logs and the resolver thread's name. */
        public Builder name(String name) {
            this.name = Checks.notBlank(name, "name");
            return this;
        }

        /** The node id the control plane sees (it may serve nodes differently). */
        public Builder nodeId(String nodeId) {
            this.nodeId = Checks.notBlank(nodeId, "nodeId");
            return this;
        }

        /** The node's cluster the control plane sees. */
        public Builder nodeCluster(String nodeCluster) {
            this.nodeCluster = Checks.notBlank(nodeCluster, "nodeCluster");
            return this;
        }

        /** How long a burst of endpoint updates is collected before it is told; zero tells each alone. */
        public Builder coalesceDelay(Duration coalesceDelay) {
            this.coalesceDelay = Checks.positiveOrZero(coalesceDelay, "coalesceDelay");
            return this;
        }

        /** How long to wait before opening the ADS stream again after it failed. */
        public Builder retryInterval(Duration retryInterval) {
            this.retryInterval = Checks.positive(retryInterval, "retryInterval");
            return this;
        }

        public XdsResolver build() {
            if (channel != null) {
                return new XdsResolver(this, channel, false);
            }
            return new XdsResolver(this, Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build(), true);
        }
    }
}
