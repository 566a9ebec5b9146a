package dev.lbkit.l4;

import dev.lbkit.transport.TransportType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One way lb-l4 forwards TCP in tests: a transport, copying through buffers or splicing (epoll only). */
record Forwarding(TransportType transport, boolean zeroCopy) {

    /** Every transport that loads here, copying, and epoll splicing when epoll loads. */
    static List<Forwarding> all() {
        List<Forwarding> out = new ArrayList<>();
        for (TransportType t : TransportType.available()) {
            out.add(new Forwarding(t, false));
        }
        out.addAll(splice());
        return out;
    }

    /** The default (copying on the best transport) and, when epoll loads, splicing. */
    static List<Forwarding> copyAndSplice() {
        List<Forwarding> out = new ArrayList<>();
        out.add(new Forwarding(TransportType.AUTO, false));
        out.addAll(splice());
        return out;
    }

    /** Epoll splicing, or nothing where epoll does not load. */
    static List<Forwarding> splice() {
        return TransportType.available().contains(TransportType.EPOLL)
                ? List.of(new Forwarding(TransportType.EPOLL, true)) : List.of();
    }

    /** A one-thread balancer builder forwarding this way. */
    L4Balancer.Builder builder() {
        return L4Balancer.builder().ioThreads(1).transport(transport).zeroCopy(zeroCopy);
    }

    @Override
    public String toString() {
        return transport.name().toLowerCase(Locale.ROOT) + (zeroCopy ? "+splice" : "");
    }
}
