package dev.lbkit.l7;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/** The lb-l7 README's request-queue, redirect, TLS and HTTP/2 examples, on ephemeral ports and test files. */
class ReadmeExamplesTest {

    @Test
    void theRequestQueueExample() throws Exception {
        try (TestBackend b1 = TestBackend.start(Script.ok("one"));
                TestBackend b2 = TestBackend.start(Script.ok("two"))) {
            UpstreamPool backend = UpstreamPool.builder()
                    .name("backend")
                    .add(Upstream.builder("127.0.0.1", b1.port()).maxConnections(10).build())
                    .add(Upstream.builder("127.0.0.1", b2.port()).maxConnections(10).build())
                    .build();
            HttpBalancer lb = HttpBalancer.builder()
                    .listen(new InetSocketAddress("127.0.0.1", 0))
                    .route(Route.builder("/")
                            .group(UpstreamGroup.builder(backend)
                                    .queue(new RequestQueue(100, Duration.ofSeconds(5)))
                                    .build())
                            .build())
                    .build()
                    .start();
            try {
                assertEquals(200, Fixtures.get(lb, "/").statusCode());
                QueueStats q = lb.stats().queue("backend");
                assertEquals(QueueStats.EMPTY, q, "nobody had to wait");
            } finally {
                lb.stop(Duration.ofSeconds(1));
                backend.close();
            }
        }
    }

    @Test
    void theRedirectExampleForTheClientsHost() throws Exception {
        java.util.Map<String, Script> answers = java.util.Map.of(
                "/two/a", Script.builder().status(302).header("Location", "http://backend/two/x").build(),
                "/two/b", Script.builder().status(302).header("Location", "http://www.example.com/two/y").build(),
                "/two/c", Script.builder().status(302).header("Location", "https://api.example.com/two/z").build());
        try (TestBackend b = TestBackend.start(Fixtures.loopback(), r -> answers.get(r.target()));
                UpstreamPool backend = UpstreamPool.builder().name("backend").add(Fixtures.upstream(b.port())).build()) {
            Route route = Route.builder("/one/").group(UpstreamGroup.of(backend)).rewritePrefix("/two/")
                    .redirect(RedirectRewrite.DEFAULT)                                  // http://backend/two/ -> /one/
                    .redirect("http://www.example.com/two/", "http://www.example.com/one/")
                    // or, for any host and either scheme:
                    .redirect(RedirectRewrite.regexIgnoreCase("^(https?://[^/]+)/two/(.*)$", "$1/one/$2"))
                    .build();
            try (HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).route(route).build().start()) {
                assertEquals("/one/x", location(lb, "/one/a"));
                assertEquals("http://www.example.com/one/y", location(lb, "/one/b"));
                assertEquals("https://api.example.com/one/z", location(lb, "/one/c"));
            }
        }
    }

    private static String location(HttpBalancer lb, String path) throws Exception {
        String got = Fixtures.raw(lb, "GET " + path + " HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n");
        int at = got.indexOf("\r\nLocation: ");
        return got.substring(at + 12, got.indexOf("\r\n", at + 2));
    }

    @Test
    void theTlsExample() throws Exception {
        TestCertificate cert = TestCertificate.create();
        try (TestBackend b = TestBackend.start(Script.ok("secure"));
                UpstreamPool inner = UpstreamPool.of(Fixtures.upstream(b.port()));
                // The TLS upstream the example's "localhost:9443" stands for.
                HttpBalancer upstream = HttpBalancer.builder().listen(Fixtures.loopback(),
                        TlsProvider.JDK.serverContext(cert.keys)).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(inner)).build()).build().start()) {
            char[] password = "changeit".toCharArray();
            KeyStore server = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(Path.of(cert.keyStore.toString()))) {
                server.load(in, password);
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(server, password);
            KeyStore cas = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(Path.of(cert.trustStore.toString()))) {
                cas.load(in, password);
            }
            TrustManagerFactory issuers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            issuers.init(cas);

            UpstreamPool secure = UpstreamPool.of(Upstream.of("localhost", upstream.address().getPort()));
            HttpBalancer lb = HttpBalancer.builder()
                    .listen(new InetSocketAddress("127.0.0.1", 0), TlsProvider.AUTO.serverContext(keys))
                    .route(Route.builder("/").group(UpstreamGroup.builder(secure)
                            .tls(TlsOptions.builder()
                                    .trustManager(issuers)
                                    .provider(TlsProvider.OPENSSL)
                                    .build())
                            .build()).build())
                    .build()
                    .start();
            try {
                SSLContext client = SSLContext.getInstance("TLS");
                client.init(null, cert.trust.getTrustManagers(), null);
                HttpResponse<String> r = HttpClient.newBuilder().sslContext(client).build().send(
                        HttpRequest.newBuilder(URI.create("https://localhost:" + lb.address().getPort() + "/"))
                                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("secure", r.body());
            } finally {
                lb.stop(Duration.ofSeconds(1));
                secure.close();
            }
        } finally {
            cert.delete();
        }
    }

    @Test
    void theHttp2Example() throws Exception {
        TestCertificate cert = TestCertificate.create();
        try (TestBackend b = TestBackend.start(Script.ok("over h2"))) {
            KeyManagerFactory keys = cert.keys;
            SslContext tls = SslContextBuilder.forServer(keys)
                    .applicationProtocolConfig(Http2Options.ALPN)
                    .build();
            Http2Options h2 = Http2Options.builder()
                    .maxConcurrentStreams(128)
                    .initialWindowSize(65_535)
                    .build();
            UpstreamPool backend = UpstreamPool.of(Upstream.of("127.0.0.1", b.port()));
            HttpBalancer lb = HttpBalancer.builder()
                    .listen(Listener.builder(new InetSocketAddress("127.0.0.1", 0)).tls(tls).http2(h2).build())
                    .listen(Listener.builder(new InetSocketAddress("127.0.0.1", 0)).http2(Http2Options.DEFAULT).build())
                    .route(Route.builder("/").group(UpstreamGroup.of(backend)).build())
                    .build()
                    .start();
            try {
                SSLContext client = SSLContext.getInstance("TLS");
                client.init(null, cert.trust.getTrustManagers(), null);
                HttpResponse<String> r = HttpClient.newBuilder().sslContext(client).version(HttpClient.Version.HTTP_2)
                        .build().send(HttpRequest.newBuilder(URI.create("https://localhost:"
                                + lb.addresses().get(0).getPort() + "/")).timeout(Duration.ofSeconds(10)).build(),
                                HttpResponse.BodyHandlers.ofString());
                assertEquals(HttpClient.Version.HTTP_2, r.version());
                assertEquals("over h2", r.body());
                try (NettyH2Client h2c = new NettyH2Client(lb.addresses().get(1).getPort())) {
                    assertEquals("over h2", h2c.get("/").text());
                }
                assertEquals(200, Fixtures.CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + lb.addresses().get(1).getPort() + "/")).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode());
            } finally {
                lb.stop(Duration.ofSeconds(1));
                backend.close();
            }
        } finally {
            cert.delete();
        }
    }
}
