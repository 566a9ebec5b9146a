package dev.lbkit.testing;

import dev.lbkit.api.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link Ticker} that moves only when told to, so timeouts are tested without sleeping. Thread-safe. */
public final class FakeTicker implements Ticker {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    /** Moves time forward by {@code d} (must not be negative). Returns {@code this}. */
    public FakeTicker advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("cannot move time backwards: " + d);
        }
        nanos.addAndGet(d.toNanos());
        return this;
    }
}
