package dev.lbkit.transport;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.util.ArrayList;
import java.util.List;

/**
 * The I/O transport a balancer runs on, chosen with each balancer builder's {@code transport(...)}.
 *
 * <p>Every transport gives the same behaviour; they differ in cost. {@link #IO_URING} submits socket
 * operations through a ring instead of one system call each, which pays where connections are opened
 * and closed at a high rate (an L4 service with short connections) and where many keep-alive
 * connections are busy at once (an L7 balancer with tens to hundreds of clients); with few busy
 * connections epoll costs the same or less. An explicit choice that cannot load fails the balancer's build with an
 * {@link IllegalStateException} naming the cause, rather than silently running on something else.
 */
public enum TransportType {
    /**
     * Native epoll when it loads (Linux), NIO otherwise. The default. The system property
     * {@code dev.lbkit.transport} ({@code epoll}, {@code io_uring} or {@code nio}) makes AUTO pick that
     * transport instead when it loads; any other value fails the balancer's build naming it.
     */
    AUTO,
    /** Linux epoll (Netty's native transport). */
    EPOLL,
    /** Linux io_uring (kernel 5.14 or later; often disabled in containers by seccomp or a sysctl). */
    IO_URING,
    /** Java NIO: every platform. */
    NIO;

    /** The transports that load on this machine, other than {@link #AUTO}: epoll, io_uring, NIO. */
    public static List<TransportType> available() {
        List<TransportType> all = new ArrayList<>();
        if (Epoll.isAvailable()) {
            all.add(EPOLL);
        }
        if (IoUring.isAvailable()) {
            all.add(IO_URING);
        }
        all.add(NIO);
        return List.copyOf(all);
    }
}
