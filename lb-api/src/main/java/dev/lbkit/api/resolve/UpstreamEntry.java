package dev.lbkit.api.resolve;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Json;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Objects;

/**
 * The JSON form of one upstream in a discovery store:
 * {@code {"host":"127.0.0.1","port":8081,"weight":1,"backup":false,"metadata":{}}}, where
 * {@code weight} (default 1), {@code backup} (default {@code false}) and {@code metadata} (default
 * empty; string, number or boolean values) are optional and unknown members are ignored, so that newer
 * writers do not break older readers. The etcd module stores it as a key's value; the ZooKeeper module
 * reads the same optional members from a Curator instance's payload.
 *
 * <p>Thread-safe (stateless).
 */
public final class UpstreamEntry {
    private UpstreamEntry() {}

    /**
     * Parses an entry.
     *
     * @throws IllegalArgumentException saying what is wrong: not JSON, not an object, missing host,
     *     port outside 1..65535, weight outside 0..{@value Upstream#MAX_WEIGHT}, bad metadata
     */
    public static Upstream parse(String json) {
        return fromFields(Json.parseObject(Objects.requireNonNull(json, "json")));
    }

    /**
     * Builds the upstream from an entry's members already parsed (by lbkit's JSON reader or another):
     * strings, numbers ({@link Number}), booleans and maps.
     *
     * @throws IllegalArgumentException as {@link #parse}
     */
    public static Upstream fromFields(Map<String, ?> fields) {
        Objects.requireNonNull(fields, "fields");
        Object host = fields.get("host");
        if (!(host instanceof String) || ((String) host).isBlank()) {
            throw new IllegalArgumentException("entry needs a non-blank string \"host\", got " + describe(host));
        }
        int port = integer(fields.get("port"), "port", true);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("entry \"port\" must be in 1..65535, got " + port);
        }
        Upstream.Builder b = Upstream.builder((String) host, port);
        if (fields.containsKey("weight")) {
            int weight = integer(fields.get("weight"), "weight", false);
            if (weight < 0 || weight > Upstream.MAX_WEIGHT) {
                throw new IllegalArgumentException(
                        "entry \"weight\" must be in 0.." + Upstream.MAX_WEIGHT + ", got " + weight);
            }
            b.weight(weight);
        }
        Object backup = fields.get("backup");
        if (backup != null && backup != Json.NULL) {
            if (!(backup instanceof Boolean)) {
                throw new IllegalArgumentException("entry \"backup\" must be a boolean, got " + describe(backup));
            }
            b.backup((Boolean) backup);
        }
        Object metadata = fields.get("metadata");
        if (metadata != null && metadata != Json.NULL) {
            if (!(metadata instanceof Map)) {
                throw new IllegalArgumentException("entry \"metadata\" must be an object, got " + describe(metadata));
            }
            for (Map.Entry<?, ?> e : ((Map<?, ?>) metadata).entrySet()) {
                Object v = e.getValue();
                if (v instanceof String || v instanceof Boolean) {
                    b.metadata(String.valueOf(e.getKey()), v.toString());
                } else if (v instanceof BigDecimal) {
                    b.metadata(String.valueOf(e.getKey()), ((BigDecimal) v).toPlainString());
                } else if (v instanceof Number) {
                    b.metadata(String.valueOf(e.getKey()), v.toString());
                } else {
                    throw new IllegalArgumentException("entry metadata \"" + e.getKey()
                            + "\" must be a string, number or boolean, got " + describe(v));
                }
            }
        }
        return b.build();
    }

    /** The entry for {@code upstream}: host, port, weight, backup and metadata (name and limits are not stored). */
    public static String toJson(Upstream upstream) {
        Objects.requireNonNull(upstream, "upstream");
        StringBuilder sb = new StringBuilder(64).append("{\"host\":");
        Json.quote(sb, upstream.host()).append(",\"port\":").append(upstream.port())
                .append(",\"weight\":").append(upstream.weight())
                .append(",\"backup\":").append(upstream.isBackup())
                .append(",\"metadata\":{");
        boolean first = true;
        for (Map.Entry<String, String> e : upstream.metadata().entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            Json.quote(sb, e.getKey()).append(':');
            Json.quote(sb, e.getValue());
        }
        return sb.append("}}").toString();
    }

    private static int integer(Object v, String name, boolean required) {
        if (v == null && required) {
            throw new IllegalArgumentException("entry needs a number \"" + name + "\"");
        }
        if (v instanceof BigDecimal) {
            BigDecimal d = (BigDecimal) v;
            try {
                // Values far out of range saturate so that the range check names them.
                return d.signum() < 0 && d.compareTo(BigDecimal.valueOf(Integer.MIN_VALUE)) < 0 ? Integer.MIN_VALUE
                        : d.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0 ? Integer.MAX_VALUE
                        : d.intValueExact();
            } catch (ArithmeticException e) {
                // Not toPlainString: for 1.5e-999999999 it would build a string of a billion digits.
                throw new IllegalArgumentException("entry \"" + name + "\" must be an integer, got " + d);
            }
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short) {
            long l = ((Number) v).longValue();
            return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, l));
        }
        throw new IllegalArgumentException("entry \"" + name + "\" must be an integer, got " + describe(v));
    }

    private static String describe(Object v) {
        return v == null ? "nothing" : Json.describe(v);
    }
}
