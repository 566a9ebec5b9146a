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
