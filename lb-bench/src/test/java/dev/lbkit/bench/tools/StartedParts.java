package dev.lbkit.bench.tools;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/** What a benchmark-tool test started (the tools' {@code parts}), closed after each test in reverse order. */
abstract class StartedParts {
    protected final List<AutoCloseable> parts = new ArrayList<>();

    @AfterEach
    void closeParts() throws Exception {
        for (int i = parts.size() - 1; i >= 0; i--) {
            parts.get(i).close();
        }
    }
}
