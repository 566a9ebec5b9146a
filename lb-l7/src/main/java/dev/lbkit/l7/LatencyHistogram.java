package dev.lbkit.l7;

import java.time.Duration;
import java.util.List;

/**
 * A latency histogram with fixed bucket bounds. An immutable value.
 *
 * @param upperBounds the inclusive upper bound of each bucket but the last, ascending
 * @param counts      one count per bucket: {@code counts.size() == upperBounds.size() + 1}, the last
 *                    counting everything above the highest bound
 */
public record LatencyHistogram(List<Duration> upperBounds, List<Long> counts) {
    /** The bounds lb-l7 uses: 1, 2, 5, 10, 20, 50, 100, 200, 500 ms, 1, 2, 5, 10 s. */
    public static final List<Duration> BOUNDS = List.of(Duration.ofMillis(1), Duration.ofMillis(2),
            Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(20), Duration.ofMillis(50),
            Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10));

    public LatencyHistogram {
        upperBounds = List.copyOf(upperBounds);
        counts = List.copyOf(counts);
        if (counts.size() != upperBounds.size() + 1) {
            throw new IllegalArgumentException("need " + (upperBounds.size() + 1) + " counts, got " + counts.size());
        }
    }

    /** Total number of samples. */
    public long count() {
        long n = 0;
        for (long c : counts) {
            n += c;
        }
        return n;
    }

    /**
     * The upper bound of the bucket holding the {@code q} quantile ({@code 0 < q <= 1}), or
     * {@link Duration#ZERO} when empty; for the overflow bucket, the highest bound.
     */
    public Duration quantileUpperBound(double q) {
        if (!(q > 0 && q <= 1)) {
            throw new IllegalArgumentException("q must be in (0, 1], got " + q);
        }
        long total = count();
        if (total == 0) {
            return Duration.ZERO;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.size(); i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return upperBounds.get(Math.min(i, upperBounds.size() - 1));
            }
        }
        return upperBounds.get(upperBounds.size() - 1);
    }
}
