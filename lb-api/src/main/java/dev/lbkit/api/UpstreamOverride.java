package dev.lbkit.api;

import dev.lbkit.api.internal.Checks;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * An operator's change to one upstream of a pool that follows a store (a pool that
 * {@linkplain UpstreamPool#follow follows} a resolver or was given a membership with
 * {@link UpstreamPool#replaceAll}). The pool keeps it apart from the store's membership, so that the
 * store's changes and resyncs do not undo it: the pool holds the store's membership with the overrides
 * applied, one rule per {@link Kind}. An override lasts until the operator clears it
 * ({@link UpstreamPool#clearOverride}); only {@link Kind#WEIGHT} and {@link Kind#EDITED}, which change an
 * upstream the store lists, end when the store stops listing it.
 *
 * <p>Immutable and thread-safe; made by the pool. Two overrides are equal when they have the same kind,
 * weight and upstream value ({@link Upstream#sameAs}).
 */
public final class UpstreamOverride {
    private static final UpstreamOverride REMOVED = new UpstreamOverride(Kind.REMOVED, null, -1);

    /** What the operator did, and how it combines with the store's upstream of the same key. */
    public enum Kind {
        /**
         * Added ({@link UpstreamPool#add}): the operator's upstream is in the pool whatever the store lists
         * (it wins over a store upstream of the same key).
         */
        ADDED,
        /** Removed ({@link UpstreamPool#remove}) while the store listed it: kept out while the store lists it. */
        REMOVED,
        /**
         * Re-weighted ({@link UpstreamPool#weight}, {@link UpstreamPool#drain}): the store's upstream with the
         * operator's weight; the store's other changes to it (tier, limit, metadata) still apply.
         */
        WEIGHT,
        /** Edited ({@link UpstreamPool#update}): the operator's upstream instead of the store's. */
        EDITED
    }

    private final Kind kind;
    private final Upstream upstream;
    private final int weight;

    private UpstreamOverride(Kind kind, Upstream upstream, int weight) {
        this.kind = kind;
        this.upstream = upstream;
        this.weight = weight;
    }

    static UpstreamOverride added(Upstream upstream) {
        return new UpstreamOverride(Kind.ADDED, Objects.requireNonNull(upstream, "upstream"), -1);
    }

    static UpstreamOverride removed() {
        return REMOVED;
    }

    static UpstreamOverride weight(int weight) {
        return new UpstreamOverride(Kind.WEIGHT, null,
                Checks.inRange(weight, 0, Upstream.MAX_WEIGHT, "weight"));
    }

    static UpstreamOverride edited(Upstream upstream) {
        return new UpstreamOverride(Kind.EDITED, Objects.requireNonNull(upstream, "upstream"), -1);
    }

    public Kind kind() {
        return kind;
    }

    /** The operator's upstream, for {@link Kind#ADDED} and {@link Kind#EDITED}; empty otherwise. */
    public Optional<Upstream> upstream() {
        return Optional.ofNullable(upstream);
    }

    /** The operator's weight, for {@link Kind#WEIGHT} (0 for a drain); empty otherwise. */
    public OptionalInt weight() {
        return kind == Kind.WEIGHT ? OptionalInt.of(weight) : OptionalInt.empty();
    }

    /** Whether the override ends when the store stops listing its key. */
    boolean endsWithTheStores() {
        return kind == Kind.WEIGHT || kind == Kind.EDITED;
    }

    /**
     * The upstream in force for a key the store lists as {@code store} ({@code null} when it does not),
     * or {@code null} when none is.
     */
    Upstream apply(Upstream store) {
        switch (kind) {
            case ADDED:
                return upstream;
            case REMOVED:
                return null;
            case WEIGHT:
                return store == null ? null : store.weight() == weight ? store : store.toBuilder().weight(weight).build();
            default:
                return store == null ? null : upstream;
        }
    }

    /** This override with the weight changed to {@code weight} (a {@link Kind#REMOVED} one has none). */
    UpstreamOverride withWeight(int weight) {
        switch (kind) {
            case ADDED:
                return added(upstream.toBuilder().weight(weight).build());
            case EDITED:
                return edited(upstream.toBuilder().weight(weight).build());
            case WEIGHT:
                return weight(weight);
            default:
                throw new IllegalStateException("a removed upstream has no weight");
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof UpstreamOverride)) {
            return false;
        }
        UpstreamOverride other = (UpstreamOverride) o;
        return kind == other.kind && weight == other.weight
                && (upstream == null ? other.upstream == null : upstream.sameAs(other.upstream));
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, weight, upstream == null ? null : upstream.key());
    }

    @Override
    public String toString() {
        switch (kind) {
            case WEIGHT:
                return "UpstreamOverride{WEIGHT " + weight + "}";
            case REMOVED:
                return "UpstreamOverride{REMOVED}";
            default:
                return "UpstreamOverride{" + kind + " " + upstream + "}";
        }
    }
}
