package dev.lbkit.l7.internal;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A re-armable timeout on one event loop. Re-arming only moves a deadline field; the scheduled task, when
 * it runs early, schedules itself again for the rest, as Netty's IdleStateHandler does. So a timeout
 * reset on every read costs at most a {@code nanoTime()} call, not a scheduled task. Event-loop confined.
 */
final class Deadline implements Runnable {
    private final EventExecutor loop;
    private final Runnable onExpire;
    /** The task is never set further ahead than this: see {@link #Deadline(EventExecutor, Runnable, long)}. */
    private final long maxAheadNanos;
    private long deadline;
    private boolean armed;
    private ScheduledFuture<?> task;
    private long taskAt;

    Deadline(EventExecutor loop, Runnable onExpire) {
        this(loop, onExpire, Long.MAX_VALUE);
    }

    /**
     * A deadline whose task runs at least every {@code maxAheadNanos}. A timer armed alternately with a
     * long and a short timeout (keep-alive, then header) would otherwise cancel and schedule a task
     * each time the short one follows the long one; with the short one as the limit, it never does.
     */
    Deadline(EventExecutor loop, Runnable onExpire, long maxAheadNanos) {
        this.loop = loop;
        this.onExpire = onExpire;
        this.maxAheadNanos = Math.max(1, maxAheadNanos);
    }

    /** Expires {@code timeoutNanos} from now unless re-armed or disarmed before. */
    void arm(long timeoutNanos) {
        arm(System.nanoTime(), timeoutNanos);
    }

    /**
     * Expires {@code timeoutNanos} after {@code now}, a {@link System#nanoTime()} reading the caller already
     * took in the same event (so that one event's several timers cost one clock reading).
     */
    void arm(long now, long timeoutNanos) {
        deadline = now + timeoutNanos;
        armed = true;
        if (task == null) {
            schedule(now, timeoutNanos);
        } else if (taskAt - deadline > 0) {
            task.cancel(false);
            schedule(now, timeoutNanos);
        }
    }

    void disarm() {
        armed = false;
    }

    boolean isArmed() {
        return armed;
    }

    /** Disarms and cancels the scheduled task (when the owner goes away). */
    void cancel() {
        armed = false;
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    private void schedule(long now, long delayNanos) {
        delayNanos = Math.min(delayNanos, maxAheadNanos);
        taskAt = now + delayNanos;
        task = loop.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        task = null;
        if (!armed) {
            return;
        }
        long now = System.nanoTime();
        long left = deadline - now;
        if (left > 0) {
            schedule(now, left);
            return;
        }
        armed = false;
        onExpire.run();
    }
}
