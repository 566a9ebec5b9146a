package dev.lbkit.xds;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Envoy's java-control-plane serving ADS on loopback, for tests: one snapshot for every node, set with
 * {@link #serve}. Can be stopped and started again on the same port.
 */
final class ControlPlane implements AutoCloseable {
    private final SimpleCache<String> cache = new SimpleCache<>(node -> "all");
    private int port;
    private Server server;
    private int version;

    ControlPlane() throws IOException {
        start();
    }

    String target() {
        return "127.0.0.1:" + port;
    }

    void start() throws IOException {
        V3DiscoveryServer xds = new V3DiscoveryServer(cache);
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .addService(xds.getAggregatedDiscoveryServiceImpl()).build().start();
        port = server.getPort();
    }

    void stop() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Serves one EDS cluster {@code name} whose endpoints are {@code assignment}'s (a new version each time). */
    void serve(String name, ClusterLoadAssignment assignment) {
        Cluster cluster = Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS)
                .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
                .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
                        .setEdsConfig(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()))
                        .setServiceName(assignment.getClusterName()))
                .build();
        cache.setSnapshot("all", Snapshot.create(List.of(cluster), List.of(assignment), List.of(), List.of(), List.of(),
                Integer.toString(++version)));
    }

    /** Serves one EDS cluster {@code name}, its resource of the same name, with {@code endpoints} at priority 0. */
    void serve(String name, LbEndpoint... endpoints) {
        serve(name, assignment(name, priority(0, endpoints)));
    }

    /** A healthy endpoint of weight 1 on 127.0.0.1. */
    static LbEndpoint healthy(int port) {
        return endpoint("127.0.0.1", port, 1, HealthStatus.HEALTHY);
    }

    static LbEndpoint endpoint(String host, int port, int weight, HealthStatus health) {
        return LbEndpoint.newBuilder().setHealthStatus(health)
                .setLoadBalancingWeight(UInt32Value.of(weight))
                .setEndpoint(Endpoint.newBuilder().setAddress(Address.newBuilder()
                        .setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))))
                .build();
    }

    static LocalityLbEndpoints priority(int priority, LbEndpoint... endpoints) {
        return LocalityLbEndpoints.newBuilder().setPriority(priority).addAllLbEndpoints(List.of(endpoints)).build();
    }

    static ClusterLoadAssignment assignment(String name, LocalityLbEndpoints... localities) {
        return ClusterLoadAssignment.newBuilder().setClusterName(name).addAllEndpoints(List.of(localities)).build();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
