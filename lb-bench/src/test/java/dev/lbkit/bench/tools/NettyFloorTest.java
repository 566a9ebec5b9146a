package dev.lbkit.bench.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The Netty floor forwards the benchmark's traffic as lbkit's contenders do, on loopback. */
class NettyFloorTest {

    private final List<AutoCloseable> parts = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = parts.size() - 1; i >= 0; i--) {
            parts.get(i).close();
        }
    }

    @Test
    void l7AddsTheSeedHeaderAndKeepsOneUpstreamConnectionPerClient() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        byte[] page = "<h1>Response from Backend Server 1</h1>\n".getBytes(StandardCharsets.US_ASCII);
        upstream.createContext("/", exchange -> {
            seen.add(exchange.getRequestHeaders().getFirst("X-high-load-test") + " "
                    + exchange.getRemoteAddress().getPort());
            exchange.sendResponseHeaders(200, page.length);
            exchange.getResponseBody().write(page);
            exchange.close();
        });
        upstream.start();
        parts.add(() -> upstream.stop(0));

        LbkitContender.Started floor = NettyFloor.start(
                new String[] {"l7", "127.0.0.1:0", "127.0.0.1:" + upstream.getAddress().getPort()}, parts);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI uri = URI.create("http://127.0.0.1:" + floor.address().getPort() + "/");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("<h1>Response from Backend Server 1</h1>\n", r.body());
        }
        assertEquals(3, seen.size(), seen.toString());
        assertTrue(seen.stream().allMatch(s -> s.startsWith("123 ")), seen.toString());
        assertEquals(1, seen.stream().map(s -> s.split(" ")[1]).distinct().count(), seen.toString());
    }

    @Test
    void l7ClosesOnAResponseWithoutContentLength() throws Exception {
        ServerSocket upstream = new ServerSocket();
        upstream.bind(new InetSocketAddress("127.0.0.1", 0));
        parts.add(upstream);
        Thread server = new Thread(() -> {
            try (Socket s = upstream.accept()) {
                s.getInputStream().read(new byte[4096]);
                s.getOutputStream().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                s.getInputStream().read();
            } catch (java.io.IOException e) {
                // The test fails on what the client reads.
            }
        }, "chunked-upstream");
        server.setDaemon(true);
        server.start();
        LbkitContender.Started floor = NettyFloor.start(
                new String[] {"l7", "127.0.0.1:0", "127.0.0.1:" + upstream.getLocalPort()}, parts);
        try (Socket client = new Socket()) {
            client.connect(floor.address(), 2000);
            client.setSoTimeout(2000);
            client.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, client.getInputStream().read(), "closed, nothing forwarded");
        }
    }

    @Test
    void l4ForwardsBytesBothWaysAndPassesTheFinOn() throws Exception {
        ServerSocket real = new ServerSocket();
        real.bind(new InetSocketAddress("127.0.0.1", 0));
        parts.add(real);
        Thread echo = new Thread(() -> {
            try (Socket s = real.accept()) {
                s.getInputStream().transferTo(s.getOutputStream());
            } catch (java.io.IOException e) {
                // The test fails on what the client reads.
            }
        }, "echo");
        echo.setDaemon(true);
        echo.start();

        LbkitContender.Started floor = NettyFloor.start(
                new String[] {"l4", "127.0.0.1:0", "127.0.0.1:" + real.getLocalPort()}, parts);
        try (Socket client = new Socket()) {
            client.connect(floor.address(), 2000);
            client.setSoTimeout(2000);
            OutputStream out = client.getOutputStream();
            out.write("ping through the floor".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            InputStream in = client.getInputStream();
            // The echo only ends after our FIN reached it, so the whole reply proves the FIN went through.
            assertEquals("ping through the floor", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void badArgumentsAreRejectedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NettyFloor.start(new String[] {"l7", "127.0.0.1:0"}, parts));
        assertTrue(e.getMessage().contains("l7 takes 2 arguments"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NettyFloor.start(new String[] {"dns", "127.0.0.1:0", "127.0.0.1:1"}, parts));
        assertTrue(e.getMessage().contains("unknown tier 'dns'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NettyFloor.start(new String[] {"l4", "nowhere", "127.0.0.1:1"}, parts));
        assertTrue(e.getMessage().contains("HOST:PORT"), e.getMessage());
        assertTrue(parts.isEmpty());
    }
}
