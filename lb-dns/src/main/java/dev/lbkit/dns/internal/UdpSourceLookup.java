package dev.lbkit.dns.internal;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.util.Optional;

/**
 * The source address the kernel would choose, found the way glibc's getaddrinfo finds it for its RFC 6724
 * sort: connect an unbound UDP socket to the destination and read the socket's local address. Connecting a
 * UDP socket sends no packet; the kernel only looks up the route (and with it the source address, applying
 * its own source address selection, RFC 6724 section 5). No route, or any other failure, means no source.
 *
 * <p>One socket per call, opened, connected and closed at once: about 25 µs on Linux. Stateless and
 * thread-safe.
 */
final class UdpSourceLookup implements SourceLookup {
    static final UdpSourceLookup INSTANCE = new UdpSourceLookup();

    /** A UDP socket cannot be connected to port 0; the route does not depend on the port number (9, discard). */
    private static final int PORT_FOR_ZERO = 9;

    private UdpSourceLookup() {}

    @Override
    public Optional<InetAddress> source(InetSocketAddress destination) {
        InetAddress address = destination.getAddress();
        if (address == null) {
            return Optional.empty();
        }
        int port = destination.getPort() == 0 ? PORT_FOR_ZERO : destination.getPort();
        StandardProtocolFamily family = address instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
        try (DatagramChannel channel = DatagramChannel.open(family)) {
            channel.connect(new InetSocketAddress(address, port));
            InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
            return local == null || local.getAddress().isAnyLocalAddress() ? Optional.empty() : Optional.of(local.getAddress());
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // ENETUNREACH, EHOSTUNREACH, EINVAL (a link-local address without a zone), or no IPv6 on this host.
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "UdpSourceLookup";
    }
}
