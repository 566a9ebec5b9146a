package dev.lbkit.l7.internal;

import dev.lbkit.l7.LatencyHistogram;
import dev.lbkit.l7.TrafficStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/** Live counters behind a {@link TrafficStats} snapshot. Thread-safe; updates are LongAdder increments. */
public final class TrafficCounters {
    private static final long[] BOUNDS_NANOS;

    static {
        List<java.time.Duration> b = LatencyHistogram.BOUNDS;
        BOUNDS_NANOS = new long[b.size()];
        for (int i = 0; i < b.size(); i++) {
            BOUNDS_NANOS[i] = b.get(i).toNanos();
        }
    }

    final String name;
    final LongAdder requests = new LongAdder();
    private final LongAdder[] classes = adders(5);
    final LongAdder failures = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder inFlight = new LongAdder();
    final LongAdder limitRejected = new LongAdder();
    final LongAdder limitDelayed = new LongAdder();
    final LongAdder limitDryRun = new LongAdder();
    private final LongAdder[] latency = adders(BOUNDS_NANOS.length + 1);

    public TrafficCounters(String name) {
        this.name = name;
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    void response(int status) {
        int c = status / 100;
        if (c >= 1 && c <= 5) {
            classes[c - 1].increment();
        }
    }

    void latency(long nanos) {
        int i = 0;
        while (i < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[i]) {
            i++;
        }
        latency[i].increment();
    }

    public String name() {
        return name;
    }

    public TrafficStats snapshot() {
        List<Long> byClass = new ArrayList<>(5);
        for (LongAdder a : classes) {
            byClass.add(a.sum());
        }
        List<Long> lat = new ArrayList<>(latency.length);
        for (LongAdder a : latency) {
            lat.add(a.sum());
        }
        return new TrafficStats(requests.sum(), byClass, failures.sum(), retries.sum(), bytesIn.sum(), bytesOut.sum(),
                inFlight.sum(), new LatencyHistogram(LatencyHistogram.BOUNDS, lat), limitRejected.sum(),
                limitDelayed.sum(), limitDryRun.sum());
    }
}
