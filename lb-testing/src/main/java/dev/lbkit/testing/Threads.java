package dev.lbkit.testing;

import java.util.Objects;

/** Counts live threads by name, for tests that check a failed start leaves no event loop behind. Thread-safe. */
public final class Threads {
    private Threads() {}

    /** How many live threads have a name starting with {@code prefix}. */
    public static long named(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }
}
