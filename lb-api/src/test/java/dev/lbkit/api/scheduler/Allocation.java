package dev.lbkit.api.scheduler;

import java.lang.management.ManagementFactory;

/** Bytes allocated by the current thread while running a task (HotSpot's per-thread counter). */
public final class Allocation {
    private Allocation() {}

    public static long measure(Runnable task) {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        task.run();
        long before = bean.getThreadAllocatedBytes(id);
        task.run();
        return bean.getThreadAllocatedBytes(id) - before;
    }
}
