package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.scheduler.SchedulerOptions;

/** The {@code table-size} option of {@code sh} and {@code dh}. */
final class BucketHashProviders {
    private BucketHashProviders() {}

    /**
     * @throws IllegalArgumentException naming the value unless it is a power of two in
     *     1..{@value BucketHashScheduler#MAX_TABLE_SIZE}
     */
    static int tableSize(String scheduler, SchedulerOptions options) {
        int size = options.getInt("table-size", BucketHashScheduler.DEFAULT_TABLE_SIZE);
        if (size < 1 || size > BucketHashScheduler.MAX_TABLE_SIZE || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException(scheduler + " table-size must be a power of two in 1.."
                    + BucketHashScheduler.MAX_TABLE_SIZE + ", got " + size);
        }
        return size;
    }
}
