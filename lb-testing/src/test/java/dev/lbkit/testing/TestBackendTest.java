package dev.lbkit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TestBackendTest {
    private static final String PAGE = "<h1>Response from Backend Server 1</h1>\n";

    @Test
    void pythonModeAnswersHttp10AndCloses() throws IOException {
        try (TestBackend b = TestBackend.start(Script.pythonHttpServer(PAGE));
                Socket s = new Socket(b.address().getAddress(), b.port())) {
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(all.startsWith("HTTP/1.0 200 OK\r\n"), all);
            assertTrue(all.contains("Content-type: text/html\r\n"), all);
            assertTrue(all.contains("Content-Length: 40\r\n"), all);
            assertTrue(all.contains("Last-Modified: "), all);
            assertTrue(all.endsWith("\r\n\r\n" + PAGE), all);
            assertEquals(1, b.requestCount());
            assertEquals("x", b.requests().get(0).header("host").orElseThrow());
        }
    }

    @Test
    void aProxyV1LineStartingAConnectionIsRecordedApart() throws IOException {
        try (TestBackend b = TestBackend.start(Script.ok("hi"));
                Socket s = new Socket(b.address().getAddress(), b.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("PROXY TCP4 192.0.2.1 198.51.100.1 5555 80\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(all.startsWith("HTTP/1.1 200 "), all);
            assertEquals(java.util.List.of("PROXY TCP4 192.0.2.1 198.51.100.1 5555 80"), b.proxyHeaders());
            assertEquals(java.util.List.of("/a", "/b"), b.requests().stream().map(RecordedRequest::target).toList());
        }
    }

    @Test
    void keepAliveServesSeveralRequestsOnOneConnection() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("hello"))) {
            HttpClient c = HttpClient.newHttpClient();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.port() + "/p"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("hello", r.body());
            }
            assertEquals(3, b.requestCount());
            assertEquals(1, b.connectionCount());
        }
    }

    @Test
    void scriptCanBeSwappedToNeverAnswer() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("fast"))) {
            b.script(Script.builder().mode(Script.Mode.NEVER_ANSWER).build());
            HttpClient c = HttpClient.newHttpClient();
            assertThrows(HttpTimeoutException.class, () -> c.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + b.port() + "/")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString()));
            // The client's timeout can end the wait before the backend has counted the request on a
            // loaded machine: wait for the count instead of reading it at once.
            Await.until(() -> b.requestCount() == 1);
            assertEquals(1, b.requestCount());
        }
    }

    @Test
    void echoServerEchoesAndHalfCloses() throws IOException {
        try (EchoServer e = EchoServer.echo(); Socket s = new Socket(e.address().getAddress(), e.port())) {
            s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            assertEquals("ping", new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            assertEquals(4, e.bytesIn());
        }
    }

    @Test
    void fakeTickerMovesOnlyForward() {
        FakeTicker t = new FakeTicker();
        long t0 = t.nanoTime();
        t.advance(Duration.ofSeconds(2));
        assertEquals(2_000_000_000L, t.nanoTime() - t0);
        assertThrows(IllegalArgumentException.class, () -> t.advance(Duration.ofSeconds(-1)));
    }

    @Test
    void upgradeEchoSwitchesProtocolsThenEchoes() throws IOException {
        try (TestBackend b = TestBackend.start(Script.builder().mode(Script.Mode.UPGRADE_ECHO).build());
                Socket s = new Socket(b.address().getAddress(), b.port())) {
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nping"
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            String got = new String(in.readNBytes(72 + 4), StandardCharsets.ISO_8859_1);
            assertTrue(got.startsWith("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n"), got);
            assertTrue(got.endsWith("\r\n\r\nping"), got);
        }
    }

    @Test
    void upgradeStallSwitchesProtocolsThenOnlyTalksUntilThePeerCloses() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().mode(Script.Mode.UPGRADE_STALL).build())) {
            try (Socket s = new Socket(b.address().getAddress(), b.port())) {
                s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
                        + "ping").getBytes(StandardCharsets.ISO_8859_1));
                s.setSoTimeout(5000);
                String got = new String(s.getInputStream().readNBytes(72 + 3), StandardCharsets.ISO_8859_1);
                assertTrue(got.startsWith("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n"), got);
                assertTrue(got.endsWith("\r\n\r\n..."), "heartbeats, no echo: " + got);
            }
            Await.until(() -> b.openConnections() == 0);
        }
    }
}
