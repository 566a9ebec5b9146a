package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;

/**
 * What the proxy sends upstream as {@code Host}. Immutable and thread-safe.
 *
 * <ul>
 *   <li>{@link #preserve()} (the default): the client's Host, unchanged ({@code proxy_set_header Host $host});
 *   <li>{@link #groupName()}: the upstream group's name, as nginx sends by default for
 *       {@code proxy_pass http://backend} ({@code $proxy_host});
 *   <li>{@link #upstreamAddress()}: the chosen upstream's {@code host:port};
 *   <li>{@link #fixed(String)}: a fixed value.
 * </ul>
 */
public final class HostHeader {
    /** The policy kind. */
    public enum Kind { PRESERVE, GROUP_NAME, UPSTREAM_ADDRESS, FIXED }

    private static final HostHeader PRESERVE = new HostHeader(Kind.PRESERVE, null);
    private static final HostHeader GROUP = new HostHeader(Kind.GROUP_NAME, null);
    private static final HostHeader ADDRESS = new HostHeader(Kind.UPSTREAM_ADDRESS, null);

    private final Kind kind;
    private final String value;

    private HostHeader(Kind kind, String value) {
        this.kind = kind;
        this.value = value;
    }

    public static HostHeader preserve() {
        return PRESERVE;
    }

    public static HostHeader groupName() {
        return GROUP;
    }

    public static HostHeader upstreamAddress() {
        return ADDRESS;
    }

    public static HostHeader fixed(String value) {
        return new HostHeader(Kind.FIXED, Checks.notBlank(value, "value"));
    }

    /** Which policy this is. */
    public Kind kind() {
        return kind;
    }

    /** The fixed value, or {@code null} unless {@link Kind#FIXED}. */
    public String value() {
        return value;
    }

    @Override
    public String toString() {
        return kind == Kind.FIXED ? "HostHeader.fixed(" + value + ")" : "HostHeader." + kind;
    }
}
