package dev.lbkit.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A second JVM running a test's {@code main} class on the test's class path, for tests of what happens
 * when a process dies without cleaning up (its discovery lease or session must expire), and of what a
 * command line prints and exits with. Standard error is merged into standard output. Not thread-safe;
 * {@link #close()} kills the process.
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
        return run(new ArrayList<>(), mainClass, args);
    }

    /** Runs {@code prefix java -cp <this class path> mainClass args...}. */
    private static ChildJvm run(List<String> prefix, Class<?> mainClass, String... args) throws IOException {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(java, "-cp", System.getProperty("java.class.path"),
                Objects.requireNonNull(mainClass, "mainClass").getName()));
        command.addAll(List.of(args));
        return new ChildJvm(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /**
     * Starts {@code mainClass} as {@link #start} does, inside a network namespace of its own whose only
     * interface is loopback ({@code unshare --net}, then {@code ip link set lo up}): for tests whose subject
     * binds a wildcard address, which there reaches loopback only. Check {@link #isolationAvailable()}
     * first (it needs root, or user namespaces, and iproute2).
     */
    public static ChildJvm startIsolated(Class<?> mainClass, String... args) throws IOException {
        // sh raises loopback, then becomes the JVM: "$0" "$@" are the java command line that follows.
        return run(List.of("unshare", "--net", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""),
                mainClass, args);
    }

    /** Whether {@link #startIsolated} can run here: a network namespace can be made and its loopback raised. */
    public static boolean isolationAvailable() {
        try {
            Process p = new ProcessBuilder("unshare", "--net", "sh", "-c", "ip link set lo up")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(KILL_WAIT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
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

    /** How a child ended: its exit status, and the lines it printed that {@link #awaitLine} had not read. */
    public record Exit(int status, List<String> output) {
        public Exit {
            output = List.copyOf(output);
        }
    }

    /**
     * Waits up to {@code timeout} for the child to end on its own, then reads the rest of its output. For
     * children that print little: the output is read after the exit, so one that fills the pipe (64 KiB on
     * Linux) blocks until the timeout.
     *
     * @throws AssertionError if the child still runs after {@code timeout} ({@link #close()} kills it)
     */
    public Exit awaitExit(Duration timeout) throws IOException, InterruptedException {
        if (!process.waitFor(Objects.requireNonNull(timeout, "timeout").toNanos(), TimeUnit.NANOSECONDS)) {
            throw new AssertionError("the child still runs after " + timeout);
        }
        List<String> lines = new ArrayList<>();
        String l;
        while ((l = out.readLine()) != null) {
            lines.add(l);
        }
        return new Exit(process.exitValue(), lines);
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
