package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
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
}
