package dev.lbkit.l7.internal;

import io.netty.util.AsciiString;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

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

    // Made once: AsciiString.cached makes a new object per call.
    private static final AsciiString CONTENT_TYPE = AsciiString.cached("Content-Type");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("Content-Length");

    /**
     * Bytes per response head that {@code rules} costs, as {@link #perRun}: per run, {@code rules} is applied
     * to a head with the fields {@code a: va} and {@code b: vb}, their values still bytes as the upstream
     * decoder leaves them in the one head it fills again per response, and to a head with neither. Returns
     * the first head, as the last run left it, for the caller's checks.
     */
    static long perUpstreamHead(AsciiString a, String va, AsciiString b, String vb, Consumer<CompactHeaders> rules,
            int rounds, Consumer<CompactHeaders> check) {
        byte[] bytes = (va + vb).getBytes(StandardCharsets.ISO_8859_1);
        CompactHeaders withFields = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        CompactHeaders without = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        long perHead = perRun(() -> {
            withFields.refill(4, bytes.length);
            withFields.addChecked(CONTENT_TYPE, "text/html");
            withFields.addLazy(a, bytes, 0, va.length());
            withFields.addLazy(b, bytes, va.length(), vb.length());
            rules.accept(withFields);
            without.refill(2, 0);
            without.addChecked(CONTENT_TYPE, "text/html");
            without.addChecked(CONTENT_LENGTH, "12");
            rules.accept(without);
        }, rounds);
        check.accept(withFields);
        return perHead;
    }
}
