package dev.lbkit.zookeeper.internal;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Json;
import dev.lbkit.api.resolve.UpstreamEntry;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON that Curator's {@code ServiceDiscovery} writes for one service instance, read and written.
 * Its {@code address} and {@code port} (or {@code sslPort}) locate the upstream; the optional
 * {@code payload} object carries lbkit's {@code weight}, {@code backup} and {@code metadata} members (the
 * same members as an {@link UpstreamEntry}; Spring Cloud Zookeeper's payload also has a
 * {@code metadata} object). Thread-safe (stateless).
 */
public final class Instances {
    private Instances() {}

    /**
     * The upstream an instance stands for, or empty when the instance is disabled ({@code "enabled":false}).
     *
     * @throws IllegalArgumentException saying what is wrong with the instance
     */
    public static Optional<Upstream> parse(String json) {
        Map<String, Object> instance = Json.parseObject(json);
        if (Boolean.FALSE.equals(instance.get("enabled"))) {
            return Optional.empty();
        }
        Map<String, Object> fields = new HashMap<>();
        Object payload = instance.get("payload");
        if (payload instanceof Map) {
            Map<?, ?> p = (Map<?, ?>) payload;
            for (String member : new String[] {"weight", "backup", "metadata"}) {
                if (p.containsKey(member)) {
                    fields.put(member, p.get(member));
                }
            }
        }
        fields.put("host", instance.get("address"));
        Object port = instance.get("port");
        String which = "port";
        // sslPort stands in only for a port that is null or absent, not for a bad one.
        if (port == null || port == Json.NULL) {
            port = instance.get("sslPort");
            which = "sslPort";
        }
        if (!(port instanceof BigDecimal)) {
            throw new IllegalArgumentException("instance needs a number \"port\" (or, when it is null, \"sslPort\"), got "
                    + which + " " + Json.describe(port));
        }
        fields.put("port", port);
        return Optional.of(UpstreamEntry.fromFields(fields));
    }

    /** The instance JSON, in Curator's format, for {@code upstream} registered as {@code name}/{@code id}. */
    public static String toJson(String name, String id, Upstream upstream, long registrationTimeMillis) {
        StringBuilder sb = new StringBuilder(256).append("{\"name\":");
        Json.quote(sb, name).append(",\"id\":");
        Json.quote(sb, id).append(",\"address\":");
        Json.quote(sb, upstream.host()).append(",\"port\":").append(upstream.port())
                .append(",\"sslPort\":null,\"payload\":");
        String entry = UpstreamEntry.toJson(upstream);
        // The payload is the entry without host and port, which the instance already holds.
        sb.append("{").append(entry, entry.indexOf("\"weight\""), entry.length());
        return sb.append(",\"registrationTimeUTC\":").append(registrationTimeMillis)
                .append(",\"serviceType\":\"DYNAMIC\",\"uriSpec\":null,\"enabled\":true}").toString();
    }
}
