package dev.lbkit.l4;

/**
 * Whether a service sends a PROXY protocol header (HAProxy's format) to real servers, so that they learn
 * the client's address although the traffic comes from the balancer: TCP services before the client's
 * first byte, UDP services (V2 only) before every datagram.
 */
public enum ProxyProtocol {
    /** No header: real servers see the balancer's address (plain masquerading). The default. */
    NONE,
    /** The text header, {@code PROXY TCP4 src dst sport dport\r\n}; TCP services only. */
    V1,
    /** The binary header of version 2: STREAM for TCP services, DGRAM for UDP services. */
    V2
}
