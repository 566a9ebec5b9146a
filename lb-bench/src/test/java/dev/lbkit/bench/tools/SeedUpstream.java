package dev.lbkit.bench.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The benchmark's upstream for tests: answers every request with the seed's page and records, per request,
 * the {@code X-high-load-test} value and the client port it came from ("123 54321").
 */
final class SeedUpstream implements AutoCloseable {
    static final String PAGE = "<h1>Response from Backend Server 1</h1>\n";

    private final HttpServer server;
    private final List<String> seen = new CopyOnWriteArrayList<>();

    SeedUpstream() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        byte[] page = PAGE.getBytes(StandardCharsets.US_ASCII);
        server.createContext("/", exchange -> {
            seen.add(exchange.getRequestHeaders().getFirst("X-high-load-test") + " "
                    + exchange.getRemoteAddress().getPort());
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** One entry per request so far: header value, a space, the client port. */
    List<String> seen() {
        return seen;
    }

    /**
     * Sends three GETs through {@code proxy} on one client connection and checks that each got the page,
     * and that the upstream saw each with {@code X-high-load-test: 123} over a single connection.
     */
    void assertThreeRequestsOverOneConnection(InetSocketAddress proxy) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI uri = URI.create("http://127.0.0.1:" + proxy.getPort() + "/");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(PAGE, r.body());
        }
        assertEquals(3, seen.size(), seen.toString());
        assertTrue(seen.stream().allMatch(s -> s.startsWith("123 ")), seen.toString());
        assertEquals(1, seen.stream().map(s -> s.split(" ")[1]).distinct().count(),
                "the three requests reuse one upstream connection: " + seen);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
