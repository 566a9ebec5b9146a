package dev.lbkit.testing;

import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Polls a condition until it holds, for tests that watch another thread catch up (a pool following a
 * discovery store, a resolver refreshing). Bounded: fails the test when the time is up. Stateless and
 * thread-safe.
 */
public final class Await {
    /** How long {@link #until(BooleanSupplier)} waits: 10 s. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Time between two looks at the condition. */
    private static final long POLL_MILLIS = 10;

    private Await() {}

    /** Waits up to {@link #DEFAULT_TIMEOUT} for {@code condition}. */
    public static void until(BooleanSupplier condition) throws InterruptedException {
        until(condition, DEFAULT_TIMEOUT);
    }

    /**
     * Returns as soon as {@code condition} holds.
     *
     * @throws AssertionError if it still does not hold after {@code timeout}
     */
    public static void until(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(condition, "condition");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("condition not met within " + timeout.toMillis() + " ms");
            }
            Thread.sleep(POLL_MILLIS);
        }
    }
}
