package dev.lbkit.api.resolve;

import dev.lbkit.api.Upstream;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One answer from a {@link Resolver}: the upstreams the name stands for, or the error that prevented an
 * answer (listeners then keep what they had). Immutable.
 */
public final class ResolutionResult {
    private final List<Upstream> upstreams;
    private final Throwable error;

    private ResolutionResult(List<Upstream> upstreams, Throwable error) {
        this.upstreams = upstreams;
        this.error = error;
    }

    /** A successful result (possibly empty). */
    public static ResolutionResult of(List<Upstream> upstreams) {
        return new ResolutionResult(List.copyOf(Objects.requireNonNull(upstreams, "upstreams")), null);
    }

    /** A failed lookup. */
    public static ResolutionResult failed(Throwable error) {
        return new ResolutionResult(List.of(), Objects.requireNonNull(error, "error"));
    }

    /** The upstreams, in the order the source gave them; empty on failure. */
    public List<Upstream> upstreams() {
        return upstreams;
    }

    /** The failure, if the lookup failed. */
    public Optional<Throwable> error() {
        return Optional.ofNullable(error);
    }

    /** Same upstreams (all fields) in the same order, and same success or failure. */
    public boolean sameAs(ResolutionResult o) {
        if (o == null || (error == null) != (o.error == null) || upstreams.size() != o.upstreams.size()) {
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
        return error != null ? "ResolutionResult{error=" + error + "}" : "ResolutionResult" + upstreams;
    }
}
