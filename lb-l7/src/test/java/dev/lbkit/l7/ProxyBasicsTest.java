package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.get;
import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import dev.lbkit.transport.TransportType;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ProxyBasicsTest {
    static final String PAGE1 = "<h1>Response from Backend Server 1</h1>\n";
    static final String PAGE2 = "<h2>*** Response from Backend Server 2 ***</h2>\n";

    @Test
    void proxiesToPythonStyleHttp10BackendsRoundRobinWithClientKeepAlive() throws Exception {
        try (TestBackend b1 = TestBackend.start(Script.pythonHttpServer(PAGE1));
                TestBackend b2 = TestBackend.start(Script.pythonHttpServer(PAGE2));
                UpstreamPool pool = UpstreamPool.of(upstream(b1.port()), upstream(b2.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool))
                                .setRequestHeader("X-high-load-test", "123").build()).build().start()) {
            int one = 0;
            int two = 0;
            for (int i = 0; i < 6; i++) {
                HttpResponse<String> r = get(lb, "/");
                assertEquals(200, r.statusCode());
                assertEquals("text/html", r.headers().firstValue("content-type").orElseThrow());
                if (r.body().equals(PAGE1)) {
                    one++;
                } else {
                    assertEquals(PAGE2, r.body());
                    two++;
                }
            }
            assertEquals(3, one);
            assertEquals(3, two);
            RecordedRequest seen = b1.requests().get(0);
            assertEquals("123", seen.header("X-high-load-test").orElseThrow());
            assertEquals("127.0.0.1:" + lb.address().getPort(), seen.header("Host").orElseThrow());
            Fixtures.await(() -> b1.openConnections() == 0 && b2.openConnections() == 0, Duration.ofSeconds(2));
        }
    }

    @Test
    void reusesUpstreamKeepAliveConnections() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("hello"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = get(lb, "/x?y=" + i);
                assertEquals(200, r.statusCode());
                assertEquals("hello", r.body());
            }
            assertEquals(5, b.requestCount());
            assertEquals(1, b.connectionCount());
            assertEquals("/x?y=4", b.requests().get(4).target());
            assertEquals("HTTP/1.1", b.requests().get(4).version());
        }
    }

    @ParameterizedTest(name = "transport {0}")
    @MethodSource("dev.lbkit.transport.TransportType#available")
    void proxiesOnEveryTransport(TransportType transport) throws Exception {
        byte[] big = new byte[3 << 20];
        new java.util.Random(7).nextBytes(big);
        try (TestBackend b = TestBackend.start(Script.builder().body(big).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1).transport(transport)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            assertEquals(transport.name().toLowerCase(java.util.Locale.ROOT), lb.transport());
            for (int i = 0; i < 3; i++) {
                HttpResponse<byte[]> r = Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/" + i))
                        .POST(HttpRequest.BodyPublishers.ofString("n=" + i)).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, r.statusCode());
                assertArrayEquals(big, r.body());
                assertEquals("n=" + i, b.requests().get(i).bodyText());
            }
            assertEquals(1, b.connectionCount(), "one kept-alive upstream connection");
        }
    }

    /**
     * The build runs this class's package twice: once as is, once with {@code -Ddev.lbkit.transport=io_uring}
     * (lb-l7's pom). This checks that the second run really proxies on io_uring where it loads.
     */
    @Test
    void autoFollowsTheTransportProperty() throws Exception {
        String wanted = System.getProperty("dev.lbkit.transport", "");
        String expected = wanted.equals("io_uring") && TransportType.available().contains(TransportType.IO_URING)
                ? "io_uring" : TransportType.available().contains(TransportType.EPOLL) ? "epoll" : "nio";
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            assertEquals(expected, lb.transport());
            assertEquals(200, Fixtures.get(lb, "/").statusCode());
        }
    }

    @Test
    void postBodyIsForwarded() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            HttpResponse<String> r = Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/post"))
                    .POST(HttpRequest.BodyPublishers.ofString("a=1&b=2")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("a=1&b=2", b.requests().get(0).bodyText());
            assertEquals("POST", b.requests().get(0).method());
        }
    }

    @Test
    void connectErrorIsRetriedOnTheNextUpstream() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("alive"));
                UpstreamPool pool = UpstreamPool.of(upstream(Fixtures.deadPort()), upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = get(lb, "/");
                assertEquals(200, r.statusCode());
                assertEquals("alive", r.body());
            }
            TrafficStats s = lb.stats().route("/");
            assertEquals(4, s.requests());
            assertTrue(s.retries() >= 2, s.toString());
        }
    }

    @Test
    void allUpstreamsRefusingGives502() throws Exception {
        try (UpstreamPool pool = UpstreamPool.of(upstream(Fixtures.deadPort()), upstream(Fixtures.deadPort()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            assertEquals(502, get(lb, "/").statusCode());
        }
    }

    @Test
    void backupIsUsedOnlyWhenPrimariesFail() throws Exception {
        try (TestBackend b1 = TestBackend.start(Script.ok("primary"));
                TestBackend b2 = TestBackend.start(Script.ok("backup"));
                UpstreamPool pool = UpstreamPool.builder().add(upstream(b1.port()))
                        .add(Upstream.builder("127.0.0.1", b2.port()).backup(true).build()).build();
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            for (int i = 0; i < 3; i++) {
                assertEquals("primary", get(lb, "/").body());
            }
            b1.script(Script.builder().mode(Script.Mode.RESET).build());
            assertEquals("backup", get(lb, "/").body());
            assertEquals(0, b2.requestCount() - 1);
        }
    }

    @Test
    void idleConnectionClosedByTheUpstreamIsNoticedAndNotReused() throws Exception {
        // Answers one request per connection with keep-alive, then closes the idle connection after 100 ms.
        try (RawServer b = new RawServer(s -> {
            java.io.InputStream in = s.getInputStream();
            RawServer.readHead(in);
            s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            Thread.sleep(100);
        });
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.builder().tries(1).build())) {
            assertEquals("ok", get(lb, "/").body());
            Fixtures.await(() -> b.openConnections() == 0, Duration.ofSeconds(2));
            Thread.sleep(50);
            assertEquals("ok", get(lb, "/").body());
            TrafficStats s = lb.stats().route("/");
            assertEquals(0, s.retries(), "the closed connection was noticed while idle, not by a failed request");
        }
    }

    /**
     * Bytes an upstream sends after a complete response (a body on a 204 or on a HEAD response, more than
     * its Content-Length, the start of a response nobody asked for) are not the next response: the
     * connection is closed, never pooled (RFC 9112 §6.3; nginx: "upstream sent more data than specified").
     * Pooled, the next exchange on it would get a 502 or, with crafted bytes, a response the upstream never
     * sent it.
     */
    @Test
    void bytesAfterAResponseCloseTheUpstreamConnection() throws Exception {
        String[][] cases = {{"GET", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nno content"},
            {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhead body!"},
            {"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi and more"},
            {"GET", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 418 I'm a teapot\r\nX-Injected: yes\r\nX-Pad: "}};
        for (String[] c : cases) {
            java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
            try (RawServer b = new RawServer(s -> {
                connections.incrementAndGet();
                java.io.InputStream in = s.getInputStream();
                java.io.OutputStream out = s.getOutputStream();
                while (!RawServer.readHead(in).isEmpty()) {
                    // The whole of each answer in one write: the proxy reads the extra bytes with the response.
                    out.write((requests.getAndIncrement() == 0 ? c[1] : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                    out.flush();
                }
            });
                    UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                    HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
                String first = Fixtures.raw(lb, c[0] + " / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                assertTrue(first.startsWith(c[1].substring(0, 13)), first);
                String second = Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                assertTrue(second.startsWith("HTTP/1.1 200 OK\r\n") && second.endsWith("\r\n\r\nok"),
                        c[1] + " then: " + second);
                assertEquals(2, connections.get(), c[1]);
            }
        }
    }

    /**
     * The same when the extra bytes come later, while the connection idles in the pool, and complete no
     * message: the proxy closes it at their arrival, and the next request gets a fresh connection.
     */
    @Test
    void bytesArrivingOnAnIdleUpstreamConnectionCloseIt() throws Exception {
        java.util.concurrent.CountDownLatch firstAnswered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch closedByTheProxy = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
        try (RawServer b = new RawServer(s -> {
            java.io.InputStream in = s.getInputStream();
            java.io.OutputStream out = s.getOutputStream();
            boolean first = connections.getAndIncrement() == 0;
            while (!RawServer.readHead(in).isEmpty()) {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                out.flush();
                if (first) {
                    firstAnswered.await();
                    out.write("HTTP/1.1 418 I'm a teapot\r\nX-Injected: yes\r\nX-Pad: "
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    out.flush();
                    if (in.read() < 0) {
                        closedByTheProxy.countDown();
                    }
                    return;
                }
            }
        });
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            assertEquals("ok", get(lb, "/").body());
            firstAnswered.countDown();
            assertTrue(closedByTheProxy.await(5, java.util.concurrent.TimeUnit.SECONDS),
                    "the idle connection that received bytes was not closed");
            String second = Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(second.startsWith("HTTP/1.1 200 OK\r\n") && second.endsWith("\r\n\r\nok"), second);
            assertEquals(2, connections.get());
        }
    }

    @Test
    void responsesOverOneUpstreamConnectionKeepEachTheirOwnHeaders() throws Exception {
        // lb-l7 fills one response head per upstream connection again for each response: whatever the
        // sizes, field counts and reads, each client sees exactly its own response's fields.
        java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
        try (RawServer b = new RawServer(s -> {
            connections.incrementAndGet();
            java.io.InputStream in = s.getInputStream();
            java.io.OutputStream out = s.getOutputStream();
            for (int i = 0; ; i++) {
                RawServer.readHead(in);
                StringBuilder head = new StringBuilder(i % 4 == 3 ? "HTTP/1.1 404 Not Found\r\n" : "HTTP/1.1 200 OK\r\n");
                head.append("X-N: ").append(i).append("\r\n");
                for (int f = 0; f < (i * 7) % 23; f++) {
                    head.append("X-F").append(f).append(": ").append(Integer.toString(i).repeat(1 + (i * f) % 40)).append("\r\n");
                }
                String body = "body " + i;
                head.append("Content-Length: ").append(body.length()).append("\r\n\r\n");
                out.write(head.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                if (i % 2 == 1) {
                    // The head in one read, its body in a later one.
                    out.flush();
                    Thread.sleep(20);
                }
                out.write(body.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                out.flush();
            }
        });
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            for (int i = 0; i < 40; i++) {
                HttpResponse<String> r = get(lb, "/" + i);
                assertEquals(i % 4 == 3 ? 404 : 200, r.statusCode(), "response " + i);
                assertEquals("body " + i, r.body());
                java.util.Map<String, java.util.List<String>> expected = new java.util.TreeMap<>();
                expected.put("x-n", java.util.List.of(Integer.toString(i)));
                for (int f = 0; f < (i * 7) % 23; f++) {
                    expected.put("x-f" + f, java.util.List.of(Integer.toString(i).repeat(1 + (i * f) % 40)));
                }
                java.util.Map<String, java.util.List<String>> got = new java.util.TreeMap<>();
                r.headers().map().forEach((k, v) -> {
                    if (k.toLowerCase(java.util.Locale.ROOT).startsWith("x-")) {
                        got.put(k.toLowerCase(java.util.Locale.ROOT), v);
                    }
                });
                assertEquals(expected, got, "response " + i);
            }
            assertEquals(1, connections.get(), "every request went over one upstream connection");
        }
    }

    @Test
    void requestsOverOneClientConnectionKeepEachTheirOwnHead() throws Exception {
        // lb-l7 fills a client connection's last request head again for its next request once the last one
        // is over (pipelined ones get their own): whatever the method, target and fields, each request
        // reaches the upstream as it was sent.
        String[] methods = {"GET", "POST", "DELETE", "PUT", "OPTIONS"};
        int sequential = 30;
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT);
                java.net.Socket client = new java.net.Socket("127.0.0.1", lb.address().getPort())) {
            client.setSoTimeout(5000);
            java.io.OutputStream out = client.getOutputStream();
            java.io.InputStream in = client.getInputStream();
            for (int i = 0; i < sequential; i++) {
                out.write(request(methods[i % 5], i).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                out.flush();
                assertTrue(Fixtures.readResponse(in).startsWith("HTTP/1.1 200 "), "request " + i);
            }
            // Three pipelined in one write: answered in order, each its own head.
            out.write((request("GET", sequential) + request("POST", sequential + 1) + request("GET", sequential + 2))
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            out.flush();
            for (int i = 0; i < 3; i++) {
                assertTrue(Fixtures.readResponse(in).startsWith("HTTP/1.1 200 "), "pipelined " + i);
            }
            java.util.List<RecordedRequest> seen = b.requests();
            assertEquals(sequential + 3, seen.size());
            for (int i = 0; i < sequential + 3; i++) {
                RecordedRequest r = seen.get(i);
                String method = i < sequential ? methods[i % 5] : i == sequential + 1 ? "POST" : "GET";
                assertEquals(method, r.method(), "request " + i);
                assertEquals("/p" + i + "?q=" + "z".repeat(i % 7), r.target(), "request " + i);
                assertEquals("h" + (i % 3) + ".test", r.header("Host").orElse(null), "request " + i);
                java.util.Map<String, String> expected = new java.util.TreeMap<>();
                expected.put("x-n", Integer.toString(i));
                for (int f = 0; f < (i * 5) % 17; f++) {
                    expected.put("x-f" + f, Integer.toString(i).repeat(1 + (i + f) % 30));
                }
                java.util.Map<String, String> got = new java.util.TreeMap<>();
                for (java.util.Map.Entry<String, String> e : r.headers()) {
                    String name = e.getKey().toLowerCase(java.util.Locale.ROOT);
                    if (name.startsWith("x-") && !name.startsWith("x-forwarded") && !name.equals("x-high-load-test")) {
                        assertNull(got.put(name, e.getValue()), "request " + i + " repeats " + name);
                    }
                }
                assertEquals(expected, got, "request " + i);
                boolean hasBody = method.equals("POST") || method.equals("PUT");
                assertEquals(hasBody ? "body " + i : "", new String(r.body(), java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
    }

    private static String request(String method, int i) {
        StringBuilder r = new StringBuilder(method).append(" /p").append(i).append("?q=").append("z".repeat(i % 7))
                .append(" HTTP/1.1\r\nHost: h").append(i % 3).append(".test\r\nX-N: ").append(i).append("\r\n");
        for (int f = 0; f < (i * 5) % 17; f++) {
            r.append("X-F").append(f).append(": ").append(Integer.toString(i).repeat(1 + (i + f) % 30)).append("\r\n");
        }
        if (method.equals("POST") || method.equals("PUT")) {
            String body = "body " + i;
            return r.append("Content-Length: ").append(body.length()).append("\r\n\r\n").append(body).toString();
        }
        return r.append("\r\n").toString();
    }

    @Test
    void noLiveUpstreamGives502AndNeverContactsTheDownOne() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            pool.markDown("127.0.0.1:" + b.port(), true);
            assertEquals(502, get(lb, "/").statusCode());
            assertEquals(0, b.requestCount());
            pool.markDown("127.0.0.1:" + b.port(), false);
            assertEquals(200, get(lb, "/").statusCode());
        }
    }

    @Test
    void servesSeveralListenersIncludingIpv6Loopback() throws Exception {
        boolean v6 = true;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("::1"))) {
            v6 = probe.getLocalPort() > 0;
        } catch (java.io.IOException e) {
            v6 = false;
        }
        try (TestBackend b = TestBackend.start(Script.ok("both"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()))) {
            HttpBalancer.Builder builder = HttpBalancer.builder().listen(Fixtures.loopback())
                    .listen(new java.net.InetSocketAddress("127.0.0.2", 0)).eventLoops(2).nativeTransport(false)
                    .route(Route.builder("/").group(UpstreamGroup.of(pool)).build());
            if (v6) {
                builder.listen(new java.net.InetSocketAddress("::1", 0));
            }
            try (HttpBalancer lb = builder.build().start()) {
                assertEquals("nio", lb.transport());
                assertEquals(v6 ? 3 : 2, lb.addresses().size());
                for (java.net.InetSocketAddress a : lb.addresses()) {
                    String host = a.getAddress() instanceof java.net.Inet6Address ? "[::1]" : a.getAddress().getHostAddress();
                    HttpResponse<String> r = Fixtures.CLIENT.send(HttpRequest.newBuilder(
                            java.net.URI.create("http://" + host + ":" + a.getPort() + "/")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals("both", r.body(), a.toString());
                }
            }
        }
    }
}
