package dev.lbkit.l4;

/**
 * What a real server's failed health check does to it, as keepalived's {@code inhibit_on_failure}.
 * Either way it receives no new connections while failed, and health checks continue so that it comes
 * back when it recovers. Its established connections go on, but under {@link #REMOVE} with
 * {@link VirtualService#nodestConn()} {@code DROP} or {@code EXPIRE}, which drops what their clients send
 * (until it recovers) or expires them, as keepalived's {@code ipvsadm -d} would.
 */
public enum FailureAction {
    /** Keep it listed with weight 0 (keepalived {@code inhibit_on_failure}). */
    INHIBIT,
    /** Leave it out of the listing until it recovers (keepalived's default). The default here too. */
    REMOVE
}
