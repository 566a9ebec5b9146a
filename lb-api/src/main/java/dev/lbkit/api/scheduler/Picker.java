package dev.lbkit.api.scheduler;

import dev.lbkit.api.Member;

/**
 * Picks a member of one tier of one pool snapshot. Built by a {@link Scheduler} off the hot path;
 * called on every new connection or request.
 *
 * <p>Implementations must be thread-safe, lock-free and allocation-free.
 */
@FunctionalInterface
public interface Picker {

    /** A picker for an empty tier: always {@code null}. */
    Picker EMPTY = context -> null;

    /**
     * Returns a member that is {@linkplain Member#isAvailable(long) available} at
     * {@link PickContext#nanoTime()} and not {@linkplain PickContext#isExcluded(Member) excluded} by the
     * context, or {@code null} when there is none. {@code null} rather than {@code Optional} because this
     * is the hot path and must not allocate. One exception: a {@link PersistentScheduler} keeps a client
     * whose entry is live on its member while that member is {@linkplain Member#isUp up}, even quiesced
     * (weight 0) or overloaded, as IPVS does.
     */
    Member pick(PickContext context);
}
