package dev.lbkit.l7;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Helpers shared by lb-l7's tests: loopback addresses, clients, raw sockets. */
final class Fixtures {
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private Fixtures() {}

    static InetSocketAddress loopback() {
        return new InetSocketAddress("127.0.0.1", 0);
    }

    /** A loopback port nobody listens on (bound once, then closed). */
    static int deadPort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Upstream upstream(int port) {
        return Upstream.of("127.0.0.1", port);
    }

    static HttpBalancer start(UpstreamPool pool, ProxyTimeouts timeouts, RetryPolicy retry) {
        return HttpBalancer.builder().listen(loopback()).eventLoops(1).timeouts(timeouts)
                .route(Route.builder("/").group(UpstreamGroup.of(pool)).retry(retry).build()).build().start();
    }

    static URI uri(HttpBalancer b, String path) {
        return URI.create("http://127.0.0.1:" + b.address().getPort() + path);
    }

    static HttpResponse<String> get(HttpBalancer b, String path) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(uri(b, path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The values of the fields named {@code name} in a raw response's head, in order, exactly as sent. */
    static List<String> fields(String response, String name) {
        List<String> out = new ArrayList<>();
        String head = response.substring(0, Math.max(0, response.indexOf("\r\n\r\n")));
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                out.add(line.substring(colon + 1).strip());
            }
        }
        return out;
    }

    /** Sends raw bytes on a new connection and returns everything read until the proxy closes (or 5 s). */
    static String raw(HttpBalancer b, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", b.address().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return readAll(s.getInputStream());
        }
    }

    /**
     * Sends {@code head} and then {@code piece} again and again until {@code size} bytes of pieces are sent,
     * on a new connection, without reading meanwhile; then returns everything read until the proxy's end.
     * The head goes out with the first piece in one write, so the proxy reads something after the head with
     * it. A proxy that closes while the client is still sending resets the connection: that throws here.
     */
    static String sendAllThenRead(HttpBalancer b, String head, byte[] piece, int size) throws IOException {
        try (Socket s = new Socket("127.0.0.1", b.address().getPort())) {
            s.setSoTimeout(10_000);
            byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
            byte[] first = java.util.Arrays.copyOf(h, h.length + piece.length);
            System.arraycopy(piece, 0, first, h.length, piece.length);
            s.getOutputStream().write(first);
            for (int sent = piece.length; sent < size; sent += piece.length) {
                s.getOutputStream().write(piece);
            }
            return readAll(s.getInputStream());
        }
    }

    /** A connection to {@code lb} from the loopback address {@code local} (127.0.0.2 …), 20 s read timeout. */
    static Socket from(String local, HttpBalancer lb) throws IOException {
        Socket s = new Socket(InetAddress.getByName("127.0.0.1"), lb.address().getPort(),
                InetAddress.getByName(local), 0);
        s.setSoTimeout(20_000);
        return s;
    }

    /** Writes {@code text} (ISO-8859-1) to {@code s} and flushes it. */
    static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            out.write("<<timeout>>".getBytes(StandardCharsets.ISO_8859_1));
        } catch (java.net.SocketException e) {
            out.write("<<reset>>".getBytes(StandardCharsets.ISO_8859_1));
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads one response head and a Content-Length body from {@code in}. */
    static String readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                return head.toString();
            }
            head.append((char) c);
        }
        int len = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                len = Integer.parseInt(line.substring(15).trim());
            }
        }
        return head + new String(in.readNBytes(len), StandardCharsets.ISO_8859_1);
    }

    static void await(BooleanSupplier condition, Duration max) throws InterruptedException {
        long end = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                assertTrue(condition.getAsBoolean(), "condition not met within " + max);
            }
            Thread.sleep(10);
        }
    }
}
