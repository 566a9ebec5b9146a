package dev.lbkit.api.resolve;

import dev.lbkit.api.Upstream;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One answer from a {@link Resolver}: the upstreams the name stands for, or the error that prevented an
 * answer (listeners then keep what they had). A result may be {@linkplain #isStale() stale}: the last
 * membership the source confirmed, still served while the source cannot be reached. Immutable.
 */
public final class ResolutionResult {
    private final List<Upstream> upstreams;
    private final Throwable error;
    private final Throwable staleCause;

    private ResolutionResult(List<Upstream> upstreams, Throwable error, Throwable staleCause) {
        this.upstreams = upstreams;
        this.error = error;
        this.staleCause = staleCause;
    }

    /** A successful result (possibly empty). */
    public static ResolutionResult of(List<Upstream> upstreams) {
        return new ResolutionResult(List.copyOf(Objects.requireNonNull(upstreams, "upstreams")), null, null);
    }

    /**
     * The last known upstreams, kept while the source is unreachable for {@code cause} (as Envoy and
     * gRPC keep the last EDS result). Not a failure: {@link #error()} is empty and a following pool
     * keeps exactly these upstreams.
     */
    public static ResolutionResult stale(List<Upstream> upstreams, Throwable cause) {
        return new ResolutionResult(List.copyOf(Objects.requireNonNull(upstreams, "upstreams")), null,
                Objects.requireNonNull(cause, "cause"));
    }

    /** A failed lookup. */
    public static ResolutionResult failed(Throwable error) {
        return new ResolutionResult(List.of(), Objects.requireNonNull(error, "error"), null);
    }

    /** The upstreams, in the order the source gave them; empty on failure. */
    public List<Upstream> upstreams() {
        return upstreams;
    }

    /** The failure, if the lookup failed. */
    public Optional<Throwable> error() {
        return Optional.ofNullable(error);
    }

    /** Whether these upstreams are the last known ones, served while the source is unreachable. */
    public boolean isStale() {
        return staleCause != null;
    }

    /** Why the result is {@linkplain #isStale() stale}; empty when it is fresh or failed. */
    public Optional<Throwable> staleCause() {
        return Optional.ofNullable(staleCause);
    }

    /** Same upstreams (all fields) in the same order, same success or failure, and same staleness. */
    public boolean sameAs(ResolutionResult o) {
        if (o == null || (error == null) != (o.error == null) || (staleCause == null) != (o.staleCause == null)
                || upstreams.size() != o.upstreams.size()) {
            return false;
        }
        for (int i = 0; i < upstreams.size(); i++) {
            if (!upstreams.get(i).sameAs(o.upstreams.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        if (error != null) {
            return "ResolutionResult{error=" + error + "}";
        }
        return staleCause != null ? "ResolutionResult{stale " + upstreams + ", cause=" + staleCause + "}"
                : "ResolutionResult" + upstreams;
    }
}
