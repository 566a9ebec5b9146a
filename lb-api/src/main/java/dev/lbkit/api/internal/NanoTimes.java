package dev.lbkit.api.internal;

/**
 * Ticker readings kept in fields where {@link Long#MIN_VALUE} means "none" (never failed, not ejected,
 * not ramping). Readings are only meaningful as differences and wrap around, so a real reading can be
 * {@code Long.MIN_VALUE}; stored as it is, it would read as "none". Internal: not part of lbkit's API.
 */
public final class NanoTimes {
    private NanoTimes() {}

    /** {@code nanoTime}, or one nanosecond later if it is {@link Long#MIN_VALUE}, the "none" sentinel. */
    public static long stamp(long nanoTime) {
        return nanoTime == Long.MIN_VALUE ? nanoTime + 1 : nanoTime;
    }
}
