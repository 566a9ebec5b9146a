package dev.lbkit.examples.support;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;

/** Formatting of socket addresses as the examples print them, and binding with a one-line failure reason. */
public final class Addresses {
    private Addresses() {}

    /** {@code 127.0.0.1:8081}, or {@code [::1]:8081} for IPv6. */
    public static String format(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        int zone = host.indexOf('%');
        if (zone >= 0) {
            host = host.substring(0, zone);
        }
        return (a.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /**
     * Runs {@code start}, which binds {@code address}; turns any failure into a {@link StartException}
     * reading "{@code what}: cannot listen on ADDRESS: reason".
     */
    public static <T> T bind(String what, InetSocketAddress address, Callable<T> start) {
        try {
            return start.call();
        } catch (StartException e) {
            throw e;
        } catch (Exception e) {
            throw new StartException(what + ": cannot listen on " + format(address) + ": " + reason(e), e);
        }
    }

    /**
     * The most specific message in {@code e}'s cause chain; "Address already in use" for a bind conflict,
     * whichever transport (JDK or native epoll) reported it.
     */
    public static String reason(Throwable e) {
        Throwable t = e;
        String message = e.toString();
        while (t != null) {
            if (t.getMessage() != null) {
                message = t.getMessage();
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return message.contains("Address already in use") ? "Address already in use" : message;
    }
}
