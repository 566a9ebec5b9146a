package dev.lbkit.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A second JVM running a test's {@code main} class on the test's class path, for tests of what happens
 * when a process dies without cleaning up (its discovery lease or session must expire). Standard error
 * is merged into standard output. Not thread-safe; {@link #close()} kills the process.
 */
public final class ChildJvm implements AutoCloseable {
    /** How long {@link #kill()} waits for the killed process to be gone. */
    private static final long KILL_WAIT_SECONDS = 5;

    private final Process process;
    private final BufferedReader out;

    private ChildJvm(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8));
    }

    /** Starts {@code java -cp <this class path> mainClass args...}. */
    public static ChildJvm start(Class<?> mainClass, String... args) throws IOException {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                Objects.requireNonNull(mainClass, "mainClass").getName()));
        command.addAll(List.of(args));
        return new ChildJvm(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /**
     * Reads the child's output up to a line equal to {@code line}.
     *
     * @throws AssertionError with everything the child printed if it ends its output first
     */
    public void awaitLine(String line) throws IOException {
        StringBuilder output = new StringBuilder();
        String l;
        while ((l = out.readLine()) != null) {
            if (l.equals(line)) {
                return;
            }
            output.append(l).append('\n');
        }
        throw new AssertionError("the child never printed '" + line + "':\n" + output);
    }

    /** Kills the child at once (no shutdown hooks) and waits up to 5 s for it to be gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(KILL_WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
