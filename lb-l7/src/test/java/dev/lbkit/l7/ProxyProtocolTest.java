package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.loopback;
import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ProbeResult;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.ProxyHeaderBytes;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * The PROXY protocol on lb-l7: required headers on listeners that accept it (nginx {@code listen …
 * proxy_protocol}), headers sent to upstream groups ({@code send-proxy}, {@code send-proxy-v2}) and by
 * their health probes. Raw sockets on both sides, so the exact bytes are seen.
 */
class ProxyProtocolTest {
    private static final String GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    private static final String GET_CLOSE = "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    private static HttpBalancer accepting(TestBackend backend, ProxyTimeouts timeouts) {
        UpstreamPool pool = UpstreamPool.builder().add(upstream(backend.port())).build();
        return HttpBalancer.builder().listen(Listener.builder(loopback()).acceptProxyProtocol(true).build())
                .eventLoops(1).timeouts(timeouts).route(Route.builder("/").group(UpstreamGroup.of(pool))
                        .forwarded(ForwardedHeader.X_FORWARDED_FOR, ForwardedHeader.FORWARDED).build())
                .build().start();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A v2 PROXY (or, with null addresses, LOCAL) header over TCP. */
    private static byte[] v2(InetAddress src, InetAddress dst, int sport, int dport) {
        return src == null ? ProxyHeaderBytes.v2Local()
                : ProxyHeaderBytes.v2(true, new InetSocketAddress(src, sport), new InetSocketAddress(dst, dport));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return ProxyHeaderBytes.concat(a, b);
    }

    /** Writes {@code bytes} on a new connection to {@code lb}, returns all it answers until it closes. */
    private static String exchange(HttpBalancer lb, byte[] bytes) throws IOException {
        try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            return Fixtures.readAll(s.getInputStream());
        }
    }

    private static RecordedRequest lastRequest(TestBackend backend) {
        List<RecordedRequest> r = backend.requests();
        return r.get(r.size() - 1);
    }

    /**
     * The PROXY header's client is the key of everything keyed by client address: a route's concurrency
     * limit counts two connections naming one client as one client, whatever their socket addresses.
     */
    @Test
    void aConcurrencyLimitKeyedByClientAddressFollowsTheProxyHeadersClient() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.builder().body("slow").delay(Duration.ofMillis(800)).build());
                UpstreamPool pool = UpstreamPool.builder().add(upstream(backend.port())).build();
                HttpBalancer lb = HttpBalancer.builder()
                        .listen(Listener.builder(loopback()).acceptProxyProtocol(true).build()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).limit(ConcurrencyLimit.of(1).build())
                                .build()).build().start();
                Socket one = new Socket("127.0.0.1", lb.address().getPort());
                Socket oneAgain = new Socket("127.0.0.1", lb.address().getPort());
                Socket other = new Socket("127.0.0.1", lb.address().getPort())) {
            for (Socket s : List.of(one, oneAgain, other)) {
                s.setSoTimeout(10_000);
            }
            one.getOutputStream().write(ascii("PROXY TCP4 198.51.100.1 127.0.0.1 1111 80\r\n" + GET));
            Await.until(() -> backend.requestCount() == 1);
            oneAgain.getOutputStream().write(ascii("PROXY TCP4 198.51.100.1 127.0.0.1 2222 80\r\n" + GET));
            assertTrue(Fixtures.readResponse(oneAgain.getInputStream()).startsWith("HTTP/1.1 503 "),
                    "the same PROXY client, a request in flight already");
            other.getOutputStream().write(ascii("PROXY TCP4 198.51.100.2 127.0.0.1 3333 80\r\n" + GET));
            assertTrue(Fixtures.readResponse(other.getInputStream()).startsWith("HTTP/1.1 200 "), "another client");
            assertTrue(Fixtures.readResponse(one.getInputStream()).startsWith("HTTP/1.1 200 "));
        }
    }

    @Test
    void v1HeaderNamesTheClientForForwardingHeaders() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = accepting(backend, ProxyTimeouts.DEFAULT)) {
            String answer = exchange(lb, ascii("PROXY TCP4 203.0.113.7 198.51.100.1 5555 80\r\n" + GET_CLOSE));
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            RecordedRequest r = lastRequest(backend);
            assertEquals("203.0.113.7", r.header("X-Forwarded-For").orElseThrow());
            assertTrue(r.header("Forwarded").orElseThrow().startsWith("for=203.0.113.7;"), r.headers().toString());
            assertEquals(0, lb.stats().malformedProxyHeaders());
        }
    }

    @Test
    void v2HeaderNamesAnIpv6Client() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = accepting(backend, ProxyTimeouts.DEFAULT)) {
            byte[] header = v2(InetAddress.getByName("2001:db8::7"), InetAddress.getByName("2001:db8::1"), 4444, 443);
            String answer = exchange(lb, concat(header, ascii(GET_CLOSE)));
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            RecordedRequest r = lastRequest(backend);
            assertEquals("2001:db8::7", r.header("X-Forwarded-For").orElseThrow());
            assertTrue(r.header("Forwarded").orElseThrow().startsWith("for=\"[2001:db8::7]\";"));
        }
    }

    @Test
    void localAndUnknownKeepTheSocketsAddress() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = accepting(backend, ProxyTimeouts.DEFAULT)) {
            assertTrue(exchange(lb, concat(v2(null, null, 0, 0), ascii(GET_CLOSE))).startsWith("HTTP/1.1 200"));
            assertEquals("127.0.0.1", lastRequest(backend).header("X-Forwarded-For").orElseThrow());
            assertTrue(exchange(lb, ascii("PROXY UNKNOWN\r\n" + GET_CLOSE)).startsWith("HTTP/1.1 200"));
            assertEquals("127.0.0.1", lastRequest(backend).header("X-Forwarded-For").orElseThrow());
            assertEquals(0, lb.stats().malformedProxyHeaders());
        }
    }

    @Test
    void aMissingOrMalformedHeaderClosesWithoutAResponse() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = accepting(backend, ProxyTimeouts.DEFAULT)) {
            assertEquals("", exchange(lb, ascii(GET)));
            assertEquals("", exchange(lb, ascii("PROXY TCP4 300.1.1.1 10.0.0.1 1 2\r\n" + GET)));
            assertEquals("", exchange(lb, ProxyHeaderBytes.concat(ProxyHeaderBytes.V2_SIGNATURE, new byte[] {0x2F, 0x11, 0, 0}, ascii(GET))));
            Await.until(() -> lb.stats().malformedProxyHeaders() == 3, Duration.ofSeconds(10));
            assertEquals(0, backend.requestCount());
        }
    }

    @Test
    void aHeaderNotCompleteWithinTheClientHeaderTimeoutCloses() throws Exception {
        ProxyTimeouts t = ProxyTimeouts.DEFAULT.toBuilder().clientHeader(Duration.ofMillis(300)).build();
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = accepting(backend, t);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(ascii("PROXY TCP4 203.0.113.7 "));
            s.getOutputStream().flush();
            long start = System.nanoTime();
            assertEquals(-1, s.getInputStream().read());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(8));
            Await.until(() -> lb.stats().malformedProxyHeaders() == 1, Duration.ofSeconds(10));
        }
    }

    @Test
    void theHeaderComesBeforeTheTlsHandshake() throws Exception {
        TestCertificate cert = TestCertificate.create();
        KeyManagerFactory keys = cert.keys;
        SSLContext clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, cert.trust.getTrustManagers(), null);
        cert.delete();
        try (TestBackend backend = TestBackend.start(Script.ok("secure"));
                UpstreamPool pool = UpstreamPool.builder().add(upstream(backend.port())).build();
                HttpBalancer lb = HttpBalancer.builder()
                        .listen(Listener.builder(loopback()).tls(TlsProvider.JDK.serverContext(keys))
                                .acceptProxyProtocol(true).build())
                        .eventLoops(1).route(Route.builder("/").group(UpstreamGroup.of(pool))
                                .forwarded(ForwardedHeader.X_FORWARDED_FOR).build())
                        .build().start();
                Socket plain = new Socket("127.0.0.1", lb.address().getPort())) {
            plain.setSoTimeout(10_000);
            plain.getOutputStream().write(ascii("PROXY TCP4 203.0.113.9 198.51.100.1 5555 443\r\n"));
            plain.getOutputStream().flush();
            try (SSLSocket tls = (SSLSocket) clientTls.getSocketFactory().createSocket(plain, "localhost",
                    lb.address().getPort(), true)) {
                tls.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
                tls.getOutputStream().flush();
                String answer = Fixtures.readAll(tls.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("secure"), answer);
            }
            assertEquals("203.0.113.9", lastRequest(backend).header("X-Forwarded-For").orElseThrow());
        }
    }

    /** A keep-alive upstream that records the PROXY header each connection starts with. */
    private static final class HeaderRecordingUpstream implements AutoCloseable {
        final List<byte[]> headers = new CopyOnWriteArrayList<>();
        final List<String> requests = new CopyOnWriteArrayList<>();
        final RawServer server;

        HeaderRecordingUpstream(int headerLength) throws IOException {
            server = new RawServer(s -> {
                InputStream in = s.getInputStream();
                byte[] h = headerLength > 0 ? new DataInputStream(in).readNBytes(headerLength) : readLine(in);
                headers.add(h);
                OutputStream out = s.getOutputStream();
                String head;
                while (!(head = RawServer.readHead(in)).isEmpty()) {
                    requests.add(head);
                    out.write(ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
                    out.flush();
                }
            });
        }

        private static byte[] readLine(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) >= 0) {
                b.write(c);
                if (c == '\n') {
                    break;
                }
            }
            return b.toByteArray();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    private static HttpBalancer sending(int upstreamPort, ProxyProtocol pp) {
        UpstreamPool pool = UpstreamPool.builder().add(upstream(upstreamPort)).build();
        return HttpBalancer.builder().listen(Listener.builder(loopback()).acceptProxyProtocol(true).build())
                .eventLoops(1).route(Route.builder("/").group(UpstreamGroup.builder(pool).proxyProtocol(pp).build())
                        .build())
                .build().start();
    }

    /** Sends {@code requests} GETs on one connection after {@code header}, reading each answer. */
    private static void requests(HttpBalancer lb, byte[] header, int requests) throws IOException {
        try (Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(header);
            InputStream in = s.getInputStream();
            for (int i = 0; i < requests; i++) {
                s.getOutputStream().write(ascii(GET));
                s.getOutputStream().flush();
                String head = RawServer.readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 200"), head);
                assertEquals("ok", new String(new DataInputStream(in).readNBytes(2), StandardCharsets.ISO_8859_1));
            }
        }
    }

    @Test
    void sendsV1WithTheAcceptedClientBeforeTheRequest() throws Exception {
        String expected = "PROXY TCP4 203.0.113.7 198.51.100.1 5555 80\r\n";
        try (HeaderRecordingUpstream upstream = new HeaderRecordingUpstream(0);
                HttpBalancer lb = sending(upstream.server.port(), ProxyProtocol.V1)) {
            requests(lb, ascii(expected), 1);
            assertEquals(expected, new String(upstream.headers.get(0), StandardCharsets.ISO_8859_1));
            assertTrue(upstream.requests.get(0).startsWith("GET /a HTTP/1.1\r\n"), upstream.requests.get(0));
        }
    }

    @Test
    void sendsV2WithTheAcceptedClientBeforeTheRequest() throws Exception {
        byte[] expected = v2(InetAddress.getByName("203.0.113.7"), InetAddress.getByName("198.51.100.1"), 5555, 80);
        try (HeaderRecordingUpstream upstream = new HeaderRecordingUpstream(expected.length);
                HttpBalancer lb = sending(upstream.server.port(), ProxyProtocol.V2)) {
            requests(lb, expected, 1);
            assertArrayEquals(expected, upstream.headers.get(0));
            assertTrue(upstream.requests.get(0).startsWith("GET /a HTTP/1.1\r\n"), upstream.requests.get(0));
        }
    }

    /**
     * With realip the header sent names each request's client, and its port when the client's header gave
     * one (nginx 1.11.0's {@code $remote_port} from {@code 192.0.2.5:4444}); a kept connection serves only
     * later requests of the same address and port.
     */
    @Test
    void withRealIpTheHeaderSentNamesEachRequestsClientAndPortAndAConnectionServesOnlyItsOwn() throws Exception {
        try (HeaderRecordingUpstream upstream = new HeaderRecordingUpstream(0);
                HttpBalancer lb = HttpBalancer.builder()
                        .listen(Listener.builder(loopback()).acceptProxyProtocol(true)
                                .realIp(RealIp.builder().trust("203.0.113.1").header("X-Forwarded-For").build()).build())
                        .eventLoops(1).route(Route.builder("/").group(UpstreamGroup.builder(
                                UpstreamPool.builder().add(upstream(upstream.server.port())).build())
                                .proxyProtocol(ProxyProtocol.V1).build()).build())
                        .build().start();
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(ascii("PROXY TCP4 203.0.113.1 198.51.100.1 1111 80\r\n"));
            InputStream in = s.getInputStream();
            for (String xff : new String[] {"192.0.2.5", "192.0.2.5", null, "192.0.2.6", "192.0.2.6:4444",
                "192.0.2.6:4444", "[2001:db8::7]:5555", "192.0.2.6:0"}) {
                s.getOutputStream().write(ascii("GET /a HTTP/1.1\r\nHost: x\r\n"
                        + (xff != null ? "X-Forwarded-For: " + xff + "\r\n" : "") + "\r\n"));
                s.getOutputStream().flush();
                String head = RawServer.readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 200"), head);
                assertEquals("ok", new String(new DataInputStream(in).readNBytes(2), StandardCharsets.ISO_8859_1));
            }
            // Requests of one client and port share a connection; each other gets its own (port 0: none
            // known). A port of 0 is not valid, so the last request is the connection's own client's.
            assertEquals(List.of("PROXY TCP4 192.0.2.5 198.51.100.1 0 80\r\n",
                    "PROXY TCP4 203.0.113.1 198.51.100.1 1111 80\r\n", "PROXY TCP4 192.0.2.6 198.51.100.1 0 80\r\n",
                    "PROXY TCP4 192.0.2.6 198.51.100.1 4444 80\r\n",
                    "PROXY TCP6 2001:db8:0:0:0:0:0:7 ::ffff:198.51.100.1 5555 80\r\n",
                    "PROXY TCP4 203.0.113.1 198.51.100.1 1111 80\r\n"),
                    upstream.headers.stream().map(h -> new String(h, StandardCharsets.ISO_8859_1)).toList());
            assertEquals(8, upstream.requests.size());
        }
    }

    @Test
    void upstreamConnectionsAreReusedOnlyByTheClientConnectionThatOpenedThem() throws Exception {
        try (HeaderRecordingUpstream upstream = new HeaderRecordingUpstream(0);
                HttpBalancer lb = sending(upstream.server.port(), ProxyProtocol.V1)) {
            requests(lb, ascii("PROXY TCP4 203.0.113.1 198.51.100.1 1111 80\r\n"), 3);
            // Its own requests share one upstream connection.
            assertEquals(1, upstream.headers.size());
            requests(lb, ascii("PROXY TCP4 203.0.113.2 198.51.100.1 2222 80\r\n"), 2);
            assertEquals(List.of("PROXY TCP4 203.0.113.1 198.51.100.1 1111 80\r\n",
                    "PROXY TCP4 203.0.113.2 198.51.100.1 2222 80\r\n"),
                    upstream.headers.stream().map(h -> new String(h, StandardCharsets.ISO_8859_1)).toList());
            assertEquals(5, upstream.requests.size());
            // Closed with the client connection, not left idle for another client.
            Await.until(() -> upstream.server.openConnections() == 0, Duration.ofSeconds(10));
        }
    }

    /**
     * A client's own upstream connection (its header names that client) closes when the group's keep-alive
     * idle timeout passes, as a pooled one does, while its client connection stays open; that client's next
     * request opens another.
     */
    @Test
    void aConnectionKeptForItsClientClosesWhenTheIdleTimeoutPasses() throws Exception {
        String header = "PROXY TCP4 203.0.113.1 198.51.100.1 1111 80";
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                HttpBalancer lb = HttpBalancer.builder().listen(Listener.builder(loopback()).acceptProxyProtocol(true).build())
                        .eventLoops(1).route(Route.builder("/").group(UpstreamGroup.builder(
                                UpstreamPool.builder().add(upstream(backend.port())).build())
                                .proxyProtocol(ProxyProtocol.V1)
                                .keepAlive(new UpstreamKeepAlive(32, Duration.ofSeconds(1), 1000)).build()).build())
                        .build().start();
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(ascii(header + "\r\n"));
            for (int i = 0; i < 2; i++) {
                s.getOutputStream().write(ascii(GET));
                String r = Fixtures.readResponse(s.getInputStream());
                assertTrue(r.startsWith("HTTP/1.1 200 "), r);
            }
            long idleSince = System.nanoTime();
            // One upstream connection for both requests, still open well within the timeout.
            assertEquals(1, backend.connectionCount());
            assertEquals(1, backend.openConnections());
            Await.until(() -> backend.openConnections() == 0, Duration.ofSeconds(10));
            long closedAfter = (System.nanoTime() - idleSince) / 1_000_000;
            assertTrue(closedAfter >= 950, "closed after " + closedAfter + " ms idle");
            s.getOutputStream().write(ascii(GET));
            String r = Fixtures.readResponse(s.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 200 "), r);
            assertEquals(2, backend.connectionCount());
            assertEquals(List.of(header, header), backend.proxyHeaders());
        }
    }

    @Test
    void healthProbesSendLocalOrUnknown() throws Exception {
        byte[] local = v2(null, null, 0, 0);
        try (HeaderRecordingUpstream v2 = new HeaderRecordingUpstream(local.length);
                HeaderRecordingUpstream v1 = new HeaderRecordingUpstream(0)) {
            ProbeResult r2 = HttpHealthProbe.builder().path("/health").proxyProtocol(ProxyProtocol.V2).build()
                    .probe(upstream(v2.server.port()), Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertTrue(r2.healthy(), r2.toString());
            assertArrayEquals(local, v2.headers.get(0));
            assertTrue(v2.requests.get(0).startsWith("GET /health HTTP/1.1\r\n"), v2.requests.get(0));
            ProbeResult r1 = HttpHealthProbe.builder().proxyProtocol(ProxyProtocol.V1).build()
                    .probe(upstream(v1.server.port()), Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertTrue(r1.healthy(), r1.toString());
            assertEquals("PROXY UNKNOWN\r\n", new String(v1.headers.get(0), StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void aProbeWithAHeaderTimesOut() throws Exception {
        // An upstream that reads and never answers.
        try (RawServer silent = new RawServer(s -> s.getInputStream().readAllBytes())) {
            ProbeResult r = HttpHealthProbe.builder().proxyProtocol(ProxyProtocol.V2).build()
                    .probe(upstream(silent.port()), Duration.ofMillis(300)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(false, r.healthy());
            assertEquals("timeout", r.detail());
        }
    }
}
