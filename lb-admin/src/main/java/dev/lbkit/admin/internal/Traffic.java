package dev.lbkit.admin.internal;

import dev.lbkit.api.internal.Json;

/**
 * Traffic counters of one upstream as a tier reports them, summed over the tiers and routes that send
 * to it. Mutable, filled by one thread while a state document is written.
 */
public final class Traffic {
    /** Whether a tier counting requests (HTTP) contributed; else only connections are meaningful. */
    public boolean http;
    public long requests;
    /** Index 0 = 1xx … 4 = 5xx. */
    public final long[] responses = new long[5];
    public long failures;
    public long retries;
    public long bytesIn;
    public long bytesOut;
    /** Connections (L4) established in total. */
    public long connections;
    /** A rate the tier measured itself (L4's estimator: connections per second); -1 when none. */
    public long rate = -1;
    /** Upper bounds of the latency buckets holding the median and the 99th percentile, in ms; -1 when unknown. */
    public double p50Millis = -1;
    public double p99Millis = -1;

    void write(Json.Writer j) {
        if (http) {
            j.field("requests", requests);
        }
        j.name("responses").beginArray();
        for (long r : responses) {
            j.value(r);
        }
        j.endArray();
        j.field("failures", failures).field("retries", retries).field("bytesIn", bytesIn).field("bytesOut", bytesOut)
                .field("connections", connections);
        if (rate >= 0) {
            j.field("rate", rate);
        }
        if (p50Millis >= 0) {
            j.field("p50Millis", p50Millis).field("p99Millis", p99Millis);
        }
    }
}
