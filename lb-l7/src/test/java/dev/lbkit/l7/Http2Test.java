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
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
    static void certificate() throws Exception {
        TestCertificate cert = TestCertificate.create();
        keys = cert.keys;
        trusting = SSLContext.getInstance("TLS");
        trusting.init(null, cert.trust.getTrustManagers(), null);
        cert.delete();
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
}
