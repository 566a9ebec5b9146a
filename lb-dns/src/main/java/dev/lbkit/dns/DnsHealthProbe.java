package dev.lbkit.dns;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.health.HealthProbe;
import dev.lbkit.api.health.ProbeResult;
import dev.lbkit.api.internal.Checks;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A {@link HealthProbe} for upstreams that are DNS servers: sends one query and passes when the answer
 * comes back within the timeout with the expected rcode (keepalived's {@code DNS_CHECK}, HAProxy's
 * {@code resolvers} health). Use it with {@link dev.lbkit.api.health.ActiveHealthPolicy} on a pool of
 * resolvers.
 *
 * <p>The query goes over UDP (or TCP, if set) with dnsjava's asynchronous client, so no thread waits
 * for it. An upstream given by host name is resolved on the calling thread (the health checker's).
 *
 * <p>Immutable and thread-safe.
 */
public final class DnsHealthProbe implements HealthProbe {
    private final Name name;
    private final int type;
    private final int expectedRcode;
    private final boolean tcp;
    private final int port;

    private DnsHealthProbe(Builder b) {
        this.name = b.name;
        this.type = b.type;
        this.expectedRcode = b.expectedRcode;
        this.tcp = b.tcp;
        this.port = b.port;
    }

    /** A probe asking for {@code name}'s A record and expecting NOERROR. */
    public static DnsHealthProbe of(String name) {
        return builder(name).build();
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    @Override
    public CompletionStage<ProbeResult> probe(Upstream upstream, Duration timeout) {
        Objects.requireNonNull(upstream, "upstream");
        Checks.positive(timeout, "timeout");
        long start = System.nanoTime();
        InetSocketAddress target = upstream.address();
        try {
            InetAddress address = target.isUnresolved() ? InetAddress.getByName(target.getHostString()) : target.getAddress();
            target = new InetSocketAddress(address, port != 0 ? port : target.getPort());
        } catch (UnknownHostException e) {
            return CompletableFuture.completedFuture(ProbeResult.unhealthy(since(start), "unknown host: " + e.getMessage()));
        }
        SimpleResolver resolver = new SimpleResolver(target);
        resolver.setTCP(tcp);
        resolver.setTimeout(timeout);
        Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        return resolver.sendAsync(query).handle((m, e) -> {
            if (e != null) {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                return ProbeResult.unhealthy(since(start), cause.getClass().getSimpleName() + ": " + cause.getMessage());
            }
            String rcode = Rcode.string(m.getRcode());
            return m.getRcode() == expectedRcode
                    ? ProbeResult.healthy(since(start), rcode + " for " + name + " " + Type.string(type))
                    : ProbeResult.unhealthy(since(start), rcode + " for " + name + " " + Type.string(type) + ", expected "
                            + Rcode.string(expectedRcode));
        });
    }

    private static Duration since(long start) {
        return Duration.ofNanos(Math.max(0, System.nanoTime() - start));
    }

    @Override
    public String toString() {
        return "DnsHealthProbe{" + name + " " + Type.string(type) + " expect " + Rcode.string(expectedRcode)
                + (tcp ? " tcp" : "") + (port != 0 ? " port " + port : "") + "}";
    }

    /** Builds a {@link DnsHealthProbe}. Not thread-safe. */
    public static final class Builder {
        private final Name name;
        private int type = Type.A;
        private int expectedRcode = Rcode.NOERROR;
        private boolean tcp;
        private int port;

        private Builder(String name) {
            Checks.notBlank(name, "name");
            try {
                this.name = Name.fromString(name.endsWith(".") ? name : name + ".");
            } catch (TextParseException e) {
                throw new IllegalArgumentException("bad DNS name '" + name + "': " + e.getMessage(), e);
            }
        }

        /** The record type asked for, as a mnemonic ({@code "A"}, {@code "SOA"} ...). Default A. */
        public Builder type(String type) {
            int t = Type.value(Checks.notBlank(type, "type"));
            if (t < 0) {
                throw new IllegalArgumentException("unknown record type '" + type + "'");
            }
            this.type = t;
            return this;
        }

        /** The rcode that passes, as a mnemonic ({@code "NOERROR"}, {@code "NXDOMAIN"} ...). Default NOERROR. */
        public Builder expectRcode(String rcode) {
            int r = Rcode.value(Checks.notBlank(rcode, "rcode"));
            if (r < 0) {
                throw new IllegalArgumentException("unknown rcode '" + rcode + "'");
            }
            this.expectedRcode = r;
            return this;
        }

        /** Query over TCP instead of UDP. Default false. */
        public Builder tcp(boolean tcp) {
            this.tcp = tcp;
            return this;
        }

        /** Query this port instead of the upstream's own. Default: the upstream's port. */
        public Builder port(int port) {
            this.port = Checks.port(port, "port");
            return this;
        }

        public DnsHealthProbe build() {
            return new DnsHealthProbe(this);
        }
    }
}
