package dev.lbkit.l4;

/**
 * What happens to the connections and flows of a real server that is no longer a destination (removed
 * with {@code ipvsadm -d}, or failed by a health check under {@link FailureAction#REMOVE}), as IPVS's
 * {@code net.ipv4.vs.expire_nodest_conn}, per {@link VirtualService}. Details on
 * {@link VirtualService#nodestConn()}.
 */
public enum NodestConn {
    /** They go on to it, both ways, until they end on their own: lbkit's graceful default (not an IPVS mode). */
    FORWARD,
    /**
     * IPVS's {@code expire_nodest_conn = 0}: what clients send on them is dropped (TCP: no longer read, so
     * it waits in the kernel; UDP: datagrams dropped and counted), replies still pass, until the real
     * server is added back or the entry times out.
     */
    DROP,
    /** IPVS's {@code expire_nodest_conn = 1}: they are expired (TCP reset on both sides, UDP flows forgotten). */
    EXPIRE
}
