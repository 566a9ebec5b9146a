package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * HTTP/2 towards clients: ALPN on TLS listeners (the JDK's HttpClient), prior knowledge on cleartext ones
 * (Netty's client codec), HTTP/1.1 clients beside them, through the proxy to HTTP/1.1 backends.
 */
class Http2Test {
    private static KeyManagerFactory keys;
    private static SSLContext trusting;

    @BeforeAll
    static synchronized void certificate() throws Exception {
        if (keys != null) {
            return;
        }
        TestCertificate cert = TestCertificate.create();
        trusting = SSLContext.getInstance("TLS");
        trusting.init(null, cert.trust.getTrustManagers(), null);
        keys = cert.keys;
        cert.delete();
    }

    /** The test certificate's keys (made once for the HTTP/2 tests). */
    static KeyManagerFactory keys() throws Exception {
        certificate();
        return keys;
    }

    /** A client context that trusts the test certificate. */
    static SSLContext trusting() throws Exception {
        certificate();
        return trusting;
    }

    /** A server context whose ALPN offers h2 and http/1.1. */
    static SslContext alpnContext(TlsProvider provider) {
        try {
            return SslContextBuilder.forServer(keys).sslProvider(provider.sslProvider())
                    .applicationProtocolConfig(Http2Options.ALPN).build();
        } catch (SSLException e) {
            throw new IllegalStateException(e);
        }
    }

    static HttpClient client(HttpClient.Version version) {
        return HttpClient.newBuilder().version(version).sslContext(trusting).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    static HttpBalancer.Builder tlsBalancer(TlsProvider provider, Http2Options options, UpstreamPool pool) {
        return HttpBalancer.builder().eventLoops(1)
                .listen(Listener.builder(Fixtures.loopback()).tls(alpnContext(provider)).http2(options).build())
                .route(Route.builder("/").group(UpstreamGroup.of(pool)).build());
    }

    static HttpBalancer.Builder h2cBalancer(Http2Options options, UpstreamPool pool) {
        return HttpBalancer.builder().eventLoops(1)
                .listen(Listener.builder(Fixtures.loopback()).http2(options).build())
                .route(Route.builder("/").group(UpstreamGroup.of(pool)).build());
    }

    static URI https(HttpBalancer lb, String path) {
        return URI.create("https://localhost:" + lb.address().getPort() + path);
    }

    /** A backend that answers {@code /item/N} with {@code item N}, and anything else with its target. */
    static TestBackend items() {
        return TestBackend.start(new InetSocketAddress("127.0.0.1", 0),
                req -> Script.ok(req.target().startsWith("/item/") ? "item " + req.target().substring(6) : req.target()));
    }

    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void alpnH2ManyConcurrentStreamsOnOneConnectionGetTheirOwnBodies(TlsProvider provider) throws Exception {
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = tlsBalancer(provider, Http2Options.DEFAULT, pool).build().start()) {
            HttpClient c = client(HttpClient.Version.HTTP_2);
            HttpResponse<String> first = c.send(HttpRequest.newBuilder(https(lb, "/item/first")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, first.version());
            assertEquals("item first", first.body());
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                all.add(c.sendAsync(HttpRequest.newBuilder(https(lb, "/item/" + i)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < all.size(); i++) {
                HttpResponse<String> r = all.get(i).get();
                assertEquals(200, r.statusCode());
                assertEquals(HttpClient.Version.HTTP_2, r.version());
                assertEquals("item " + i, r.body());
            }
            assertEquals(1, lb.stats().openConnections(), "one HTTP/2 connection carried every stream");
            assertEquals(101, lb.stats().route("/").requests());
            assertEquals(101, b.requestCount());
            // The backend got HTTP/1.1 with the authority as Host and none of Netty's x-http2-* fields.
            var req = b.requests().get(1);
            assertEquals("HTTP/1.1", req.version());
            assertEquals("localhost:" + lb.address().getPort(), req.header("Host").orElseThrow());
            assertTrue(req.headers().stream().noneMatch(h -> h.getKey().toLowerCase().startsWith("x-http2")),
                    req.headers().toString());
        }
    }

    @Test
    void http11ClientsOnAnHttp2ListenerAreServedAsBefore() throws Exception {
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = tlsBalancer(TlsProvider.JDK, Http2Options.DEFAULT, pool).build().start();
                HttpBalancer clear = h2cBalancer(Http2Options.DEFAULT, pool).build().start()) {
            HttpResponse<String> r = client(HttpClient.Version.HTTP_1_1).send(
                    HttpRequest.newBuilder(https(lb, "/item/1")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_1_1, r.version());
            assertEquals("item 1", r.body());
            // Cleartext: keep-alive and pipelining as on any listener.
            String two = Fixtures.raw(clear, "GET /item/a HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /item/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(two.startsWith("HTTP/1.1 200 ") && two.contains("item a") && two.endsWith("item b"), two);
            // A request line that starts like the preface and then differs is HTTP/1.1's to refuse.
            String pri = Fixtures.raw(clear, "PRI * HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(pri.startsWith("HTTP/1.1 400 "), pri);
        }
    }

    @Test
    void h2cByPriorKnowledgeWithNettysClientCodec() throws Exception {
        byte[] up = new byte[100_000];
        new Random(3).nextBytes(up);
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2cBalancer(Http2Options.DEFAULT, pool).build().start();
                NettyH2Client c = new NettyH2Client(lb.address().getPort())) {
            NettyH2Client.Response r = c.get("/item/7");
            assertEquals(200, r.status());
            assertEquals("item 7", r.text());
            NettyH2Client.Response posted = c.send(HttpMethod.POST, "/item/post", up);
            assertEquals(200, posted.status());
            assertArrayEquals(up, b.requests().get(1).body());
            assertEquals("POST", b.requests().get(1).method());
            assertFalse(r.headers().contains("connection"));
            assertEquals(1, lb.stats().openConnections());
        }
    }

    /**
     * Uploads through a small stream window pause and resume the stream hundreds of times, each resume's
     * WINDOW_UPDATE written from the upstream's event: every one must reach the client. On io_uring, whose
     * connection reads can stay open across other channels' events, Netty skipped those flushes and uploads
     * stalled (a request timeout here, GOAWAY at the keep-alive timeout in CI). And the window, smaller than
     * the protocol's, applies only once the client acknowledges it: a first upload that had already sent
     * the protocol's 65,535 bytes must still get its update then.
     */
    @Test
    void uploadsPausedAndResumedManyTimesNeverStall() throws Exception {
        byte[] up = new byte[1024 * 1024 + 3];
        new Random(6).nextBytes(up);
        try (TestBackend b = TestBackend.start(new InetSocketAddress("127.0.0.1", 0), req -> Script.ok("stored"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = tlsBalancer(TlsProvider.OPENSSL,
                        Http2Options.builder().initialWindowSize(16 * 1024).build(), pool)
                        .limits(ClientLimits.builder().maxBodySize(0).build()).build().start()) {
            HttpClient c = client(HttpClient.Version.HTTP_2);
            for (int i = 0; i < 8; i++) {
                HttpResponse<String> put = c.send(HttpRequest.newBuilder(https(lb, "/up/" + i))
                        .timeout(Duration.ofSeconds(20)).PUT(HttpRequest.BodyPublishers.ofByteArray(up)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(HttpClient.Version.HTTP_2, put.version());
                assertEquals("stored", put.body(), "upload " + i);
                assertArrayEquals(up, b.requests().get(i).body(), "upload " + i);
            }
        }
    }

    @Test
    void largeBodiesStreamBothWays() throws Exception {
        byte[] up = new byte[3 * 1024 * 1024 + 17];
        new Random(4).nextBytes(up);
        byte[] down = new byte[8 * 1024 * 1024 + 5];
        new Random(5).nextBytes(down);
        try (TestBackend b = TestBackend.start(new InetSocketAddress("127.0.0.1", 0),
                req -> req.method().equals("PUT") ? Script.ok("stored") : Script.builder().body(down).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = tlsBalancer(TlsProvider.OPENSSL, Http2Options.DEFAULT, pool)
                        .limits(ClientLimits.builder().maxBodySize(0).build()).build().start()) {
            HttpClient c = client(HttpClient.Version.HTTP_2);
            HttpResponse<String> put = c.send(HttpRequest.newBuilder(https(lb, "/up"))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(up)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, put.version());
            assertEquals("stored", put.body());
            assertArrayEquals(up, b.requests().get(0).body());
            // The client sent no length: the upstream got the body chunked.
            HttpResponse<byte[]> get = c.send(HttpRequest.newBuilder(https(lb, "/down")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(HttpClient.Version.HTTP_2, get.version());
            assertArrayEquals(down, get.body());
            assertEquals(String.valueOf(down.length), get.headers().firstValue("content-length").orElseThrow());
        }
    }

    @Test
    void upstreamFailuresRetriesAndTimeoutsAreAnsweredAsOverHttp11() throws Exception {
        ProxyTimeouts timeouts = ProxyTimeouts.builder().read(Duration.ofMillis(300)).build();
        try (TestBackend live = items();
                TestBackend mute = TestBackend.start(Script.builder().mode(Script.Mode.NEVER_ANSWER).build());
                UpstreamPool dead = UpstreamPool.of(upstream(Fixtures.deadPort()));
                UpstreamPool silent = UpstreamPool.of(upstream(mute.port()));
                UpstreamPool half = UpstreamPool.of(upstream(Fixtures.deadPort()), upstream(live.port()));
                HttpBalancer lb = HttpBalancer.builder().eventLoops(1).timeouts(timeouts)
                        .listen(Listener.builder(Fixtures.loopback()).tls(alpnContext(TlsProvider.JDK))
                                .http2(Http2Options.DEFAULT).build())
                        .route(Route.builder("/dead/").group(UpstreamGroup.of(dead)).build())
                        .route(Route.builder("/silent/").group(UpstreamGroup.of(silent)).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(half)).build()).build().start()) {
            for (HttpClient.Version v : HttpClient.Version.values()) {
                HttpClient c = client(v);
                HttpResponse<String> bad = c.send(HttpRequest.newBuilder(https(lb, "/dead/x")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(v, bad.version());
                assertEquals(502, bad.statusCode(), v.toString());
                assertEquals(504, c.send(HttpRequest.newBuilder(https(lb, "/silent/x")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode(), v.toString());
                for (int i = 0; i < 4; i++) {
                    assertEquals("item " + i, c.send(HttpRequest.newBuilder(https(lb, "/item/" + i)).build(),
                            HttpResponse.BodyHandlers.ofString()).body(), v.toString());
                }
            }
            assertTrue(lb.stats().route("/").retries() >= 1, lb.stats().toString());
            assertEquals(2, lb.stats().route("/silent/").responsesByClass().get(4), "two 504s");
        }
    }

    @Test
    void accessLogSaysHttp2AndStatsCountEveryStreamAsARequest() throws Exception {
        PrintStream old = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()))) {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            try (HttpBalancer lb = h2cBalancer(Http2Options.DEFAULT, pool).accessLog(true).build().start();
                    NettyH2Client c = new NettyH2Client(lb.address().getPort())) {
                for (int i = 0; i < 3; i++) {
                    assertEquals("item " + i, c.get("/item/" + i).text());
                }
                HttpBalancerStats stats = lb.stats();
                assertEquals(3, stats.route("/").requests());
                assertEquals(3, stats.route("/").responsesByClass().get(1));
                assertEquals(3, stats.upstreams().values().iterator().next().requests());
                assertEquals(1, stats.openConnections());
            }
        } finally {
            System.setErr(old);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("\"GET /item/2 HTTP/2.0\" 200 6 "), log);
        assertTrue(log.contains("127.0.0.1 - - ["), log);
    }

    @Test
    void notFoundErrorPagesAndHeadAreTheStreamsOwnAnswers() throws Exception {
        ErrorPages pages = ErrorPages.builder()
                .page(ErrorPage.of("no such page".getBytes(StandardCharsets.US_ASCII), "text/plain"), 404).build();
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().eventLoops(1).errorPages(pages)
                        .listen(Listener.builder(Fixtures.loopback()).http2(Http2Options.DEFAULT).build())
                        .route(Route.builder("/item/").group(UpstreamGroup.of(pool)).build()).build().start();
                NettyH2Client c = new NettyH2Client(lb.address().getPort())) {
            NettyH2Client.Response missing = c.get("/nowhere");
            assertEquals(404, missing.status());
            assertEquals("no such page", missing.text());
            assertEquals("text/plain", missing.headers().get("content-type"));
            NettyH2Client.Response head = c.send(HttpMethod.HEAD, "/item/head", null);
            assertEquals(200, head.status());
            assertEquals(0, head.body().length);
            assertEquals("9", head.headers().get("content-length"));
            assertEquals("item 1", c.get("/item/1").text());
            assertTrue(c.isOpen());
            assertEquals(1, lb.stats().openConnections());
        }
    }

    @Test
    void forwardedFieldsPerStreamFromTheProxyHeaderAndRealIp() throws Exception {
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().eventLoops(1)
                        .listen(Listener.builder(Fixtures.loopback()).acceptProxyProtocol(true)
                                .realIp(RealIp.builder().trust("10.0.0.0/8").header("X-Real-IP").build())
                                .http2(Http2Options.DEFAULT).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).forwarded(ForwardedHeader.values())
                                .build()).build().start();
                H2Wire w = H2Wire.cleartext(lb.address().getPort())) {
            w.raw("PROXY TCP4 10.1.2.3 127.0.0.1 5555 80\r\n".getBytes(StandardCharsets.US_ASCII));
            w.preface();
            w.request(1, "GET", "/item/a", true);
            assertEquals("item a", w.response(1).text());
            w.request(3, "GET", "/item/b", true, "x-real-ip", "192.0.2.7");
            assertEquals("item b", w.response(3).text());
            var first = b.requests().get(0);
            assertEquals("10.1.2.3", first.header("X-Forwarded-For").orElseThrow());
            assertEquals("http", first.header("X-Forwarded-Proto").orElseThrow());
            assertEquals("for=10.1.2.3;proto=http;host=\"lbkit.test\"", first.header("Forwarded").orElseThrow());
            assertEquals("192.0.2.7", b.requests().get(1).header("X-Forwarded-For").orElseThrow());
        }
    }

    @Test
    void expectContinueAndTheBodyLimitApplyToStreams() throws Exception {
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2cBalancer(Http2Options.DEFAULT, pool)
                        .limits(ClientLimits.builder().maxBodySize(10).build()).build().start();
                H2Wire w = H2Wire.cleartext(lb.address().getPort())) {
            w.preface();
            w.request(1, "POST", "/item/up", false, "expect", "100-continue", "content-length", "5");
            H2Wire.Frame interim = w.await(f -> f.stream() == 1 && f.type() == H2Wire.HEADERS);
            assertEquals("100", interim.status());
            assertFalse(interim.endStream());
            w.data(1, "hello".getBytes(StandardCharsets.US_ASCII), true);
            assertEquals("item up", w.response(1).text());
            assertEquals("hello", b.requests().get(0).bodyText());
            assertTrue(b.requests().get(0).header("Expect").isEmpty());
            // Over maxBodySize by its length: 413 before any body, and the rest of the stream declined.
            w.request(3, "POST", "/item/big", false, "content-length", "100");
            assertEquals(413, w.response(3).status());
            H2Wire.Frame end = w.await(f -> f.stream() == 3 && f.type() == H2Wire.RST_STREAM);
            assertEquals(H2Wire.NO_ERROR, end.errorCode());
            w.request(5, "GET", "/item/after", true);
            assertEquals("item after", w.response(5).text());
            assertEquals(2, b.requestCount());
        }
    }

    @Test
    void anHttp2ConnectionCountsOnceAgainstMaxConnections() throws Exception {
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2cBalancer(Http2Options.DEFAULT, pool)
                        .limits(ClientLimits.builder().maxConnections(1).build()).build().start()) {
            try (NettyH2Client c = new NettyH2Client(lb.address().getPort())) {
                for (int i = 0; i < 5; i++) {
                    assertEquals("item " + i, c.get("/item/" + i).text());
                }
                assertEquals(1, lb.stats().openConnections());
                String refused = Fixtures.raw(lb, "GET /item/x HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(refused.startsWith("HTTP/1.1 503 "), refused);
            }
            dev.lbkit.testing.Await.until(() -> lb.stats().openConnections() == 0);
            assertEquals(200, Fixtures.get(lb, "/item/y").statusCode());
        }
    }

    @Test
    void anHttp2ConnectionOverMaxConnectionsGets503OnItsStreamsThenGoaway() throws Exception {
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2cBalancer(Http2Options.DEFAULT, pool)
                        .limits(ClientLimits.builder().maxConnections(1).build()).build().start();
                NettyH2Client first = new NettyH2Client(lb.address().getPort())) {
            assertEquals("item 0", first.get("/item/0").text());
            try (H2Wire w = H2Wire.cleartext(lb.address().getPort())) {
                w.preface();
                w.request(1, "GET", "/item/1", true);
                // Answered in HTTP/2, not with HTTP/1.1 bytes the client could not parse.
                H2Wire.Response refused = w.response(1);
                assertEquals(503, refused.status());
                assertTrue(refused.text().contains("503 Service Unavailable"), refused.text());
                H2Wire.Frame away = w.await(f -> f.type() == H2Wire.GOAWAY);
                assertEquals(H2Wire.NO_ERROR, away.errorCode());
                assertEquals(1, away.first31(), "the last stream processed");
                // A stream opened after the GOAWAY left is ignored (the client may retry it elsewhere), and
                // the connection closes without a reset that could destroy what came before.
                w.request(3, "GET", "/item/2", true);
                assertTrue(w.closes());
            }
            assertEquals(1, b.requestCount());
            // The connection that was in first goes on.
            assertEquals("item 4", first.get("/item/4").text());
            dev.lbkit.testing.Await.until(() -> lb.stats().openConnections() == 1);
        }
    }

    @Test
    void framesAClientSendsAfterTheGoawayNeverResetTheAnswersBeforeIt() throws Exception {
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2cBalancer(Http2Options.DEFAULT, pool)
                        .limits(ClientLimits.builder().maxConnections(1).build()).build().start();
                NettyH2Client first = new NettyH2Client(lb.address().getPort());
                H2Wire w = H2Wire.cleartext(lb.address().getPort())) {
            assertEquals("item 0", first.get("/item/0").text());
            w.preface();
            w.request(1, "GET", "/item/1", true);
            // The 503 and the GOAWAY arrive and wait unread while the client sends on: closed at once, the
            // proxy would answer these bytes with a reset, and the reset would destroy what waits unread.
            Thread.sleep(300);
            w.frame(H2Wire.PING, 0, 0, new byte[8]);
            w.request(3, "GET", "/item/2", true);
            Thread.sleep(200);
            assertEquals(503, w.response(1).status());
            assertEquals(1, w.await(f -> f.type() == H2Wire.GOAWAY).first31());
            assertTrue(w.closes());
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void aTlsConnectionOverMaxConnectionsGets503InTheProtocolAlpnChose(TlsProvider provider) throws Exception {
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = tlsBalancer(provider, Http2Options.DEFAULT, pool)
                        .limits(ClientLimits.builder().maxConnections(1).build()).build().start()) {
            HttpClient holder = client(HttpClient.Version.HTTP_2);
            HttpResponse<String> first = holder.send(HttpRequest.newBuilder(https(lb, "/item/0")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals("item 0", first.body());
            assertEquals(HttpClient.Version.HTTP_2, first.version());
            for (HttpClient.Version v : HttpClient.Version.values()) {
                HttpResponse<String> r = client(v).send(HttpRequest.newBuilder(https(lb, "/item/x")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(503, r.statusCode(), v.toString());
                assertEquals(v, r.version());
            }
            assertEquals(1, b.requestCount());
            assertEquals("item 1", holder.send(HttpRequest.newBuilder(https(lb, "/item/1")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
        }
    }

    @Test
    void aRefusedConnectionThatNeverChoosesItsProtocolClosesAtTheHeaderTimeout() throws Exception {
        try (TestBackend b = items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2cBalancer(Http2Options.DEFAULT, pool)
                        .limits(ClientLimits.builder().maxConnections(1).build())
                        .timeouts(ProxyTimeouts.builder().clientHeader(Duration.ofMillis(300)).build()).build().start();
                NettyH2Client first = new NettyH2Client(lb.address().getPort());
                java.net.Socket silent = new java.net.Socket("127.0.0.1", lb.address().getPort())) {
            assertEquals("item 0", first.get("/item/0").text());
            silent.setSoTimeout(5000);
            long start = System.nanoTime();
            // The first 5 bytes of the preface: no choice yet, and no HTTP/1.1 503 either.
            silent.getOutputStream().write(H2Wire.PREFACE, 0, 5);
            assertEquals(-1, silent.getInputStream().read());
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 250 && ms < 4000, ms + " ms");
            // HTTP/2 chosen, but no stream opened: closed at the same timeout, after GOAWAY; a PING does not
            // keep a refused connection (the keep-alive timeout, 75 s here, is not its timeout).
            try (H2Wire w = H2Wire.cleartext(lb.address().getPort())) {
                long t0 = System.nanoTime();
                w.preface();
                Thread.sleep(150);
                w.frame(H2Wire.PING, 0, 0, new byte[8]);
                assertEquals(H2Wire.NO_ERROR, w.await(f -> f.type() == H2Wire.GOAWAY).errorCode());
                assertTrue(w.closes());
                long waited = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(waited >= 250 && waited < 4000, waited + " ms");
            }
        }
    }

    @Test
    void routeLimitsCountEachStreamAsARequestOfItsClient() throws Exception {
        Script slow = Script.builder().body("slow").delay(Duration.ofMillis(500)).build();
        try (TestBackend b = TestBackend.start(slow); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().eventLoops(1)
                        .listen(Listener.builder(Fixtures.loopback()).http2(Http2Options.DEFAULT).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).limit(ConcurrencyLimit.of(1).build())
                                .build()).build().start();
                H2Wire w = H2Wire.cleartext(lb.address().getPort())) {
            w.preface();
            w.request(1, "GET", "/first", true);
            dev.lbkit.testing.Await.until(() -> b.requestCount() == 1);
            // limit_conn: the same client's second stream while the first is served.
            w.request(3, "GET", "/second", true);
            assertEquals(503, w.response(3).status());
            assertEquals("slow", w.response(1).text());
            w.request(5, "GET", "/third", true);
            assertEquals("slow", w.response(5).text());
            assertEquals(1, lb.stats().route("/").limitRejected());
        }
    }
}
