package dev.lbkit.examples.support;

/**
 * One example program: its options and how it starts. {@code Main} parses the command line with
 * {@link #spec()}, calls {@link #start(Cli.Args)} and serves until SIGTERM; tests call
 * {@link #start(String...)} with port-0 addresses and read the bound ports from the {@link Running} handle.
 *
 * <p>Implementations are stateless and thread-safe: each start is independent.
 */
public interface Command {

    /** The command's name, options, defaults and help. */
    Cli.Spec spec();

    /**
     * Starts the command. On failure everything started so far is stopped before the exception propagates.
     *
     * @throws Cli.UsageException for a bad option value (exit status 2)
     * @throws StartException when it cannot start, with a one-line reason (exit status 1)
     */
    Running start(Cli.Args args);

    /** Parses {@code argv} and starts. */
    default Running start(String... argv) {
        return start(spec().parse(argv));
    }
}
