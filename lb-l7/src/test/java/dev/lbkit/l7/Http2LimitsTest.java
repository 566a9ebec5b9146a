package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static dev.lbkit.l7.H2Wire.ACK;
import static dev.lbkit.l7.H2Wire.DATA;
import static dev.lbkit.l7.H2Wire.GOAWAY;
import static dev.lbkit.l7.H2Wire.HEADERS;
import static dev.lbkit.l7.H2Wire.RST_STREAM;
import static dev.lbkit.l7.H2Wire.SETTINGS;
import static dev.lbkit.l7.H2Wire.WINDOW_UPDATE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.EchoServer;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2's limits and the connection's life, frame by frame ({@link H2Wire}): the settings advertised, streams
 * over the limit, header lists and targets too long, flow control both ways, the reset flood, the idle
 * timeout, a graceful stop and malformed input, each with its default and a test that it is enforced.
 */
class Http2LimitsTest {
    @BeforeAll
    static void setUp() throws Exception {
        Leaks.watch();
        Http2Test.certificate();
    }

    private static HttpBalancer.Builder h2c(Http2Options options, UpstreamPool pool) {
        return Http2Test.h2cBalancer(options, pool);
    }

    private static int port(HttpBalancer lb) {
        return lb.address().getPort();
    }

    /**
     * An upstream that answers {@code /small} with {@code small} and anything else with a 1 GiB body it writes
     * as fast as it is read, counting the bytes it got written into {@code written}.
     */
    private static RawServer endless(AtomicLong written) throws IOException {
        return new RawServer(s -> {
            String head = RawServer.readHead(s.getInputStream());
            OutputStream out = s.getOutputStream();
            if (head.startsWith("GET /small ")) {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                RawServer.readHead(s.getInputStream());
                return;
            }
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 * 1024];
            while (written.get() < 1024L * 1024 * 1024) {
                out.write(chunk);
                written.addAndGet(chunk.length);
            }
        });
    }

    /** An h2c balancer whose send timeout outlasts the tests' waits for a held-back upstream. */
    private static HttpBalancer patient(UpstreamPool pool) {
        return h2c(Http2Options.DEFAULT, pool)
                .timeouts(ProxyTimeouts.builder().clientSend(Duration.ofSeconds(60)).build()).build().start();
    }

    /** Until the upstream is held back: its writes make no progress for a second (60 s at most). */
    private static void awaitHeldBack(AtomicLong written) throws InterruptedException {
        long last = -1;
        int still = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (still < 5 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            long now = written.get();
            still = now == last ? still + 1 : 0;
            last = now;
        }
    }

    @Test
    void settingsAdvertiseTheDefaultsAndTheConnectionWindowCoversEveryStream() throws Exception {
        try (TestBackend b = Http2Test.items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.DEFAULT, pool).build().start();
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            H2Wire.Frame s = w.await(f -> f.type() == SETTINGS && (f.flags() & ACK) == 0);
            assertEquals(128, s.setting(H2Wire.SETTINGS_MAX_CONCURRENT_STREAMS));
            assertEquals(65_535, s.setting(H2Wire.SETTINGS_INITIAL_WINDOW_SIZE));
            assertEquals(ClientLimits.DEFAULT.maxHeaderSize(), s.setting(H2Wire.SETTINGS_MAX_HEADER_LIST_SIZE));
            H2Wire.Frame window = w.await(f -> f.type() == WINDOW_UPDATE && f.stream() == 0);
            assertEquals(128 * 65_535 - 65_535, window.first31());
            w.request(1, "GET", "/item/1", true);
            assertEquals("item 1", w.response(1).text());
        }
        Http2Options d = Http2Options.DEFAULT;
        assertEquals(128, d.maxConcurrentStreams());
        assertEquals(65_535, d.initialWindowSize());
        assertEquals(200, d.maxResets());
        assertEquals(Duration.ofSeconds(30), d.resetWindow());
    }

    @Test
    void optionsAndListenersAreCheckedWhenBuilt() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> Http2Options.builder().maxConcurrentStreams(0));
        assertThrows(IllegalArgumentException.class, () -> Http2Options.builder().initialWindowSize(-1));
        assertThrows(IllegalArgumentException.class, () -> Http2Options.builder().maxResets(0, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> Http2Options.builder().maxResets(5, Duration.ofMillis(1500)));
        assertThrows(NullPointerException.class, () -> Listener.builder(Fixtures.loopback()).http2(null));
        // ALPN and the option go together on TLS listeners.
        var plain = TlsProvider.JDK.serverContext(Http2Test.keys());
        var alpn = Http2Test.alpnContext(TlsProvider.JDK);
        IllegalStateException noH2 = assertThrows(IllegalStateException.class,
                () -> Listener.builder(Fixtures.loopback()).tls(plain).http2(Http2Options.DEFAULT).build());
        assertTrue(noH2.getMessage().contains("Http2Options.ALPN"), noH2.getMessage());
        assertThrows(IllegalStateException.class, () -> Listener.builder(Fixtures.loopback()).tls(alpn).build());
        assertTrue(Listener.builder(Fixtures.loopback()).tls(alpn).http2(Http2Options.DEFAULT).build().http2()
                .isPresent());
        assertFalse(Listener.of(Fixtures.loopback()).http2().isPresent());
        // An ALPN context that offers only http/1.1 is a plain HTTP/1.1 listener.
        var http11 = SslContextBuilder.forServer(Http2Test.keys()).applicationProtocolConfig(
                new io.netty.handler.ssl.ApplicationProtocolConfig(Http2Options.ALPN.protocol(),
                        Http2Options.ALPN.selectorFailureBehavior(), Http2Options.ALPN.selectedListenerFailureBehavior(),
                        "http/1.1")).build();
        assertFalse(Listener.builder(Fixtures.loopback()).tls(http11).build().http2().isPresent());
    }

    @Test
    void streamsOverMaxConcurrentStreamsAreRefused() throws Exception {
        Script slow = Script.builder().body("slow").delay(Duration.ofMillis(600)).build();
        try (TestBackend b = TestBackend.start(slow); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.builder().maxConcurrentStreams(2).build(), pool).build().start();
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            assertEquals(2, w.await(f -> f.type() == SETTINGS && (f.flags() & ACK) == 0)
                    .setting(H2Wire.SETTINGS_MAX_CONCURRENT_STREAMS));
            w.request(1, "GET", "/one", true);
            w.request(3, "GET", "/two", true);
            w.request(5, "GET", "/three", true);
            H2Wire.Frame refused = w.await(f -> f.type() == RST_STREAM || f.type() == HEADERS);
            assertEquals(RST_STREAM, refused.type(), refused.toString());
            assertEquals(5, refused.stream());
            assertEquals(H2Wire.REFUSED_STREAM, refused.errorCode());
            assertEquals("slow", w.response(1).text());
            assertEquals("slow", w.response(3).text());
            // Once they are done, a new stream is taken.
            w.request(7, "GET", "/four", true);
            assertEquals(200, w.response(7).status());
            assertEquals(3, b.requestCount());
            assertEquals(3, lb.stats().route("/").requests());
        }
    }

    @Test
    void headerListsOverMaxHeaderSizeGet431AndTargetsOverMaxInitialLineLength414() throws Exception {
        ClientLimits limits = ClientLimits.builder().maxHeaderSize(4096).maxInitialLineLength(200).build();
        try (TestBackend b = Http2Test.items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.DEFAULT, pool).limits(limits).build().start();
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            assertEquals(4096, w.await(f -> f.type() == SETTINGS && (f.flags() & ACK) == 0)
                    .setting(H2Wire.SETTINGS_MAX_HEADER_LIST_SIZE));
            w.request(1, "GET", "/item/big", true, "x-big", "b".repeat(4200));
            assertEquals(431, w.response(1).status());
            w.request(3, "GET", "/" + "p".repeat(250), true);
            H2Wire.Response tooLong = w.response(3);
            assertEquals(414, tooLong.status());
            assertTrue(tooLong.text().contains("414"), tooLong.text());
            // Each is the stream's own answer: the connection goes on.
            w.request(5, "GET", "/item/" + "p".repeat(150), true, "x-fits", "f".repeat(3000));
            assertEquals("item " + "p".repeat(150), w.response(5).text());
            assertEquals(1, b.requestCount());
        }
    }

    @Test
    void aRequestBodyPastTheStreamWindowIsAFlowControlError() throws Exception {
        // The upstream reads nothing: once its socket is full the proxy stops reading the stream, and a client
        // that sends on regardless runs past the window it was given.
        try (EchoServer silent = EchoServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                EchoServer.Mode.SILENT, "");
                UpstreamPool pool = UpstreamPool.of(upstream(silent.port()));
                HttpBalancer lb = h2c(Http2Options.builder().initialWindowSize(16_384).build(), pool)
                        .limits(ClientLimits.builder().maxBodySize(0).build())
                        .timeouts(ProxyTimeouts.builder().send(Duration.ofSeconds(30)).build()).build().start();
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            assertEquals(16_384, w.await(f -> f.type() == SETTINGS && (f.flags() & ACK) == 0)
                    .setting(H2Wire.SETTINGS_INITIAL_WINDOW_SIZE));
            w.request(1, "PUT", "/up", false);
            AtomicLong sent = new AtomicLong();
            Thread writer = new Thread(() -> {
                byte[] chunk = new byte[16_384];
                try {
                    while (sent.get() < 512L * 1024 * 1024) {
                        w.data(1, chunk, false);
                        sent.addAndGet(chunk.length);
                    }
                } catch (IOException e) {
                    // The proxy closed, or the test did.
                }
            });
            writer.setDaemon(true);
            writer.start();
            H2Wire.Frame reset = w.await(f -> f.type() == RST_STREAM && f.stream() == 1 || f.type() == GOAWAY);
            assertEquals(RST_STREAM, reset.type(), reset.toString());
            assertEquals(H2Wire.FLOW_CONTROL_ERROR, reset.errorCode());
            assertTrue(sent.get() < 256L * 1024 * 1024, "sent " + sent.get());
            w.close();
            writer.join(10_000);
        }
    }

    @Test
    void aStreamWhoseClientGrantsNoWindowStopsItsUpstreamAndNotTheOtherStreams() throws Exception {
        AtomicLong written = new AtomicLong();
        try (RawServer upstreamServer = endless(written);
                UpstreamPool pool = UpstreamPool.of(upstream(upstreamServer.port()));
                HttpBalancer lb = patient(pool);
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            BlockingQueue<H2Wire.Frame> frames = new LinkedBlockingQueue<>();
            AtomicLong bigBytes = new AtomicLong();
            Thread reader = new Thread(() -> {
                try {
                    for (H2Wire.Frame f; (f = w.read()) != null; ) {
                        if (f.type() == DATA && f.payload().length > 0) {
                            // The connection's window is given back, never stream 1's.
                            w.windowUpdate(0, f.payload().length);
                            if (f.stream() == 1) {
                                bigBytes.addAndGet(f.payload().length);
                                continue;
                            }
                        }
                        frames.add(f);
                    }
                } catch (IOException e) {
                    // Closed at the end.
                }
            });
            reader.setDaemon(true);
            reader.start();
            w.request(1, "GET", "/big", true);
            awaitHeldBack(written);
            assertEquals(65_535, bigBytes.get(), "stream 1 got exactly the window its client gave");
            // Kernel buffers on the upstream hop hold a few MiB; the proxy holds the stream's write buffer.
            assertTrue(written.get() < 32L * 1024 * 1024, "the upstream wrote " + written.get());
            // The connection's other streams go on.
            w.request(3, "GET", "/small", true);
            H2Wire.Frame head = frames.poll(10, TimeUnit.SECONDS);
            while (head != null && !(head.type() == HEADERS && head.stream() == 3)) {
                head = frames.poll(10, TimeUnit.SECONDS);
            }
            assertEquals("200", head.status());
            H2Wire.Frame body = frames.poll(10, TimeUnit.SECONDS);
            assertEquals(3, body.stream());
            assertEquals("small", new String(body.payload(), StandardCharsets.US_ASCII));
            // A window for stream 1 lets its upstream go on.
            long before = written.get();
            w.windowUpdate(1, 8 * 1024 * 1024);
            Await.until(() -> bigBytes.get() >= 65_535 + 8 * 1024 * 1024 && written.get() > before,
                    Duration.ofSeconds(20));
            w.close();
            reader.join(10_000);
        }
    }

    @Test
    void aClientThatStopsReadingTheSocketStopsTheUpstreamWhateverWindowItGave() throws Exception {
        AtomicLong written = new AtomicLong();
        try (RawServer upstreamServer = endless(written);
                UpstreamPool pool = UpstreamPool.of(upstream(upstreamServer.port()));
                HttpBalancer lb = patient(pool);
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.socket().setReceiveBufferSize(64 * 1024);
            // The largest windows there are: only TCP can hold the proxy back now.
            w.preface(H2Wire.SETTINGS_INITIAL_WINDOW_SIZE, Integer.MAX_VALUE);
            w.windowUpdate(0, Integer.MAX_VALUE - 65_535);
            long directBefore = io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            w.request(1, "GET", "/big", true);
            awaitHeldBack(written);
            long direct = io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - directBefore;
            assertTrue(written.get() < 64L * 1024 * 1024, "the upstream wrote " + written.get()
                    + " bytes for a client that reads nothing; pooled direct memory grew by " + direct);
            assertTrue(direct < 32L * 1024 * 1024, "pooled direct memory grew by " + direct);
        }
    }

    @Test
    void aResetFloodClosesTheConnectionWithEnhanceYourCalm() throws Exception {
        try (TestBackend b = Http2Test.items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.builder().maxResets(10, Duration.ofSeconds(60)).build(), pool)
                        .build().start();
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            for (int stream = 1; stream <= 2 * 30 - 1; stream += 2) {
                w.request(stream, "GET", "/item/" + stream, true);
                w.reset(stream, H2Wire.CANCEL);
            }
            H2Wire.Frame away = w.await(f -> f.type() == GOAWAY);
            assertEquals(H2Wire.ENHANCE_YOUR_CALM, away.errorCode());
            assertTrue(w.closes());
            Await.until(() -> lb.stats().openConnections() == 0);
        }
    }

    @Test
    void aConnectionWithNoOpenStreamClosesAfterKeepAliveWithGoAway() throws Exception {
        Script slow = Script.builder().body("slow").delay(Duration.ofMillis(900)).build();
        try (TestBackend b = TestBackend.start(slow); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.DEFAULT, pool)
                        .timeouts(ProxyTimeouts.builder().keepAlive(Duration.ofMillis(300)).build()).build().start()) {
            try (H2Wire idle = H2Wire.cleartext(port(lb))) {
                idle.preface();
                long start = System.nanoTime();
                H2Wire.Frame away = idle.await(f -> f.type() == GOAWAY);
                assertTrue(System.nanoTime() - start >= Duration.ofMillis(250).toNanos());
                assertEquals(H2Wire.NO_ERROR, away.errorCode());
                assertEquals(0, away.first31(), "no stream was taken");
                assertTrue(idle.closes());
            }
            try (H2Wire busy = H2Wire.cleartext(port(lb))) {
                busy.preface();
                busy.request(1, "GET", "/slow", true);
                // The stream outlives the keep-alive timeout: the connection stays; it goes once idle again.
                List<Integer> types = new ArrayList<>();
                H2Wire.Frame f;
                while ((f = busy.read()) != null) {
                    types.add(f.type());
                    if (f.type() == GOAWAY) {
                        break;
                    }
                }
                assertTrue(types.indexOf(DATA) >= 0 && types.indexOf(DATA) < types.indexOf(GOAWAY), types.toString());
                assertTrue(busy.closes());
            }
            Await.until(() -> lb.stats().openConnections() == 0);
        }
    }

    @Test
    void pingsKeepAnIdleConnectionOpenPastTheKeepAliveTimeout() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("pong")); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.DEFAULT, pool)
                        .timeouts(ProxyTimeouts.builder().keepAlive(Duration.ofMillis(400)).build()).build().start();
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            for (int i = 0; i < 8; i++) {
                Thread.sleep(150);
                w.frame(H2Wire.PING, 0, 0, new byte[] {0, 0, 0, 0, 0, 0, 0, (byte) i});
                int n = i;
                H2Wire.Frame ack = w.await(f -> f.type() == H2Wire.PING || f.type() == GOAWAY);
                assertEquals(H2Wire.PING, ack.type(), "GOAWAY after " + n + " pings");
            }
            // 1.2 s with no stream, three keep-alive timeouts: still open, and it serves.
            w.request(1, "GET", "/after", true);
            assertEquals("pong", w.response(1).text());
            long start = System.nanoTime();
            assertEquals(H2Wire.NO_ERROR, w.await(f -> f.type() == GOAWAY).errorCode());
            assertTrue(System.nanoTime() - start >= Duration.ofMillis(300).toNanos());
            assertTrue(w.closes());
        }
    }

    @Test
    void stopSendsGoAwayAndLetsOpenStreamsFinish() throws Exception {
        Script slow = Script.builder().body("finished").delay(Duration.ofMillis(700)).build();
        try (TestBackend b = TestBackend.start(slow); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.DEFAULT, pool).build().start();
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            w.request(1, "GET", "/slow", true);
            Await.until(() -> b.requestCount() == 1);
            Thread stopper = new Thread(() -> lb.stop(Duration.ofSeconds(10)));
            stopper.start();
            H2Wire.Frame away = w.await(f -> f.type() == GOAWAY);
            assertEquals(H2Wire.NO_ERROR, away.errorCode());
            assertEquals(1, away.first31(), "the open stream is one the proxy finishes");
            H2Wire.Response r = w.response(1);
            assertEquals(200, r.status());
            assertEquals("finished", r.text());
            assertTrue(w.closes());
            stopper.join(10_000);
            assertFalse(stopper.isAlive());
        }
    }

    @Test
    void aMalformedPrefaceAfterAlpnGetsGoAwayProtocolErrorAndCloses() throws Exception {
        try (TestBackend b = Http2Test.items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Http2Test.tlsBalancer(TlsProvider.JDK, Http2Options.DEFAULT, pool).build().start()) {
            try (H2Wire w = H2Wire.tls(port(lb), Http2Test.trusting())) {
                w.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                H2Wire.Frame away = w.await(f -> f.type() == GOAWAY);
                assertEquals(H2Wire.PROTOCOL_ERROR, away.errorCode());
                assertTrue(w.closes());
            }
            Await.until(() -> lb.stats().openConnections() == 0);
            assertEquals(0, b.requestCount());
        }
        Leaks.assertNone();
    }

    @Test
    void aMalformedFrameGetsGoAwayProtocolErrorAndCloses() throws Exception {
        try (TestBackend b = Http2Test.items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.DEFAULT, pool).build().start()) {
            try (H2Wire w = H2Wire.cleartext(port(lb))) {
                w.preface();
                w.request(1, "GET", "/item/ok", true);
                assertEquals("item ok", w.response(1).text());
                w.data(0, "on the connection".getBytes(StandardCharsets.US_ASCII), false);
                H2Wire.Frame away = w.await(f -> f.type() == GOAWAY);
                assertEquals(H2Wire.PROTOCOL_ERROR, away.errorCode());
                assertTrue(w.closes());
            }
            try (H2Wire w = H2Wire.cleartext(port(lb))) {
                // A SETTINGS frame whose length is no multiple of 6 (RFC 9113 §6.5): FRAME_SIZE_ERROR.
                w.preface();
                w.frame(SETTINGS, 0, 0, new byte[5]);
                assertEquals(0x6, w.await(f -> f.type() == GOAWAY).errorCode());
                assertTrue(w.closes());
            }
            Await.until(() -> lb.stats().openConnections() == 0);
        }
        Leaks.assertNone();
    }

    @Test
    void malformedOrUnsupportedRequestHeadsAreTheStreamsOwnRefusals() throws Exception {
        try (TestBackend b = Http2Test.items(); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.DEFAULT, pool)
                        .limits(ClientLimits.builder().allowConnect(true).build()).build().start();
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            // No :path: malformed (RFC 9113 §8.3.1).
            w.headers(1, new DefaultHttp2Headers(false).method("GET").scheme("http").authority("x"), true);
            H2Wire.Frame noPath = w.await(f -> f.stream() == 1 && (f.type() == RST_STREAM || f.type() == HEADERS));
            assertEquals(RST_STREAM, noPath.type(), noPath.toString());
            assertEquals(H2Wire.PROTOCOL_ERROR, noPath.errorCode());
            // An upper-case field name: malformed (RFC 9113 §8.2.1).
            w.request(3, "GET", "/item/x", true, "X-Upper", "1");
            H2Wire.Frame upper = w.await(f -> f.stream() == 3 && (f.type() == RST_STREAM || f.type() == HEADERS));
            assertEquals(RST_STREAM, upper.type(), upper.toString());
            assertEquals(H2Wire.PROTOCOL_ERROR, upper.errorCode());
            // CONNECT is not tunnelled over HTTP/2, even where HTTP/1.1's may be: 405.
            w.headers(5, new DefaultHttp2Headers(false).method("CONNECT").authority("example.com:443"), true);
            assertEquals(405, w.response(5).status());
            // A host field naming another authority than :authority: malformed (RFC 9113 §8.3.1); the same one is
            // the one Host.
            w.request(7, "GET", "/item/x", true, "host", "elsewhere.test");
            H2Wire.Frame otherHost = w.await(f -> f.stream() == 7 && (f.type() == RST_STREAM || f.type() == HEADERS));
            assertEquals(RST_STREAM, otherHost.type(), otherHost.toString());
            assertEquals(H2Wire.PROTOCOL_ERROR, otherHost.errorCode());
            w.request(9, "GET", "/item/same", true, "host", "lbkit.test");
            assertEquals("item same", w.response(9).text());
            assertEquals(List.of("lbkit.test"), b.requests().get(0).headers("Host"));
            assertEquals(1, b.requestCount());
        }
    }

    @Test
    void connectionSpecificFieldsNeverCross() throws Exception {
        Script hopByHop = Script.builder().body("body").chunked().header("Connection", "keep-alive, X-Hop")
                .header("Keep-Alive", "timeout=5").header("X-Hop", "1").header("Proxy-Connection", "keep-alive")
                .header("X-End", "kept").build();
        try (TestBackend b = TestBackend.start(hopByHop); UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = h2c(Http2Options.DEFAULT, pool).build().start();
                H2Wire w = H2Wire.cleartext(port(lb))) {
            w.preface();
            // Into the proxy: a request with a connection-specific field is malformed (RFC 9113 §8.2.2).
            String[][] refused = {{"connection", "keep-alive"}, {"keep-alive", "5"}, {"transfer-encoding", "chunked"},
                {"upgrade", "websocket"}, {"proxy-connection", "keep-alive"}, {"te", "gzip"}};
            int stream = 1;
            for (String[] field : refused) {
                w.request(stream, "GET", "/", true, field[0], field[1]);
                int s = stream;
                H2Wire.Frame f = w.await(g -> g.stream() == s && (g.type() == RST_STREAM || g.type() == HEADERS));
                assertEquals(RST_STREAM, f.type(), field[0] + ": " + f);
                assertEquals(H2Wire.PROTOCOL_ERROR, f.errorCode());
                stream += 2;
            }
            assertEquals(0, b.requestCount());
            // TE: trailers is the one allowed; it is not forwarded. :authority is the Host.
            w.request(stream, "GET", "/", true, "te", "trailers");
            H2Wire.Response r = w.response(stream);
            assertEquals("body", r.text());
            var req = b.requests().get(0);
            assertTrue(req.header("TE").isEmpty(), req.headers().toString());
            assertEquals("lbkit.test", req.header("Host").orElseThrow());
            // Out of the proxy: none of the upstream's hop-by-hop fields.
            for (String name : new String[] {"connection", "keep-alive", "x-hop", "proxy-connection",
                "transfer-encoding", "upgrade"}) {
                assertNull(r.headers().get(name), name + " in " + r.headers());
            }
            assertEquals("kept", r.headers().get("x-end").toString());
        }
    }
}
