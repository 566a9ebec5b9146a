package dev.lbkit.l7;

/**
 * The counters of one upstream group's {@link RequestQueue} at one moment. An immutable value; counters
 * only grow, except {@link #queued()}.
 *
 * @param queued      requests waiting now (including one being handed an upstream)
 * @param totalQueued requests that ever waited
 * @param rejected    requests answered 503 because the queue was full
 * @param timedOut    requests answered 503 because they waited for the queue's timeout
 */
public record QueueStats(long queued, long totalQueued, long rejected, long timedOut) {
    /** All zeros: a group without a queue, or one that never queued. */
    public static final QueueStats EMPTY = new QueueStats(0, 0, 0, 0);
}
