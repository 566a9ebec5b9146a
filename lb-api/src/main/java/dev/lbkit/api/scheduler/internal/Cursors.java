package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The round-robin cursors of one scheduler, one per tier, so that picks falling through from an
 * all-down primary tier do not step the backup tier's cursor twice per request. They live on the
 * scheduler, survive picker rebuilds, and start at a random index, so that balancers started together,
 * or a deploy that rebuilds pickers, do not all begin with the first member (gRPC-java #4462).
 */
final class Cursors {
    private final AtomicInteger primary = new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 30));
    private final AtomicInteger backup = new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 30));

    /** The cursor for the tier {@code members} make up (all of a tier share the backup flag). */
    AtomicInteger forTier(List<Member> members) {
        return !members.isEmpty() && members.get(0).upstream().isBackup() ? backup : primary;
    }

    /**
     * The cursor's next position in {@code 0..n-1}. Masking keeps it non-negative when the counter
     * wraps; the wrap shifts the sequence once every 2^31 picks, which is harmless.
     */
    static int next(AtomicInteger cursor, int n) {
        return (cursor.getAndIncrement() & Integer.MAX_VALUE) % n;
    }
}
