package dev.lbkit.etcd;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real etcd daemon for tests: Debian's {@code etcd} binary on loopback, ephemeral ports, its own data
 * directory. It can be stopped and started again on the same ports and data, as a store that goes away and
 * comes back. Fails loudly (never skips) when the binary is missing, because CI installs it.
 */
final class EtcdProcess implements AutoCloseable {
    private final Path dataDir;
    private final Path log;
    private final int clientPort;
    private final int peerPort;
    private Process process;

    EtcdProcess() throws IOException {
        this.dataDir = Files.createTempDirectory("lbkit-etcd");
        this.log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
        this.clientPort = freePort();
        this.peerPort = freePort();
        start();
    }

    /** The client URL, {@code http://127.0.0.1:<port>}. */
    String endpoint() {
        return "http://127.0.0.1:" + clientPort;
    }

    void start() throws IOException {
        String binary = binary();
        String peer = "http://127.0.0.1:" + peerPort;
        ProcessBuilder pb = new ProcessBuilder(binary, "--name", "lbkit-test", "--data-dir", dataDir.toString(),
                "--listen-client-urls", endpoint(), "--advertise-client-urls", endpoint(),
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "lbkit-test=" + peer, "--log-level", "warn")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().remove("ETCD_UNSUPPORTED_ARCH");
        process = pb.start();
        awaitHealthy();
    }

    /** Stops the daemon abruptly (SIGKILL), as a crash or a network loss looks to clients. */
    void stop() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        if (process != null) {
            stop();
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
        Files.deleteIfExists(log);
    }

    private void awaitHealthy() throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create(endpoint() + "/health"))
                .timeout(Duration.ofMillis(500)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("etcd exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            try {
                HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("\"health\":\"true\"")) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for etcd", e);
            }
            sleep(50);
        }
        throw new IllegalStateException("etcd not healthy within 15 s: " + Files.readString(log));
    }

    private static String binary() {
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/usr/sbin")) {
            File f = new File(dir, "etcd");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                File f = new File(dir, "etcd");
                if (f.canExecute()) {
                    return f.getPath();
                }
            }
        }
        throw new AssertionError("the etcd binary is missing: the lb-etcd tests need a real etcd daemon; "
                + "install Debian's etcd-server package (apt-get install etcd-server), as .ci/run does");
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
