package dev.lbkit.api;

/**
 * A source of monotonic nanoseconds, injectable so that every timeout can be tested without sleeping.
 *
 * <p>Implementations must be thread-safe. Values are only meaningful as differences between two
 * readings of the same ticker, as with {@link System#nanoTime()}.
 */
@FunctionalInterface
public interface Ticker {

    /** Returns the current reading, in nanoseconds. */
    long nanoTime();

    /** The ticker backed by {@link System#nanoTime()}. */
    static Ticker system() {
        return System::nanoTime;
    }
}
