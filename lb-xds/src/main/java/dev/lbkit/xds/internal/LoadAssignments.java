package dev.lbkit.xds.internal;

import dev.lbkit.api.Upstream;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns an EDS {@link ClusterLoadAssignment} into upstreams, as Envoy reads it: the endpoint's
 * {@code load_balancing_weight} (default 1) is the weight; {@code UNHEALTHY}, {@code DRAINING} and
 * {@code TIMEOUT} endpoints get weight 0 (no new traffic, work in flight goes on); priority 0 is the
 * primary tier and every priority above it the backup tier. Each upstream carries {@code xds.priority}
 * and {@code xds.health} metadata. Thread-safe (stateless).
 */
public final class LoadAssignments {
    private LoadAssignments() {}

    /** A bad endpoint, skipped: its id (address text or position) and why. */
    public record Rejected(String id, String text, String reason) {}

    /** The upstreams by key ({@code host:port}), lowest priority first, and the endpoints skipped. */
    public record Result(Map<String, Upstream> upstreams, List<Rejected> rejected) {}

    public static Result read(ClusterLoadAssignment assignment) {
        Map<String, Upstream> upstreams = new LinkedHashMap<>();
        List<Rejected> rejected = new ArrayList<>();
        List<LocalityLbEndpoints> localities = new ArrayList<>(assignment.getEndpointsList());
        // An endpoint listed in two priorities belongs to the better one.
        localities.sort(Comparator.comparingInt(LocalityLbEndpoints::getPriority));
        for (LocalityLbEndpoints locality : localities) {
            int priority = locality.getPriority();
            for (int i = 0; i < locality.getLbEndpointsCount(); i++) {
                LbEndpoint endpoint = locality.getLbEndpoints(i);
                String position = "p" + priority + "/" + i;
                try {
                    Upstream u = upstream(endpoint, priority);
                    upstreams.putIfAbsent(u.key(), u);
                } catch (IllegalArgumentException e) {
                    rejected.add(new Rejected(idOf(endpoint, position), endpoint.toString().replace('\n', ' '), e.getMessage()));
                }
            }
        }
        return new Result(upstreams, rejected);
    }

    private static Upstream upstream(LbEndpoint endpoint, int priority) {
        if (!endpoint.hasEndpoint() || !endpoint.getEndpoint().getAddress().hasSocketAddress()) {
            throw new IllegalArgumentException("endpoint has no socket address");
        }
        SocketAddress address = endpoint.getEndpoint().getAddress().getSocketAddress();
        if (address.getAddress().isBlank()) {
            throw new IllegalArgumentException("endpoint address is empty");
        }
        if (address.getPortSpecifierCase() != SocketAddress.PortSpecifierCase.PORT_VALUE) {
            throw new IllegalArgumentException("endpoint needs a port_value, named ports are not supported");
        }
        int port = address.getPortValue();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("endpoint port must be in 1..65535, got " + Integer.toUnsignedString(port));
        }
        int weight = 1;
        if (endpoint.hasLoadBalancingWeight()) {
            // uint32 on the wire: negative here means above 2^31.
            weight = endpoint.getLoadBalancingWeight().getValue();
            if (weight < 1 || weight > Upstream.MAX_WEIGHT) {
                throw new IllegalArgumentException("endpoint load_balancing_weight must be in 1.." + Upstream.MAX_WEIGHT
                        + ", got " + Integer.toUnsignedString(weight));
            }
        }
        HealthStatus health = endpoint.getHealthStatus();
        if (health == HealthStatus.UNHEALTHY || health == HealthStatus.DRAINING || health == HealthStatus.TIMEOUT) {
            weight = 0;
        }
        return Upstream.builder(address.getAddress(), port).weight(weight).backup(priority > 0)
                .metadata("xds.priority", Integer.toString(priority))
                .metadata("xds.health", health.name())
                .build();
    }

    private static String idOf(LbEndpoint endpoint, String position) {
        if (endpoint.hasEndpoint() && endpoint.getEndpoint().getAddress().hasSocketAddress()) {
            SocketAddress a = endpoint.getEndpoint().getAddress().getSocketAddress();
            return a.getAddress() + ":" + Integer.toUnsignedString(a.getPortValue());
        }
        return position;
    }
}
