package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lbkit.testing.ChildJvm;
import dev.lbkit.transport.TransportType;
import java.time.Duration;

/**
 * Runs a test of a UDP service bound to the wildcard address on epoll (which reads datagrams'
 * destinations) in a child JVM in a network namespace of its own whose only interface is loopback
 * ({@link ChildJvm#startIsolated}), so that the wildcard bind reaches loopback only. Skipped where epoll or
 * network namespaces are missing.
 */
final class WildcardChild {
    /** A test body run in the child. */
    interface Body {
        void run() throws Exception;
    }

    private WildcardChild() {}

    /** Runs {@code main}, whose {@code main} calls {@link #runAndExit}, and checks that its body passed. */
    static void run(Class<?> main) throws Exception {
        assumeTrue(TransportType.available().contains(TransportType.EPOLL), "epoll reads datagrams' destinations");
        assumeTrue(ChildJvm.isolationAvailable(), "needs a network namespace (unshare --net, iproute2)");
        try (ChildJvm child = ChildJvm.startIsolated(main)) {
            ChildJvm.Exit exit = child.awaitExit(Duration.ofSeconds(60));
            assertEquals(0, exit.status(), String.join("\n", exit.output()));
            assertTrue(exit.output().contains("OK"), String.join("\n", exit.output()));
        }
    }

    /** The child's side: runs {@code body}, prints OK and exits 0; a failure ends the child with its trace. */
    static void runAndExit(Body body) throws Exception {
        body.run();
        System.out.println("OK");
        System.exit(0);
    }
}
