package dev.lbkit.l4;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A real server of a virtual service, as {@code ipvsadm -a/-e -r addr:port -w weight -x upper -y lower}.
 * An immutable value; two real servers are the same server when their addresses are equal.
 *
 * <p>Connection thresholds follow IPVS: a server whose connections (active plus inactive) reach the
 * upper threshold is marked overloaded and gets no new connections until they drop below the lower
 * threshold, or below three quarters of the upper one when no lower threshold is set.
 */
public final class RealServer {
    private final InetSocketAddress address;
    private final int weight;
    private final int upperThreshold;
    private final int lowerThreshold;

    private RealServer(Builder b) {
        this.address = b.address;
        this.weight = b.weight;
        this.upperThreshold = b.upperThreshold;
        this.lowerThreshold = b.lowerThreshold;
    }

    /** A real server with weight 1 and no thresholds. */
    public static RealServer of(InetSocketAddress address) {
        return builder(address).build();
    }

    /** A real server at a literal address with weight 1 and no thresholds. */
    public static RealServer of(String host, int port) {
        return of(new InetSocketAddress(host, port));
    }

    public static Builder builder(InetSocketAddress address) {
        return new Builder(address);
    }

    /** A builder holding this server's values, to derive an edited copy ({@code ipvsadm -e}). */
    public Builder toBuilder() {
        return new Builder(address).weight(weight).upperThreshold(upperThreshold).lowerThreshold(lowerThreshold);
    }

    /** The server's address; resolved. */
    public InetSocketAddress address() {
        return address;
    }

    /** Weight 0..{@value Upstream#MAX_WEIGHT}; 0 quiesces the server (no new connections). */
    public int weight() {
        return weight;
    }

    /** Upper connection threshold ({@code -x}); 0 means none. */
    public int upperThreshold() {
        return upperThreshold;
    }

    /** Lower connection threshold ({@code -y}); 0 means three quarters of the upper one. */
    public int lowerThreshold() {
        return lowerThreshold;
    }

    /** The key of this server in its service's pool ({@code host:port}). */
    public String key() {
        return toUpstream().key();
    }

    Upstream toUpstream() {
        return Upstream.builder(address).weight(weight).build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RealServer && ((RealServer) o).address.equals(address);
    }

    @Override
    public int hashCode() {
        return address.hashCode();
    }

    @Override
    public String toString() {
        return "RealServer{" + address + ", weight=" + weight + ", x=" + upperThreshold + ", y=" + lowerThreshold + "}";
    }

    /** Builds a {@link RealServer}. Defaults: weight 1, no thresholds. Not thread-safe. */
    public static final class Builder {
        private final InetSocketAddress address;
        private int weight = 1;
        private int upperThreshold;
        private int lowerThreshold;

        private Builder(InetSocketAddress address) {
            this.address = Objects.requireNonNull(address, "address");
        }

        /** Weight, 0..65535 (default 1). */
        public Builder weight(int weight) {
            this.weight = Checks.inRange(weight, 0, Upstream.MAX_WEIGHT, "weight");
            return this;
        }

        /** Upper connection threshold ({@code ipvsadm -x}); 0 (the default) means none. */
        public Builder upperThreshold(int upperThreshold) {
            this.upperThreshold = Checks.positiveOrZero(upperThreshold, "upperThreshold");
            return this;
        }

        /** Lower connection threshold ({@code ipvsadm -y}); 0 (the default) means 3/4 of the upper one. */
        public Builder lowerThreshold(int lowerThreshold) {
            this.lowerThreshold = Checks.positiveOrZero(lowerThreshold, "lowerThreshold");
            return this;
        }

        /**
         * Builds the server.
         *
         * @throws IllegalArgumentException if the address is unresolved or the lower threshold is above the upper
         */
        public RealServer build() {
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("real server address must be resolved, got " + address);
            }
            if (upperThreshold > 0 && lowerThreshold > upperThreshold) {
                throw new IllegalArgumentException("lowerThreshold " + lowerThreshold
                        + " must not exceed upperThreshold " + upperThreshold);
            }
            return new RealServer(this);
        }
    }
}
