package dev.lbkit.api.health;

import dev.lbkit.api.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ticker that moves only when told. lb-api's own tests cannot use lb-testing's FakeTicker (lb-testing
 * depends on lb-api), hence this minimal one.
 */
final class ManualTicker implements Ticker {
    private final AtomicLong now;

    ManualTicker(long start) {
        this.now = new AtomicLong(start);
    }

    @Override
    public long nanoTime() {
        return now.get();
    }

    void advance(long nanos) {
        now.addAndGet(nanos);
    }

    void advance(Duration d) {
        advance(d.toNanos());
    }
}
