package dev.lbkit.examples;

import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Command;
import dev.lbkit.examples.support.Running;
import dev.lbkit.examples.support.StartException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar lb-examples.jar <command> [options]}: runs one example until SIGTERM (Ctrl-C), or, for
 * the tour, to completion. Exit status: 0 on success, 1 when the command cannot start (the reason on one
 * line), 2 for a bad command line.
 */
public final class Main {
    /** Exit status for a command that could not start. */
    public static final int CANNOT_START = 1;
    /** Exit status for a bad command line. */
    public static final int USAGE = 2;

    private Main() {}

    /** Every command, by name, in the order {@code --help} lists them; the tour prints to {@link System#out}. */
    public static Map<String, Command> commands() {
        return commands(System.out);
    }

    /** Every command, by name; the tour prints to {@code out}. */
    public static Map<String, Command> commands(PrintStream out) {
        Map<String, Command> m = new LinkedHashMap<>();
        for (Command c : new Command[] {new BackendsCommand(), new SlowBackendCommand(), new DnsCommand(),
                new L4Command(), new L7Command(), new TourCommand(out), new StackCommand()}) {
            m.put(c.spec().command(), c);
        }
        return m;
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("tour") && !Arrays.asList(args).contains("--verbose")) {
            // The tour prints its own narrative; the servers' log lines would interleave with it.
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the command line; returns the exit status. A serving command blocks until the JVM shuts down
     * (its shutdown hook stops the command) or until the handle is closed.
     */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        Map<String, Command> commands = commands(out);
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            out.print(help(commands));
            return argv.length == 0 ? USAGE : 0;
        }
        Command command = commands.get(argv[0]);
        if (command == null) {
            err.println("lb-examples: unknown command '" + argv[0] + "'; commands: " + String.join(", ", commands.keySet()));
            return USAGE;
        }
        Running running;
        try {
            Cli.Args args = command.spec().parse(Arrays.copyOfRange(argv, 1, argv.length));
            if (args.helpRequested()) {
                out.print(command.spec().help());
                return 0;
            }
            running = command.start(args);
        } catch (Cli.UsageException e) {
            err.println("lb-examples " + e.getMessage());
            return USAGE;
        } catch (StartException e) {
            err.println("lb-examples " + argv[0] + ": " + e.getMessage());
            return CANNOT_START;
        } catch (RuntimeException e) {
            err.println("lb-examples " + argv[0] + ": cannot start: " + Addresses.reason(e));
            return CANNOT_START;
        }
        if (!running.serving()) {
            running.close();
            return running.exitCode();
        }
        Thread hook = new Thread(() -> {
            running.close();
            LoggerFactory.getLogger(Main.class).info("{} stopped", running.command());
        }, "lb-examples-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            running.awaitClose();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.close();
        }
        return running.exitCode();
    }

    static String help(Map<String, Command> commands) {
        StringBuilder sb = new StringBuilder();
        sb.append("Usage: java -jar lb-examples.jar <command> [options]\n");
        sb.append("The seed (DNS round robin, IPVS-style L4, nginx-style L7), tier by tier, with lbkit.\n\n");
        sb.append("Commands:\n");
        for (Command c : commands.values()) {
            sb.append(String.format(Locale.ROOT, "  %-14s %s%n", c.spec().command(), c.spec().summary()));
        }
        sb.append("\nRun 'java -jar lb-examples.jar <command> --help' for a command's options.\n");
        return sb.toString();
    }
}
