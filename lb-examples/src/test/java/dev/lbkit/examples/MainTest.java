package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.examples.support.Command;
import dev.lbkit.testing.ChildJvm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... argv) {
        return Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpListsEveryCommandAndEachCommandListsItsOptions() {
        assertEquals(0, run("--help"));
        String help = out.toString(StandardCharsets.UTF_8);
        for (String name : Main.commands().keySet()) {
            assertTrue(help.contains("  " + name + " "), help);
        }
        for (Command c : Main.commands().values()) {
            out.reset();
            assertEquals(0, run(c.spec().command(), "--help"));
            String text = out.toString(StandardCharsets.UTF_8);
            assertTrue(text.startsWith("Usage: java -jar lb-examples.jar " + c.spec().command()), text);
            assertTrue(text.contains("--help"), text);
        }
    }

    @Test
    void badOptionExitsTwoWithOneLineNamingIt() {
        assertEquals(Main.USAGE, run("backends", "--ports", "80x"));
        assertEquals("lb-examples backends: option --ports must be a number, got '80x'\n", err());
        err.reset();
        assertEquals(Main.USAGE, run("slow-backend", "--nope"));
        assertTrue(err().startsWith("lb-examples slow-backend: unknown option --nope"), err());
        err.reset();
        assertEquals(Main.USAGE, run("slow-backend", "--delay", "soon"));
        assertTrue(err().contains("--delay") && err().contains("'soon'"), err());
        err.reset();
        assertEquals(Main.USAGE, run("no-such-command"));
        assertEquals(1, err().lines().count());
    }

    /** In a real process: an option followed by another option is a bad option (exit 2, one line), as the README says. */
    @Test
    void anOptionWithoutItsValueExitsTwoWithOneLineNamingIt() throws Exception {
        try (ChildJvm child = ChildJvm.start(Main.class, "l7", "--listen", "--backend", "x")) {
            ChildJvm.Exit exit = child.awaitExit(Duration.ofSeconds(60));
            assertEquals(List.of("lb-examples l7: option --listen needs a value (HOST:PORT)"), exit.output());
            assertEquals(Main.USAGE, exit.status());
        }
    }

    @Test
    void portInUseExitsOneWithOneLineReason() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = busy.getLocalPort();
            assertEquals(Main.CANNOT_START, run("backends", "--ports", String.valueOf(port)));
            assertEquals("lb-examples backends: backend 1: cannot listen on 127.0.0.1:" + port
                    + ": Address already in use\n", err());
            err.reset();
            InetSocketAddress a = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            assertEquals(Main.CANNOT_START, run("slow-backend", "--listen", "127.0.0.1:" + a.getPort()));
            assertEquals(1, err().lines().count(), err());
            assertTrue(err().contains("Address already in use"), err());
        }
    }
}
