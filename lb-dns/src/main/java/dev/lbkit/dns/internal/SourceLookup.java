package dev.lbkit.dns.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * Finds the source address the host would use to reach a destination: RFC 6724's Source(D), which its
 * destination address selection rules 1, 2, 5 and 9 compare. {@link #system()} asks the kernel; tests
 * supply sources for made-up addresses without touching a socket.
 *
 * <p>Implementations are thread-safe and never throw: a destination without a route is an empty answer.
 */
@FunctionalInterface
public interface SourceLookup {
    /**
     * @return the source address for {@code destination}, or empty when the host has no route to it (the
     *     destination is unusable, RFC 6724 rule 1)
     */
    Optional<InetAddress> source(InetSocketAddress destination);

    /** The kernel's choice, found as glibc's getaddrinfo finds it: see {@link UdpSourceLookup}. */
    static SourceLookup system() {
        return UdpSourceLookup.INSTANCE;
    }
}
