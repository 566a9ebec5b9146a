package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.examples.support.Curl;
import dev.lbkit.examples.support.Running;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BackendsCommandTest {
    private static final Pattern HTTP_DATE =
            Pattern.compile("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");

    @Test
    void servesTheSeedPagesByteForByteLikePythonHttpServer() throws Exception {
        try (Running r = new BackendsCommand().start("--ports", "0,0")) {
            List<String> pages = List.of(Seed.PAGE_1, Seed.PAGE_2);
            for (int n = 1; n <= 2; n++) {
                InetSocketAddress a = r.address("backend-" + n);
                // Reading until EOF proves the connection is closed after the body, as HTTP/1.0 without keep-alive.
                String raw = RawHttp.exchangeUntilClose(a, RawHttp.curlRequest(a));
                String page = pages.get(n - 1);
                assertEquals(page, RawHttp.body(raw));
                String[] head = RawHttp.head(raw).split("\r\n");
                assertEquals("HTTP/1.0 200 OK", head[0]);
                assertTrue(List.of(head).contains("Content-type: text/html"), raw);
                assertTrue(List.of(head).contains("Content-Length: " + page.getBytes(StandardCharsets.UTF_8).length), raw);
                String lastModified = List.of(head).stream().filter(h -> h.startsWith("Last-Modified: ")).findFirst()
                        .orElseThrow();
                assertTrue(HTTP_DATE.matcher(lastModified.substring(15)).matches(), lastModified);
            }
            assertEquals(40, Seed.PAGE_1.getBytes(StandardCharsets.UTF_8).length);
        }
    }

    @Test
    void jdkHttpClientReadsBothPages() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        try (Running r = new BackendsCommand().start("--ports", "0,0")) {
            for (int n = 1; n <= 2; n++) {
                InetSocketAddress a = r.address("backend-" + n);
                HttpResponse<String> res = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + "/"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, res.statusCode());
                assertEquals(Seed.page(n), res.body());
                assertEquals("text/html", res.headers().firstValue("Content-type").orElseThrow());
            }
        }
    }

    @Test
    void keepAliveAnswersHttp11AndServesSeveralRequestsOnOneConnection() throws Exception {
        try (Running r = new BackendsCommand().start("--ports", "0", "--keep-alive");
                Socket s = new Socket()) {
            InetSocketAddress a = r.address("backend-1");
            s.connect(a, 2000);
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            for (int i = 0; i < 3; i++) {
                s.getOutputStream().write(RawHttp.curlRequest(a).getBytes(StandardCharsets.ISO_8859_1));
                String head = readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n"), head);
                assertTrue(head.contains("Content-Length: 40\r\n"), head);
                assertEquals(Seed.PAGE_1, new String(in.readNBytes(40), StandardCharsets.UTF_8));
            }
            assertEquals(1, r.part("backend-1", dev.lbkit.testing.TestBackend.class).connectionCount());
        }
    }

    @Test
    void bodyOptionOverridesEveryPageAndOnePortServesPageOne() throws Exception {
        try (Running r = new BackendsCommand().start("--ports", "0,0", "--body", "0123456789")) {
            for (String name : List.of("backend-1", "backend-2")) {
                Curl.Response res = Curl.get(r.address(name), "x", "/", Duration.ofSeconds(5));
                assertEquals("0123456789", res.bodyText());
                assertTrue(res.closedByServer());
            }
        }
        try (Running r = new BackendsCommand().start("--ports", "0")) {
            assertEquals(1, r.addresses().size());
            Curl.Response res = Curl.get(r.address("backend-1"), "x", "/", Duration.ofSeconds(5));
            assertEquals(Seed.PAGE_1, res.bodyText());
            assertEquals("HTTP/1.0", res.version());
        }
    }

    @Test
    void closingStopsListening() throws Exception {
        InetSocketAddress a;
        try (Running r = new BackendsCommand().start("--ports", "0")) {
            a = r.address("backend-1");
        }
        try (Socket s = new Socket()) {
            s.connect(a, 1000);
            assertFalse(true, "still listening on " + a);
        } catch (java.net.ConnectException expected) {
            // Refused: the port is free again.
        }
    }

    private static String readHead(InputStream in) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new java.io.EOFException(sb.toString());
            }
            sb.append((char) c);
        }
        return sb.toString();
    }
}
