package dev.lbkit.l4;

/**
 * Whether a TCP service sends a PROXY protocol header (HAProxy's format) to real servers before the
 * client's first byte, so that they learn the client's address although the connection comes from the
 * balancer.
 */
public enum ProxyProtocol {
    /** No header: real servers see the balancer's address (plain masquerading). The default. */
    NONE,
    /** The text header, {@code PROXY TCP4 src dst sport dport\r\n}. */
    V1,
    /** The binary header of version 2. */
    V2
}
