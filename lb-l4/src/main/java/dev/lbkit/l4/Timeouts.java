package dev.lbkit.l4;

import dev.lbkit.api.internal.Checks;
import java.time.Duration;

/**
 * Idle timeouts per connection state, as {@code ipvsadm --set tcp tcpfin udp}; immutable.
 *
 * @param tcp    idle time after which an established TCP connection is closed (ipvsadm default 900 s)
 * @param tcpFin how long a TCP connection stays counted after its first FIN: the idle timeout of a
 *               half-closed connection, and how long a closed one stays in {@code InActConn}
 *               (ipvsadm default 120 s)
 * @param udp    idle time after which a UDP flow is forgotten (ipvsadm default 300 s)
 */
public record Timeouts(Duration tcp, Duration tcpFin, Duration udp) {
    /** ipvsadm's defaults: 900 s, 120 s, 300 s. */
    public static final Timeouts DEFAULT =
            new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(120), Duration.ofSeconds(300));

    /** Validates that every timeout is positive. */
    public Timeouts {
        Checks.positive(tcp, "tcp");
        Checks.positive(tcpFin, "tcpFin");
        Checks.positive(udp, "udp");
    }

    /** The rendering of {@code ipvsadm -L --timeout}: {@code Timeout (tcp tcpfin udp): 900 120 300}. */
    public String render() {
        return "Timeout (tcp tcpfin udp): " + tcp.toSeconds() + " " + tcpFin.toSeconds() + " " + udp.toSeconds();
    }
}
