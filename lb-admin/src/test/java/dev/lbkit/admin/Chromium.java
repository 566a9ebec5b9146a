package dev.lbkit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium, run as a separate process for each page load with a fresh profile and a
 * hard time limit, so a test never hangs. Fails (never skips) when Chromium is missing: CI installs it.
 */
final class Chromium {
    static final Path BINARY = Path.of("/usr/bin/chromium");
    private static final long TIMEOUT_SECONDS = 30;

    private Chromium() {}

    static void requireInstalled() {
        if (!Files.isExecutable(BINARY)) {
            fail(BINARY + " is missing: install Debian's chromium package (apt-get install -y chromium); "
                    + ".ci/run installs it before the build");
        }
    }

    /** The DOM after the page's scripts ran (its first poll rendered), as {@code --dump-dom} prints it. */
    static String dumpDom(String url) {
        return new String(run(url, List.of("--dump-dom"), null), StandardCharsets.UTF_8);
    }

    /** Saves a screenshot of the rendered page at {@code png}. */
    static void screenshot(String url, Path png, int width, int height) {
        run(url, List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height,
                "--hide-scrollbars"), png);
        assertTrue(Files.isRegularFile(png), "chromium wrote no screenshot at " + png);
    }

    private static byte[] run(String url, List<String> extra, Path expected) {
        requireInstalled();
        Path profile = null;
        Process p = null;
        try {
            profile = Files.createTempDirectory("lbkit-chromium-");
            List<String> cmd = new ArrayList<>(List.of(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-first-run", "--disable-background-networking", "--disable-extensions",
                    "--user-data-dir=" + profile, "--virtual-time-budget=3000"));
            cmd.addAll(extra);
            cmd.add(url);
            Path out = profile.resolve("stdout");
            Path err = profile.resolve("stderr");
            p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                fail("chromium did not finish within " + TIMEOUT_SECONDS + " s loading " + url);
            }
            assertEquals(0, p.exitValue(), () -> "chromium failed: " + read(err));
            return Files.readAllBytes(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            if (profile != null) {
                delete(profile);
            }
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no stderr: " + e + ")";
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // A leftover temporary profile harms nothing.
            return;
        }
    }
}
