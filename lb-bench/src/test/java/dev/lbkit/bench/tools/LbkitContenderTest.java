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
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** lbkit's contenders answer as the benchmark's peers are configured to, on loopback. */
class LbkitContenderTest {

    private final List<AutoCloseable> parts = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = parts.size() - 1; i >= 0; i--) {
            parts.get(i).close();
        }
    }

    @Test
    void l7ProxiesWithTheSeedHeaderOverUpstreamKeepAlive() throws Exception {
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

        LbkitContender.Started l7 = LbkitContender.start(
                new String[] {"l7", "127.0.0.1:0", "127.0.0.1:" + upstream.getAddress().getPort(), "1"}, parts);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI uri = URI.create("http://127.0.0.1:" + l7.address().getPort() + "/");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("<h1>Response from Backend Server 1</h1>\n", r.body());
        }
        assertEquals(3, seen.size(), seen.toString());
        assertTrue(seen.stream().allMatch(s -> s.startsWith("123 ")), seen.toString());
        assertEquals(1, seen.stream().map(s -> s.split(" ")[1]).distinct().count(),
                "the three requests reuse one upstream connection: " + seen);
    }

    @Test
    void l4ForwardsBytesBothWays() throws Exception {
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

        LbkitContender.Started l4 = LbkitContender.start(
                new String[] {"l4", "127.0.0.1:0", "127.0.0.1:" + real.getLocalPort(), "1"}, parts);
        try (Socket client = new Socket()) {
            client.connect(l4.address(), 2000);
            client.setSoTimeout(2000);
            OutputStream out = client.getOutputStream();
            out.write("ping through lb-l4".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            InputStream in = client.getInputStream();
            assertEquals("ping through lb-l4", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void dnsAnswersTheSeedsNameWithTwoRecordsAndTtlZero() throws Exception {
        LbkitContender.Started dns = LbkitContender.start(new String[] {"dns", "127.0.0.1:0", "1"}, parts);
        SimpleResolver resolver = new SimpleResolver(dns.address());
        resolver.setTimeout(Duration.ofSeconds(2));
        Message answer = resolver.send(Message.newQuery(Record.newRecord(
                Name.fromString(LbkitContender.NAME + "."), Type.A, org.xbill.DNS.DClass.IN)));
        List<Record> records = answer.getSection(Section.ANSWER);
        assertEquals(Set.of("127.0.0.1", "127.0.0.2"),
                records.stream().map(Record::rdataToString).collect(Collectors.toSet()), answer.toString());
        assertTrue(records.stream().allMatch(r -> r.getTTL() == 0), answer.toString());
    }

    @Test
    void badArgumentsAreRejectedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LbkitContender.start(new String[] {"l7", "127.0.0.1:0"}, parts));
        assertTrue(e.getMessage().contains("l7 takes 3 arguments"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LbkitContender.start(new String[] {"dns", "127.0.0.1:0", "0"}, parts));
        assertTrue(e.getMessage().contains("1..64"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LbkitContender.start(new String[] {"dns", "nowhere", "1"}, parts));
        assertTrue(e.getMessage().contains("HOST:PORT"), e.getMessage());
        assertTrue(parts.isEmpty());
    }
}
