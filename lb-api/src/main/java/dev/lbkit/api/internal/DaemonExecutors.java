package dev.lbkit.api.internal;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one-thread schedulers lbkit components own when the embedding application supplies none
 * (health checks, resolvers). Daemon threads, so a forgotten component never keeps the JVM alive;
 * cancelled tasks leave the queue at once. Not part of the public API.
 */
public final class DaemonExecutors {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private DaemonExecutors() {}

    /**
     * {@code supplied}, the application's scheduler, or, when it is {@code null}, a new owned one
     * ({@link #newScheduler}); hand both to {@link #shutdownIfOwned} on close.
     */
    public static ScheduledExecutorService supplyOrNew(ScheduledExecutorService supplied, String name) {
        return supplied != null ? supplied : newScheduler(name);
    }

    /**
     * Shuts {@code executor} down (interrupting what runs) unless it is {@code supplied}, which the
     * application keeps using; does nothing for a {@code null} executor (never created).
     */
    public static void shutdownIfOwned(ScheduledExecutorService executor, ScheduledExecutorService supplied) {
        if (executor != null && executor != supplied) {
            executor.shutdownNow();
        }
    }

    /** A new single-thread scheduler whose thread is named {@code lbkit-<name>-<n>}. */
    public static ScheduledExecutorService newScheduler(String name) {
        String threadName = "lbkit-" + name + "-" + SEQUENCE.incrementAndGet();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        };
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, factory);
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }
}
