package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.io.File;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Leak checks for tests: Netty's leak detector (PARANOID in the build) reports into a list that
 * {@link #assertNoLeaks()} checks, and open file descriptors are counted from /proc/self/fd.
 */
final class Resources {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    static {
        // Must run before Netty's buffer classes create their detectors: tests call install() first.
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @Deprecated
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                    long maxActive) {
                return newResourceLeakDetector(resource, samplingInterval);
            }

            @Override
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
                return new ResourceLeakDetector<T>(resource, samplingInterval) {
                    @Override
                    protected boolean needReport() {
                        return true;
                    }

                    @Override
                    protected void reportTracedLeak(String resourceType, String records) {
                        LEAKS.add(resourceType + records);
                    }

                    @Override
                    protected void reportUntracedLeak(String resourceType) {
                        LEAKS.add(resourceType);
                    }
                };
            }
        });
    }

    private Resources() {}

    /**
     * Installs the leak recorder and warms the JVM up (class loading opens jar files that stay open),
     * so that later fd counts see only what a test opened.
     */
    static void install() {
        try (dev.lbkit.testing.EchoServer echo = dev.lbkit.testing.EchoServer.echo()) {
            for (Forwarding f : Forwarding.all()) {
                try (L4Balancer lb = f.builder().build()) {
                    VirtualServer vs = Net.rrService(lb, echo.address());
                    try (java.net.Socket s = Net.connect(vs.localAddress())) {
                        Net.echo(s, "warm");
                    }
                    IpvsTable.render(lb.stats());
                }
            }
            // The JDK's default asynchronous channel group (used by TcpConnectProbe) lives as long as the JVM.
            java.nio.channels.AsynchronousSocketChannel.open().close();
        } catch (java.io.IOException e) {
            throw new AssertionError("warm-up failed", e);
        }
    }

    /** Collects garbage and makes the detector look for collected, unreleased buffers. */
    static void assertNoLeaks() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            for (int j = 0; j < 64; j++) {
                ByteBuf b = ByteBufAllocator.DEFAULT.buffer(16);
                b.release();
            }
            sleep(20);
        }
        assertTrue(LEAKS.isEmpty(), () -> "buffer leaks: " + LEAKS);
    }

    /** Open file descriptors of this process, or -1 where /proc is missing. */
    static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    /** {@link #openFds()}, remembering which they are for the failure message. */
    static int snapshotFds() {
        baseline = fdTargets();
        return openFds();
    }

    private static volatile String baseline = "";

    /** Waits (bounded) until the fd count is back within {@code slack} of {@code before}. */
    static void assertFdsBackTo(int before, int slack) {
        if (before < 0) {
            return;
        }
        int now = openFds();
        for (int i = 0; i < 100 && now > before + slack; i++) {
            // Unreachable JDK sockets of test fixtures are closed by their cleaner; Netty channels that
            // were never closed stay registered with their event loop, so a real leak is not hidden.
            System.gc();
            sleep(50);
            now = openFds();
        }
        int n = now;
        assertTrue(n <= before + slack, () -> "fd leak: " + before + " before, " + n + " after; new: " + newFds());
    }

    private static String newFds() {
        java.util.Set<String> old = new java.util.HashSet<>(java.util.Arrays.asList(baseline.split(" ")));
        StringBuilder sb = new StringBuilder();
        for (String e : fdTargets().split(" ")) {
            if (!old.contains(e)) {
                sb.append(e).append(describe(e)).append(' ');
            }
        }
        return sb.toString();
    }

    /** For a socket, its line in /proc/net/tcp{,6} (local, remote, state), to tell who left it open. */
    private static String describe(String fdTarget) {
        int i = fdTarget.indexOf("socket:[");
        if (i < 0) {
            return "";
        }
        String inode = fdTarget.substring(i + 8, fdTarget.length() - 1);
        for (String f : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            try {
                for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(f))) {
                    String[] c = line.trim().split("\\s+");
                    if (c.length > 9 && c[9].equals(inode)) {
                        return "[" + c[1] + "->" + c[2] + " st=" + c[3] + "]";
                    }
                }
            } catch (java.io.IOException e) {
                return "";
            }
        }
        return "[not tcp]";
    }

    private static String fdTargets() {
        StringBuilder sb = new StringBuilder();
        String[] fds = new File("/proc/self/fd").list();
        if (fds != null) {
            for (String fd : fds) {
                try {
                    sb.append(fd).append("->").append(java.nio.file.Files.readSymbolicLink(
                            java.nio.file.Path.of("/proc/self/fd", fd))).append(' ');
                } catch (java.io.IOException e) {
                    sb.append(fd).append("->? ");
                }
            }
        }
        return sb.toString();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Polls {@code condition} every 10 ms for up to {@code ms}; fails with {@code message}. */
    static void await(long ms, java.util.function.BooleanSupplier condition, String message) {
        long deadline = System.nanoTime() + ms * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out: " + message);
            }
            sleep(10);
        }
    }

    static void assertEqualsEventually(long ms, int expected, java.util.function.IntSupplier actual, String what) {
        long deadline = System.nanoTime() + ms * 1_000_000L;
        int v;
        while ((v = actual.getAsInt()) != expected && System.nanoTime() < deadline) {
            sleep(10);
        }
        assertEquals(expected, v, what);
    }
}
