package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.ChildJvm;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TLS on listeners and to upstreams, with a self-signed certificate for localhost and 127.0.0.1, on both
 * TLS implementations: the JDK's and OpenSSL (netty-tcnative's BoringSSL, on lb-l7's test class path).
 */
class TlsTest {
    private static final String SNI_NAME = TestCertificate.SNI_NAME;
    private static KeyManagerFactory keys;
    private static TrustManagerFactory trust;
    private static SSLContext jdkServer;

    @BeforeAll
    static void certificate() throws Exception {
        TestCertificate cert = TestCertificate.create();
        keys = cert.keys;
        trust = cert.trust;
        jdkServer = SSLContext.getInstance("TLS");
        jdkServer.init(keys.getKeyManagers(), null, null);
        cert.delete();
    }

    /** Both providers for the side under test. */
    static Stream<TlsProvider> providers() {
        return Stream.of(TlsProvider.JDK, TlsProvider.OPENSSL);
    }

    /** Every pairing of the TLS upstream's (server) provider with the proxy's (client) provider. */
    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(TlsProvider.JDK, TlsProvider.JDK),
                Arguments.of(TlsProvider.JDK, TlsProvider.OPENSSL),
                Arguments.of(TlsProvider.OPENSSL, TlsProvider.JDK),
                Arguments.of(TlsProvider.OPENSSL, TlsProvider.OPENSSL));
    }

    private static SslContext server(TlsProvider provider) {
        SslContext ctx = provider.serverContext(keys);
        assertEquals(provider, TlsProvider.of(ctx));
        return ctx;
    }

    private static HttpClient trustingClient() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, trust.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Test
    void openSslIsOnTheTestClassPathAndAutoPicksIt() {
        assertTrue(OpenSsl.isAvailable(), () -> "netty-tcnative not loaded: " + OpenSsl.unavailabilityCause());
        assertEquals(TlsProvider.OPENSSL, TlsOptions.builder().build().provider());
        assertEquals(TlsProvider.OPENSSL, TlsProvider.of(TlsProvider.AUTO.serverContext(keys)));
        // A context the caller builds with Netty's defaults picks the same way.
        assertEquals(TlsProvider.OPENSSL, TlsOptions.builder(contextWithNettyDefaults()).build().provider());
        assertEquals(TlsProvider.JDK, TlsOptions.builder().provider(TlsProvider.JDK).build().provider());
    }

    private static SslContext contextWithNettyDefaults() {
        try {
            return SslContextBuilder.forClient().trustManager(trust).build();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void withoutOpenSslAutoFallsBackToTheJdkAndForcingOpenSslFailsClearly() throws Exception {
        try (ChildJvm child = ChildJvm.start(NoOpenSsl.class)) {
            child.awaitLine("auto JDK");
            child.awaitLine("openssl refused");
            child.awaitLine("options refused");
        }
    }

    @Test
    void optionsGivenAContextTakeNoTrustOrProvider() {
        SslContext ctx = contextWithNettyDefaults();
        assertThrows(IllegalStateException.class, () -> TlsOptions.builder(ctx).provider(TlsProvider.JDK).build());
        assertThrows(IllegalStateException.class, () -> TlsOptions.builder(ctx).trustManager(trust).build());
        assertThrows(IllegalArgumentException.class, () -> TlsOptions.builder(server(TlsProvider.JDK)));
    }

    @ParameterizedTest
    @MethodSource("providers")
    void tlsListener(TlsProvider provider) throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("over tls"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback(), server(provider)).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool))
                                .forwarded(ForwardedHeader.X_FORWARDED_PROTO).build()).build().start()) {
            HttpClient client = trustingClient();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                        URI.create("https://localhost:" + lb.address().getPort() + "/")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("over tls", r.body());
            }
            assertEquals("https", b.requests().get(0).header("X-Forwarded-Proto").orElseThrow());
        }
    }

    @ParameterizedTest(name = "upstream {0}, proxy {1}")
    @MethodSource("pairs")
    void tlsToUpstreamsVerifiesCertificatesAndNames(TlsProvider upstreamSide, TlsProvider proxySide)
            throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("behind tls"));
                UpstreamPool inner = UpstreamPool.of(upstream(b.port()));
                HttpBalancer tlsUpstream = HttpBalancer.builder().listen(Fixtures.loopback(), server(upstreamSide))
                        .eventLoops(1).route(Route.builder("/").group(UpstreamGroup.of(inner)).build()).build().start();
                UpstreamPool pool = UpstreamPool.of(upstream(tlsUpstream.address().getPort()));
                UpstreamPool sniPool = UpstreamPool.of(dev.lbkit.api.Upstream.of("localhost",
                        tlsUpstream.address().getPort()))) {
            TlsOptions trusting = TlsOptions.builder().trustManager(trust).provider(proxySide).build();
            assertEquals(proxySide, trusting.provider());
            HttpBalancer ok = proxy(UpstreamGroup.builder(pool).tls(trusting).build());
            HttpBalancer sni = proxy(UpstreamGroup.builder(pool).tls(TlsOptions.builder().trustManager(trust)
                    .provider(proxySide).serverName("localhost").build()).build());
            HttpBalancer wrongName = proxy(UpstreamGroup.builder(pool).tls(TlsOptions.builder().trustManager(trust)
                    .provider(proxySide).serverName("other.example").build()).build());
            HttpBalancer unchecked = proxy(UpstreamGroup.builder(pool).tls(TlsOptions.builder().trustManager(trust)
                    .provider(proxySide).serverName("other.example").verifyHostname(false).build()).build());
            // The JDK's default trust store does not know the self-signed certificate.
            HttpBalancer untrusted = proxy(UpstreamGroup.builder(pool).tls(TlsOptions.builder().provider(proxySide)
                    .build()).build());
            HttpBalancer byHostName = proxy(UpstreamGroup.builder(sniPool).tls(trusting).build());
            try {
                assertEquals("behind tls", Fixtures.get(ok, "/").body());
                assertEquals("behind tls", Fixtures.get(ok, "/").body());
                assertEquals("behind tls", Fixtures.get(sni, "/").body());
                assertEquals("behind tls", Fixtures.get(byHostName, "/").body());
                assertEquals("behind tls", Fixtures.get(unchecked, "/").body());
                assertEquals(502, Fixtures.get(wrongName, "/").statusCode());
                assertEquals(502, Fixtures.get(untrusted, "/").statusCode());
            } finally {
                for (HttpBalancer x : new HttpBalancer[] {ok, sni, wrongName, unchecked, untrusted, byHostName}) {
                    x.close();
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void sniNamesTheUpstreamOrTheConfiguredName(TlsProvider provider) throws Exception {
        try (SniRecordingServer s = new SniRecordingServer();
                UpstreamPool byIp = UpstreamPool.of(upstream(s.port()));
                UpstreamPool byName = UpstreamPool.of(dev.lbkit.api.Upstream.of("localhost", s.port()))) {
            TlsOptions.Builder base = TlsOptions.builder().trustManager(trust).provider(provider);
            HttpBalancer ip = proxy(UpstreamGroup.builder(byIp).tls(base.build()).build());
            HttpBalancer name = proxy(UpstreamGroup.builder(byName).tls(base.build()).build());
            HttpBalancer fixed = proxy(UpstreamGroup.builder(byIp).tls(TlsOptions.builder().trustManager(trust)
                    .provider(provider).serverName(SNI_NAME).build()).build());
            // No SNI, and the certificate is still checked against the name.
            HttpBalancer off = proxy(UpstreamGroup.builder(byIp).tls(TlsOptions.builder().trustManager(trust)
                    .provider(provider).serverName(SNI_NAME).sni(false).build()).build());
            HttpBalancer offWrongName = proxy(UpstreamGroup.builder(byIp).tls(TlsOptions.builder().trustManager(trust)
                    .provider(provider).serverName("other.example").sni(false).build()).build());
            HttpBalancer offByIp = proxy(UpstreamGroup.builder(byIp).tls(TlsOptions.builder().trustManager(trust)
                    .provider(provider).sni(false).build()).build());
            try {
                List<HttpBalancer> all = List.of(ip, name, fixed, off);
                for (int i = 0; i < all.size(); i++) {
                    assertEquals("ok", Fixtures.get(all.get(i), "/").body(), "proxy " + i + ", SNI so far " + s.names());
                }
                // Refused after the handshake, before a byte of the request left.
                assertEquals(502, Fixtures.get(offWrongName, "/").statusCode());
                assertEquals("ok", Fixtures.get(offByIp, "/").body());
                // No SNI for an IP address or a dotless name (RFC 6066 §3); the configured name when set.
                Await.until(() -> s.names().size() == 6);
                assertEquals(List.of("-", "-", SNI_NAME, "-", "-", "-"), s.names());
                assertEquals(5, s.requests());
            } finally {
                for (HttpBalancer x : List.of(ip, name, fixed, off, offWrongName, offByIp)) {
                    x.close();
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void aClientStalledMidHandshakeIsClosedAfterTheClientHeaderTimeout(TlsProvider provider) throws Exception {
        // As nginx: client_header_timeout bounds the TLS handshake too (Netty's own default is 10 s).
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback(), server(provider)).eventLoops(1)
                        .timeouts(ProxyTimeouts.builder().clientHeader(Duration.ofMillis(300)).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), lb.address().getPort())) {
            s.setSoTimeout(20_000);
            // The first bytes of a ClientHello record, the rest never sent.
            s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0x80, 0x01});
            long start = System.nanoTime();
            InputStream in = s.getInputStream();
            while (in.read() >= 0) {
                // Whatever alert comes, until the proxy closes.
            }
            long millis = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis < 5000, "closed after " + millis + " ms");
            assertTrue(b.requests().isEmpty());
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void aHandshakeThatNeverEndsTimesOutAfterTheConnectTimeout(TlsProvider provider) throws Exception {
        // The kernel completes the TCP handshake from the backlog; nobody ever answers the ClientHello.
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 8, InetAddress.getLoopbackAddress());
                UpstreamPool pool = UpstreamPool.of(upstream(silent.getLocalPort()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .timeouts(ProxyTimeouts.builder().connect(Duration.ofMillis(300)).read(Duration.ofSeconds(5))
                                .build())
                        .route(Route.builder("/").group(UpstreamGroup.builder(pool).tls(TlsOptions.builder()
                                .trustManager(trust).provider(provider).build()).build()).build()).build().start()) {
            long start = System.nanoTime();
            HttpResponse<String> r = Fixtures.get(lb, "/");
            long millis = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(504, r.statusCode());
            assertTrue(millis >= 250 && millis < 4000, "answered after " + millis + " ms");
            assertEquals(1, lb.stats().upstream(pool.name(), "127.0.0.1:" + silent.getLocalPort()).failures());
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void aPostIsRetriedAfterAHandshakeTimeout(TlsProvider provider) throws Exception {
        // Nothing was sent to an upstream whose handshake outlasted the connect timeout: as nginx, even a
        // POST goes to the next one; the last one's timeout gives 504.
        RecordingPolicy rec = new RecordingPolicy();
        try (java.net.ServerSocket a = new java.net.ServerSocket(0, 8, InetAddress.getLoopbackAddress());
                java.net.ServerSocket b = new java.net.ServerSocket(0, 8, InetAddress.getLoopbackAddress());
                UpstreamPool pool = UpstreamPool.builder().healthPolicy(rec).add(upstream(a.getLocalPort()))
                        .add(upstream(b.getLocalPort())).build();
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .timeouts(ProxyTimeouts.builder().connect(Duration.ofMillis(300)).read(Duration.ofSeconds(5))
                                .build())
                        .route(Route.builder("/").group(UpstreamGroup.builder(pool).tls(TlsOptions.builder()
                                .trustManager(trust).provider(provider).build()).build()).build()).build().start()) {
            HttpResponse<String> r = Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/p"))
                    .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(504, r.statusCode());
            // Both tried, each blamed with a timeout (max_fails).
            assertEquals(2, rec.outcomes.size(), rec.outcomes.toString());
            assertEquals(java.util.Set.of(a.getLocalPort() + " TIMEOUT", b.getLocalPort() + " TIMEOUT"),
                    java.util.Set.copyOf(rec.outcomes));
        }
    }

    /**
     * A TLS client still uploading what the proxy refused reads the answer and then the end of the TLS
     * session (close_notify) before the end of the connection: the proxy lingers as on a plain listener, but
     * says it is done in TLS first, as nginx does, so that the client can tell the end from a truncation.
     * What the client still sends meanwhile is dropped undecrypted.
     */
    @ParameterizedTest
    @MethodSource("providers")
    void aRefusedTlsClientGetsCloseNotifyBeforeTheLingeringEnds(TlsProvider provider) throws Exception {
        int size = 4 * 1024 * 1024;
        try (TestBackend b = TestBackend.start(Script.ok("x"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback(), server(provider)).eventLoops(1)
                        .limits(ClientLimits.builder().maxBodySize(1000).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, trust.getTrustManagers(), null);
            try (EngineClient c = new EngineClient(ctx, lb.address().getPort())) {
                c.write(("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] piece = new byte[64 * 1024];
                for (int sent = 0; sent < size; sent += piece.length) {
                    c.write(piece);
                }
                String got = c.readUntilEnd();
                assertTrue(got.startsWith("HTTP/1.1 413 ") && got.endsWith("</html>\n"), got);
                assertTrue(c.closeNotify, "the connection ended without close_notify");
                assertEquals(-1, c.socket.getInputStream().read(), "the connection ends after close_notify");
            }
            assertEquals(0, b.requestCount());
            Await.until(() -> lb.stats().openConnections() == 0);
        }
    }

    /**
     * The client side of a TLS connection on the JDK's SSLEngine over a plain socket, blocking. Unlike an
     * SSLSocket, which by default takes the end of the connection for close_notify, it tells whether the
     * server ended the TLS session before the connection.
     */
    private static final class EngineClient implements AutoCloseable {
        final Socket socket;
        private final SSLEngine engine;
        private final ByteBuffer netIn;
        private final ByteBuffer appIn;
        /** The server's close_notify arrived. */
        boolean closeNotify;

        EngineClient(SSLContext ctx, int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(10_000);
            engine = ctx.createSSLEngine("localhost", port);
            engine.setUseClientMode(true);
            netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
            engine.beginHandshake();
            for (HandshakeStatus h = engine.getHandshakeStatus(); h != HandshakeStatus.NOT_HANDSHAKING
                    && h != HandshakeStatus.FINISHED; h = engine.getHandshakeStatus()) {
                if (h == HandshakeStatus.NEED_WRAP) {
                    write(new byte[0]);
                } else if (h == HandshakeStatus.NEED_TASK) {
                    engine.getDelegatedTask().run();
                } else if (!unwrap()) {
                    throw new IOException("closed during the handshake");
                }
            }
        }

        void write(byte[] bytes) throws IOException {
            ByteBuffer app = ByteBuffer.wrap(bytes);
            ByteBuffer net = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            do {
                net.clear();
                SSLEngineResult r = engine.wrap(app, net);
                assertEquals(SSLEngineResult.Status.OK, r.getStatus());
                socket.getOutputStream().write(net.array(), 0, net.position());
            } while (app.hasRemaining());
        }

        /** Unwraps one record, reading as needed; false at close_notify or at the end of the connection. */
        private boolean unwrap() throws IOException {
            for (;;) {
                netIn.flip();
                SSLEngineResult r = engine.unwrap(netIn, appIn);
                netIn.compact();
                if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                    closeNotify = true;
                    return false;
                }
                if (r.getStatus() == SSLEngineResult.Status.OK) {
                    return true;
                }
                assertEquals(SSLEngineResult.Status.BUFFER_UNDERFLOW, r.getStatus());
                int n = socket.getInputStream().read(netIn.array(), netIn.position(), netIn.remaining());
                if (n < 0) {
                    return false;
                }
                netIn.position(netIn.position() + n);
            }
        }

        /** The application data the server sends until it ends the TLS session or the connection. */
        String readUntilEnd() throws IOException {
            while (unwrap()) {
                Runnable task;
                while ((task = engine.getDelegatedTask()) != null) {
                    task.run();
                }
            }
            return new String(appIn.array(), 0, appIn.position(), StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static HttpBalancer proxy(UpstreamGroup group) {
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                .timeouts(ProxyTimeouts.builder().connect(Duration.ofSeconds(5)).read(Duration.ofSeconds(5)).build())
                .route(Route.builder("/").group(group).build()).build().start();
    }

    /**
     * A JDK TLS server that records the SNI host name of each connection ("-" for none) and answers
     * one request per connection with "ok".
     */
    private static final class SniRecordingServer implements AutoCloseable {
        private final SSLServerSocket socket;
        private final List<String> names = new CopyOnWriteArrayList<>();
        private final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        private final Thread thread;

        SniRecordingServer() throws IOException {
            socket = (SSLServerSocket) jdkServer.getServerSocketFactory().createServerSocket(0, 16,
                    InetAddress.getLoopbackAddress());
            thread = new Thread(this::serve, "sni-recording-server");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        List<String> names() {
            return List.copyOf(names);
        }

        /** Connections that sent a whole request head. */
        int requests() {
            return requests.get();
        }

        private void serve() {
            while (!socket.isClosed()) {
                try (SSLSocket s = (SSLSocket) socket.accept()) {
                    s.setSoTimeout(5000);
                    s.startHandshake();
                    List<SNIServerName> requested = ((ExtendedSSLSession) s.getSession()).getRequestedServerNames();
                    names.add(requested.isEmpty() ? "-" : ((SNIHostName) requested.get(0)).getAsciiName());
                    InputStream in = s.getInputStream();
                    StringBuilder head = new StringBuilder();
                    int c;
                    while (!head.toString().endsWith("\r\n\r\n") && (c = in.read()) >= 0) {
                        head.append((char) c);
                    }
                    if (!head.toString().endsWith("\r\n\r\n")) {
                        continue;
                    }
                    requests.incrementAndGet();
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                } catch (IOException e) {
                    if (socket.isClosed()) {
                        return;
                    }
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Run in a JVM where OpenSSL is switched off: prints what AUTO and a forced OPENSSL do. */
    static final class NoOpenSsl {
        private NoOpenSsl() {}

        public static void main(String[] args) {
            System.setProperty("io.netty.handler.ssl.noOpenSsl", "true");
            System.out.println("auto " + TlsOptions.builder().build().provider());
            System.out.println(refused(() -> TlsProvider.OPENSSL.sslProvider()) ? "openssl refused" : "openssl taken");
            System.out.println(refused(() -> TlsOptions.builder().provider(TlsProvider.OPENSSL).build())
                    ? "options refused" : "options taken");
        }

        private static boolean refused(Runnable r) {
            try {
                r.run();
                return false;
            } catch (IllegalStateException e) {
                String m = Optional.ofNullable(e.getMessage()).orElse("");
                System.out.println(m);
                return m.contains("OPENSSL is not available") && m.contains("netty-tcnative-boringssl-static")
                        && m.contains("noOpenSsl");
            }
        }
    }
}
