package dev.lbkit.api.internal;

import java.util.Objects;

/** Address bytes helpers shared by the tiers. Internal: not part of lbkit's API. Stateless, thread-safe. */
public final class InetAddresses {
    private InetAddresses() {}

    /**
     * {@code address} as 16 bytes: an IPv6 address as it is, an IPv4 address as IPv4-mapped IPv6
     * ({@code ::ffff:a.b.c.d}, RFC 4291 section 2.5.5.2). Returns {@code address} itself when it has 16
     * bytes, a new array otherwise.
     *
     * @throws IllegalArgumentException if {@code address} has neither 4 nor 16 bytes
     */
    public static byte[] toIpv6(byte[] address) {
        Objects.requireNonNull(address, "address");
        if (address.length == 16) {
            return address;
        }
        if (address.length != 4) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + address.length);
        }
        byte[] m = new byte[16];
        m[10] = (byte) 0xFF;
        m[11] = (byte) 0xFF;
        System.arraycopy(address, 0, m, 12, 4);
        return m;
    }
}
