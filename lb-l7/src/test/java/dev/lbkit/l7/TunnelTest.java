package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TunnelTest {

    @Test
    void upgradeIsPassedThroughAndBytesFlowBothWays() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().mode(Script.Mode.UPGRADE_ECHO).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String head = RawServer.readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 101 "), head);
            assertTrue(head.toLowerCase().contains("upgrade: websocket"), head);
            assertTrue(head.toLowerCase().contains("connection: upgrade"), head);
            assertEquals("websocket", b.requests().get(0).header("Upgrade").orElseThrow());
            assertEquals("13", b.requests().get(0).header("Sec-WebSocket-Version").orElseThrow());
            for (int i = 0; i < 3; i++) {
                byte[] msg = ("frame " + i + " \0\r\n\u00ff").getBytes(StandardCharsets.ISO_8859_1);
                out.write(msg);
                out.flush();
                assertEquals(new String(msg, StandardCharsets.ISO_8859_1),
                        new String(in.readNBytes(msg.length), StandardCharsets.ISO_8859_1));
            }
            byte[] big = new byte[2 * 1024 * 1024];
            Thread writer = new Thread(() -> {
                try {
                    out.write(big);
                    out.flush();
                } catch (java.io.IOException ignored) {
                    // The assertion below reports it.
                }
            });
            writer.start();
            assertEquals(big.length, in.readNBytes(big.length).length);
            writer.join(5000);
            s.shutdownOutput();
            assertEquals(-1, in.read());
            Fixtures.await(() -> b.openConnections() == 0, Duration.ofSeconds(2));
            assertEquals(0, pool.snapshot().members().get(0).active());
        }
    }

    @Test
    void connectIsTunnelledWhenAllowed() throws Exception {
        try (RawServer up = new RawServer(sock -> {
            InputStream in = sock.getInputStream();
            String head = RawServer.readHead(in);
            OutputStream out = sock.getOutputStream();
            out.write(("HTTP/1.1 200 Connection Established\r\nX-Seen: " + head.split("\r\n")[0].replace(' ', '_')
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        });
                UpstreamPool pool = UpstreamPool.of(upstream(up.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .limits(ClientLimits.builder().allowConnect(true).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String head = RawServer.readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 200 "), head);
            assertTrue(head.contains("X-Seen: CONNECT_db.internal:5432_HTTP/1.1"), head);
            assertTrue(!head.toLowerCase().contains("transfer-encoding"), head);
            s.getOutputStream().write("raw bytes".getBytes(StandardCharsets.US_ASCII));
            assertEquals("raw bytes", new String(in.readNBytes(9), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void idleTunnelClosesAfterTheReadTimeout() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().mode(Script.Mode.UPGRADE_ECHO).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().read(Duration.ofMillis(300)).build(),
                        RetryPolicy.DEFAULT);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertTrue(RawServer.readHead(in).startsWith("HTTP/1.1 101 "));
            // Traffic keeps it open beyond the timeout ...
            for (int i = 0; i < 4; i++) {
                Thread.sleep(150);
                s.getOutputStream().write('x');
                assertEquals('x', in.read());
            }
            // ... silence closes it.
            long t0 = System.nanoTime();
            assertEquals(-1, in.read());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 200 && ms < 3000, "closed after " + ms);
            Fixtures.await(() -> b.openConnections() == 0, Duration.ofSeconds(2));
        }
    }

    /**
     * A client that stops reading while the upstream sends holds the upstream back. As in nginx, whose
     * upgraded connections arm proxy_read_timeout only while waiting for the upstream, the read timeout
     * does not run meanwhile (the wait is the client's, send_timeout): a pause of five read timeouts
     * neither closes the tunnel nor loses a byte.
     */
    @Test
    void aClientThatStopsReadingDoesNotMakeTheTunnelTimeOut() throws Exception {
        byte[] data = new byte[16 * 1024 * 1024];
        new java.util.Random(7).nextBytes(data);
        try (TestBackend b = TestBackend.start(Script.builder().mode(Script.Mode.UPGRADE_ECHO).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().read(Duration.ofMillis(300)).build(),
                        RetryPolicy.DEFAULT);
                Socket s = upgraded(lb)) {
            // The echo of what the client writes comes back while the client reads nothing: the proxy stops
            // reading the upstream, the upstream stops reading, and the client's writes stall.
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    s.getOutputStream().write(data);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(1500);
            assertArrayEquals(data, s.getInputStream().readNBytes(data.length));
            writer.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /**
     * A client that never reads again is not held forever either: send_timeout (clientSend) closes the
     * tunnel, as nginx's send_timeout does on upgraded connections, long before the read (30 s) and send
     * (30 s) timeouts.
     */
    @Test
    void aClientThatNeverReadsAgainIsClosedAfterTheClientSendTimeout() throws Exception {
        closesWhileTheClientSends(Script.Mode.UPGRADE_ECHO, ProxyTimeouts.builder().clientSend(Duration.ofMillis(300))
                .read(Duration.ofSeconds(30)).send(Duration.ofSeconds(30)).build());
    }

    /**
     * The other way round, an upstream that stopped reading (it still sends a byte every 50 ms) holds a
     * sending client back: as nginx's proxy_send_timeout on upgraded connections, the tunnel closes after
     * the send timeout, long before the read timeout (30 s), and the upstream connection with it, though
     * bytes for it are still waiting.
     */
    @Test
    void anUpstreamThatStopsReadingIsClosedAfterTheSendTimeout() throws Exception {
        closesWhileTheClientSends(Script.Mode.UPGRADE_STALL, ProxyTimeouts.builder().send(Duration.ofMillis(300))
                .read(Duration.ofSeconds(30)).build());
    }

    /**
     * Opens a tunnel to a backend in {@code mode} through a balancer with {@code timeouts}, writes to it
     * until the writes fail, reading nothing, and asserts that the proxy closes it 300 ms (the short
     * timeout of the test) or more later.
     */
    private static void closesWhileTheClientSends(Script.Mode mode, ProxyTimeouts timeouts) throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().mode(mode).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, timeouts, RetryPolicy.DEFAULT);
                Socket s = upgraded(lb)) {
            CompletableFuture<Void> writer = writeUntilClosed(s, new AtomicLong());
            long t0 = System.nanoTime();
            assertTunnelClosed(lb, b, pool, s, writer);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 250, "closed after " + ms + " ms");
        }
    }

    /**
     * A client that leaves while its upstream takes nothing: the bytes still waiting for the upstream get
     * the send timeout, then the upstream connection is closed too, not held open for as long as the
     * upstream lives (as nginx finishes an upgraded connection).
     */
    @Test
    void whenTheClientLeavesAnUpstreamThatTakesNothingIsClosedAfterTheSendTimeout() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().mode(Script.Mode.UPGRADE_STALL).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.builder().send(Duration.ofMillis(300))
                        .read(Duration.ofSeconds(30)).build(), RetryPolicy.DEFAULT);
                Socket s = upgraded(lb)) {
            AtomicLong written = new AtomicLong();
            CompletableFuture<Void> writer = writeUntilClosed(s, written);
            // Once the writes have stalled (nothing more taken for 200 ms, well under the send timeout's
            // reach: the proxy's upstream side is full), the client leaves.
            long[] last = {-1};
            long[] since = {System.nanoTime()};
            dev.lbkit.testing.Await.until(() -> {
                long now = written.get();
                if (now != last[0]) {
                    last[0] = now;
                    since[0] = System.nanoTime();
                }
                return now > 0 && System.nanoTime() - since[0] > 200_000_000L;
            }, Duration.ofSeconds(10));
            s.close();
            assertTunnelClosed(lb, b, pool, s, writer);
        }
    }

    /** Writes to {@code s} until a write fails, reading nothing; counts what was written in {@code written}. */
    private static CompletableFuture<Void> writeUntilClosed(Socket s, AtomicLong written) {
        return CompletableFuture.runAsync(() -> {
            byte[] chunk = new byte[64 * 1024];
            try {
                for (;;) {
                    s.getOutputStream().write(chunk);
                    written.addAndGet(chunk.length);
                }
            } catch (java.io.IOException closed) {
                // The tunnel was closed under the writes.
            }
        });
    }

    /**
     * Asserts that the proxy closes the tunnel: the client's connection and the upstream's (the backend
     * sees it go), and gives the upstream's connection slot back.
     */
    private static void assertTunnelClosed(HttpBalancer lb, TestBackend b, UpstreamPool pool, Socket s,
            CompletableFuture<Void> writer) throws Exception {
        dev.lbkit.testing.Await.until(() -> lb.stats().openConnections() == 0, Duration.ofSeconds(10));
        dev.lbkit.testing.Await.until(() -> b.openConnections() == 0, Duration.ofSeconds(10));
        dev.lbkit.testing.Await.until(() -> pool.snapshot().members().get(0).active() == 0, Duration.ofSeconds(10));
        s.close();
        writer.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * A socket with a small receive buffer (so that the proxy's writes to it stall early) on which an
     * {@code Upgrade: echo} request was answered 101.
     */
    private static Socket upgraded(HttpBalancer lb) throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(8 * 1024);
        s.connect(new java.net.InetSocketAddress("127.0.0.1", lb.address().getPort()));
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        String head = RawServer.readHead(s.getInputStream());
        assertTrue(head.startsWith("HTTP/1.1 101 "), head);
        return s;
    }

    @Test
    void http10ClientKeepAlive() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("one-oh"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(5000);
            for (int i = 0; i < 2; i++) {
                s.getOutputStream().write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                String r = Fixtures.readResponse(s.getInputStream());
                assertTrue(r.startsWith("HTTP/1.1 200 ") && r.endsWith("one-oh"), r);
                assertTrue(r.toLowerCase().contains("connection: keep-alive"), r);
            }
            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String last = Fixtures.readAll(s.getInputStream());
            assertTrue(last.startsWith("HTTP/1.1 200 ") && last.endsWith("one-oh"), last);
        }
    }

    /** A minimal RFC 6455 echo server: handshake, then unmasked echoes of text frames until a close. */
    private static void webSocketEcho(Socket sock) throws Exception {
        InputStream in = sock.getInputStream();
        OutputStream out = sock.getOutputStream();
        String head = RawServer.readHead(in);
        String key = head.lines().filter(l -> l.toLowerCase().startsWith("sec-websocket-key:"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElseThrow();
        String accept = java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-1")
                .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
        out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        for (;;) {
            int b0 = in.read();
            int b1 = in.read();
            if (b0 < 0 || b1 < 0) {
                return;
            }
            int len = b1 & 0x7f;
            if (len == 126) {
                len = (in.read() << 8) | in.read();
            }
            byte[] mask = in.readNBytes(4);
            byte[] payload = in.readNBytes(len);
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= mask[i % 4];
            }
            int opcode = b0 & 0x0f;
            out.write(0x80 | opcode);
            out.write(payload.length);
            out.write(payload);
            out.flush();
            if (opcode == 8) {
                return;
            }
        }
    }

    @Test
    void jdkWebSocketClientTalksThroughTheProxy() throws Exception {
        try (RawServer ws = new RawServer(TunnelTest::webSocketEcho);
                UpstreamPool pool = UpstreamPool.of(upstream(ws.port()));
                HttpBalancer lb = Fixtures.start(pool, ProxyTimeouts.DEFAULT, RetryPolicy.DEFAULT)) {
            java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
            java.net.http.WebSocket socket = java.net.http.HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(java.net.URI.create("ws://127.0.0.1:" + lb.address().getPort() + "/chat"),
                            new java.net.http.WebSocket.Listener() {
                                @Override
                                public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket w,
                                        CharSequence data, boolean last) {
                                    got.add(data.toString());
                                    w.request(1);
                                    return null;
                                }
                            }).get(5, java.util.concurrent.TimeUnit.SECONDS);
            socket.sendText("hello", true).get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals("hello", got.poll(5, java.util.concurrent.TimeUnit.SECONDS));
            socket.sendText("again", true).get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals("again", got.poll(5, java.util.concurrent.TimeUnit.SECONDS));
            socket.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "bye").get(5, java.util.concurrent.TimeUnit.SECONDS);
            Fixtures.await(() -> ws.openConnections() == 0, Duration.ofSeconds(5));
        }
    }
}
