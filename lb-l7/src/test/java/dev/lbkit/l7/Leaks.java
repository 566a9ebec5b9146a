package dev.lbkit.l7;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Netty's buffer leak detector (PARANOID in the build) reporting to a test, not only to its log: every
 * leak found while the tests run is kept, and {@link #assertNone()} fails on any. Buffers' detector is
 * made once per JVM, before any test can install a factory, so the listener is set on it directly.
 */
final class Leaks {
    private static final List<String> FOUND = new CopyOnWriteArrayList<>();

    static {
        try {
            Field f = AbstractByteBuf.class.getDeclaredField("leakDetector");
            f.setAccessible(true);
            ((ResourceLeakDetector<?>) f.get(null)).setLeakListener((type, records) -> FOUND.add(type + records));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Leaks() {}

    /** Starts listening (before the code under test runs). */
    static void watch() {
        // The static initializer does it.
    }

    /** Collects garbage, has the detector look for collected unreleased buffers, and fails on any leak. */
    static void assertNone() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            for (int j = 0; j < 64; j++) {
                ByteBuf b = ByteBufAllocator.DEFAULT.buffer(16);
                b.release();
            }
            Thread.sleep(20);
        }
        assertTrue(FOUND.isEmpty(), () -> "buffer leaks: " + FOUND);
    }
}
