package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TLS on listeners and to upstreams, with a self-signed certificate for localhost and 127.0.0.1. */
class TlsTest {
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static KeyManagerFactory keys;
    private static TrustManagerFactory trust;

    @BeforeAll
    static void certificate() throws Exception {
        Path dir = Files.createTempDirectory("lbkit-tls");
        Path ks = dir.resolve("server.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit",
                "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1").redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + new String(p.getInputStream().readAllBytes()));
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, PASSWORD);
        }
        keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, PASSWORD);
        KeyStore trustStore = KeyStore.getInstance("PKCS12");
        trustStore.load(null, null);
        trustStore.setCertificateEntry("server", store.getCertificate("server"));
        trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trustStore);
        Files.delete(ks);
        Files.delete(dir);
    }

    private static SslContext server() throws Exception {
        return SslContextBuilder.forServer(keys).build();
    }

    private static HttpClient trustingClient() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, trust.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Test
    void tlsListener() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("over tls"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback(), server()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool))
                                .forwarded(ForwardedHeader.X_FORWARDED_PROTO).build()).build().start()) {
            HttpResponse<String> r = trustingClient().send(HttpRequest.newBuilder(
                    URI.create("https://localhost:" + lb.address().getPort() + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("over tls", r.body());
            assertEquals("https", b.requests().get(0).header("X-Forwarded-Proto").orElseThrow());
        }
    }

    @Test
    void tlsToUpstreamsVerifiesCertificatesAndNames() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("behind tls"));
                UpstreamPool inner = UpstreamPool.of(upstream(b.port()));
                HttpBalancer tlsUpstream = HttpBalancer.builder().listen(Fixtures.loopback(), server()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(inner)).build()).build().start();
                UpstreamPool pool = UpstreamPool.of(upstream(tlsUpstream.address().getPort()));
                UpstreamPool sniPool = UpstreamPool.of(dev.lbkit.api.Upstream.of("localhost",
                        tlsUpstream.address().getPort()))) {
            SslContext trusting = SslContextBuilder.forClient().trustManager(trust).build();
            SslContext jdkDefaults = SslContextBuilder.forClient().build();
            HttpBalancer ok = proxy(UpstreamGroup.builder(pool).tls(TlsOptions.builder(trusting).build()).build());
            HttpBalancer sni = proxy(UpstreamGroup.builder(pool).tls(TlsOptions.builder(trusting)
                    .serverName("localhost").build()).build());
            HttpBalancer wrongName = proxy(UpstreamGroup.builder(pool).tls(TlsOptions.builder(trusting)
                    .serverName("other.example").build()).build());
            HttpBalancer untrusted = proxy(UpstreamGroup.builder(pool).tls(TlsOptions.builder(jdkDefaults).build())
                    .build());
            HttpBalancer byHostName = proxy(UpstreamGroup.builder(sniPool).tls(TlsOptions.builder(trusting).build())
                    .build());
            try {
                assertEquals("behind tls", Fixtures.get(ok, "/").body());
                assertEquals("behind tls", Fixtures.get(sni, "/").body());
                assertEquals("behind tls", Fixtures.get(byHostName, "/").body());
                assertEquals(502, Fixtures.get(wrongName, "/").statusCode());
                assertEquals(502, Fixtures.get(untrusted, "/").statusCode());
            } finally {
                for (HttpBalancer x : new HttpBalancer[] {ok, sni, wrongName, untrusted, byHostName}) {
                    x.close();
                }
            }
        }
    }

    private static HttpBalancer proxy(UpstreamGroup group) {
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                .route(Route.builder("/").group(group).build()).build().start();
    }
}
