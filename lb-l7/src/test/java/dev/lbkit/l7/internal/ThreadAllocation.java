package dev.lbkit.l7.internal;

import java.lang.management.ManagementFactory;

/** Bytes the current thread allocates per run of a task (HotSpot's per-thread counter), for lb-l7's allocation tests. */
final class ThreadAllocation {
    private ThreadAllocation() {}

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** Runs {@code task} {@code rounds} times to warm it up (the JIT's escape analysis), then the bytes per run over as many more. */
    static long perRun(Runnable task, int rounds) {
        for (int i = 0; i < rounds; i++) {
            task.run();
        }
        long before = allocated();
        for (int i = 0; i < rounds; i++) {
            task.run();
        }
        return (allocated() - before) / rounds;
    }
}
