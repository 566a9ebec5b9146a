package dev.lbkit.l4;

/** The transport protocol of a {@link VirtualService}, as ipvsadm's {@code -t} and {@code -u}. */
public enum Protocol {
    /** A TCP service ({@code ipvsadm -t}): connections are forwarded byte for byte. */
    TCP,
    /** A UDP service ({@code ipvsadm -u}): datagrams are forwarded per client flow. */
    UDP
}
