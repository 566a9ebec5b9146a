package dev.lbkit.l7;

/**
 * Whether lb-l7 starts each new upstream connection with a PROXY protocol header (HAProxy's format,
 * {@code send-proxy} / {@code send-proxy-v2}), so that the upstream learns the client's address and the
 * address the client connected to although the connection comes from the balancer. See
 * {@link UpstreamGroup.Builder#proxyProtocol(ProxyProtocol)}.
 */
public enum ProxyProtocol {
    /** No header. The default. */
    NONE,
    /** The text header, {@code PROXY TCP4 src dst sport dport\r\n} (HAProxy {@code send-proxy}). */
    V1,
    /** The binary header of version 2 (HAProxy {@code send-proxy-v2}). */
    V2
}
