package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.EchoServer;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StreamingTest {
    private static HttpBalancer start(UpstreamPool pool) {
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                .limits(ClientLimits.builder().maxBodySize(0).build())
                .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
    }

    private static Socket connect(HttpBalancer lb) throws Exception {
        Socket s = new Socket("127.0.0.1", lb.address().getPort());
        s.setSoTimeout(5000);
        return s;
    }

    @Test
    void largeRequestBodyIsStreamedToTheUpstream() throws Exception {
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new Random(1).nextBytes(big);
        try (TestBackend b = TestBackend.start(Script.ok("got it"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool)) {
            HttpResponse<String> r = Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/up"))
                    .timeout(Duration.ofSeconds(10)).PUT(HttpRequest.BodyPublishers.ofByteArray(big)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertArrayEquals(big, b.requests().get(0).body());
        }
    }

    @Test
    void uploadToAnUpstreamThatStopsReadingIsHeldBackAtTheClient() throws Exception {
        // The proxy reads the client only while the upstream channel is writable: what it holds is the
        // upstream's write buffer (64 KiB high-water mark) plus one read, not the upload.
        long size = 256L * 1024 * 1024;
        try (EchoServer silent = EchoServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                EchoServer.Mode.SILENT, "");
                UpstreamPool pool = UpstreamPool.of(upstream(silent.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .timeouts(ProxyTimeouts.builder().send(Duration.ofSeconds(30)).build())
                        .limits(ClientLimits.builder().maxBodySize(0).build())
                        // The paused proxy sees the client's close only behind the bytes it left unread.
                        .shutdownTimeout(Duration.ofSeconds(1))
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                Socket s = new Socket()) {
            s.setSendBufferSize(64 * 1024);
            s.connect(new InetSocketAddress("127.0.0.1", lb.address().getPort()));
            long directBefore = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            AtomicLong sent = new AtomicLong();
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    byte[] chunk = new byte[64 * 1024];
                    while (sent.get() < size) {
                        out.write(chunk);
                        sent.addAndGet(chunk.length);
                    }
                } catch (IOException e) {
                    // The socket was closed at the end of the test.
                }
            });
            writer.setDaemon(true);
            writer.start();
            // Until the client is blocked: no progress for a second (or everything went, the bug).
            long last = -1;
            int still = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (still < 5 && writer.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(200);
                long now = sent.get();
                still = now == last ? still + 1 : 0;
                last = now;
            }
            long direct = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - directBefore;
            // Kernel buffers on both hops hold a few MiB at most; the proxy's pool grows by 4 MiB chunks.
            assertTrue(sent.get() < 64L * 1024 * 1024, "the client pushed " + sent.get()
                    + " bytes towards an upstream that reads nothing; pooled direct memory grew by " + direct);
            assertTrue(direct < 32L * 1024 * 1024, "pooled direct memory grew by " + direct);
            s.close();
            writer.join(10_000);
        }
    }

    @Test
    void largeResponseToASlowClientKeepsMemoryBounded() throws Exception {
        byte[] big = new byte[48 * 1024 * 1024];
        new Random(2).nextBytes(big);
        try (TestBackend b = TestBackend.start(Script.builder().body(big).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool);
                Socket s = connect(lb)) {
            s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] buf = new byte[256 * 1024];
            long total = 0;
            long maxDirect = 0;
            int n;
            int reads = 0;
            while ((n = in.read(buf)) >= 0) {
                total += n;
                if (++reads % 16 == 0) {
                    Thread.sleep(1);
                    maxDirect = Math.max(maxDirect, PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory());
                }
            }
            assertTrue(total > big.length, "got " + total);
            // The pool's arenas hold chunks of 4 MiB; a whole-body buffer would need 48 MiB.
            assertTrue(maxDirect < 24L * 1024 * 1024, "direct memory in use reached " + maxDirect);
        }
    }

    @Test
    void chunkedBothWays() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("chunked answer").chunked().build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool)) {
            String got = Fixtures.raw(lb, "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            assertEquals("hello world", b.requests().get(0).bodyText());
            assertEquals("chunked", b.requests().get(0).header("Transfer-Encoding").orElseThrow());
            assertTrue(got.toLowerCase().contains("transfer-encoding: chunked"), got);
            assertTrue(got.endsWith("e\r\nchunked answer\r\n0\r\n\r\n"), got);
        }
    }

    @Test
    void closeDelimitedResponseIsChunkedForHttp11AndCloseDelimitedForHttp10() throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().body("until close").closeDelimited().build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool)) {
            try (Socket s = connect(lb)) {
                OutputStream out = s.getOutputStream();
                out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String head = readHead(s.getInputStream());
                assertTrue(head.toLowerCase().contains("transfer-encoding: chunked"), head);
                assertEquals("b\r\nuntil close\r\n0\r\n\r\n", new String(s.getInputStream().readNBytes(21),
                        StandardCharsets.US_ASCII));
                // Still open: a second request on the same connection works.
                out.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(Fixtures.readAll(s.getInputStream()).startsWith("HTTP/1.1 200 "));
            }
            String old = Fixtures.raw(lb, "GET / HTTP/1.0\r\n\r\n");
            assertTrue(old.startsWith("HTTP/1.1 200 "), old);
            assertFalse(old.toLowerCase().contains("chunked"), old);
            assertTrue(old.endsWith("\r\n\r\nuntil close"), old);
        }
    }

    @Test
    void headAnd204And304HaveNoBody() throws Exception {
        try (TestBackend b = TestBackend.start(new InetSocketAddress("127.0.0.1", 0), req -> switch (req.target()) {
            case "/204" -> Script.builder().status(204, "No Content").build();
            case "/304" -> Script.builder().status(304, "Not Modified").build();
            default -> Script.ok("body of get");
        });
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool);
                Socket s = connect(lb)) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 200 "), head);
            assertTrue(head.toLowerCase().contains("content-length: 11"), head);
            out.write("GET /204 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(readHead(in).startsWith("HTTP/1.1 204 "));
            out.write("GET /304 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(readHead(in).startsWith("HTTP/1.1 304 "));
            out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String get = Fixtures.readResponse(in);
            assertTrue(get.startsWith("HTTP/1.1 200 ") && get.endsWith("body of get"), get);
        }
    }

    private static final String GET_CLOSE = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    /** {@code request} on a new connection through a proxy whose upstream answers {@code rawResponse}. */
    private static String viaUpstream(String rawResponse, String request) throws Exception {
        try (TestBackend b = TestBackend.start(Script.builder().rawResponse(rawResponse).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool)) {
            return Fixtures.raw(lb, request);
        }
    }

    @Test
    void bodylessUpstreamResponsesWithFramingFieldsEndAtTheirHead() throws Exception {
        String got = viaUpstream("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", GET_CLOSE);
        assertTrue(got.startsWith("HTTP/1.1 304 ") && got.endsWith("\r\n\r\n") && !got.contains("<<timeout>>"), got);
        got = viaUpstream("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", GET_CLOSE);
        assertTrue(got.startsWith("HTTP/1.1 204 ") && got.endsWith("\r\n\r\n") && !got.contains("<<timeout>>")
                && !got.toLowerCase().contains("transfer-encoding"), got);
        got = viaUpstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(got.startsWith("HTTP/1.1 200 ") && got.endsWith("\r\n\r\n") && !got.contains("<<timeout>>"), got);
    }

    /** Interim responses (103 Early Hints) are not relayed; the final one is. */
    @Test
    void interimUpstreamResponsesAreNotRelayed() throws Exception {
        String got = viaUpstream("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", GET_CLOSE);
        assertTrue(got.startsWith("HTTP/1.1 200 ") && got.endsWith("\r\n\r\nok") && !got.contains("103"), got);
    }

    /** Upstream heads whose framing is ambiguous or invalid (RFC 9112 §6) are a 502, never passed on. */
    @Test
    void upstreamHeadsWithInvalidFramingAre502() throws Exception {
        for (String raw : new String[] {
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk",
            // Netty frames an HTTP/1.0 message by its first Content-Length and drops the others.
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(70_000) + "\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Le"}) {
            String got = viaUpstream(raw, GET_CLOSE);
            assertTrue(got.startsWith("HTTP/1.1 502 "), raw.substring(0, Math.min(80, raw.length())) + ": " + got);
        }
    }

    /** A broken or cut body is never made to look complete: the client sees the connection close. */
    @Test
    void brokenOrTruncatedUpstreamBodiesNeverLookComplete() throws Exception {
        for (String raw : new String[] {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"}) {
            String got = viaUpstream(raw, GET_CLOSE);
            assertFalse(got.endsWith("0\r\n\r\n") || got.contains("<<timeout>>"), got);
        }
        String got = viaUpstream("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", GET_CLOSE);
        assertTrue(got.startsWith("HTTP/1.1 200 ") && got.endsWith("\r\n\r\nhello"), got);
        got = viaUpstream("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "GET / HTTP/1.0\r\n\r\n");
        assertTrue(got.startsWith("HTTP/1.1 200 ") && got.endsWith("\r\n\r\nhello"), got);
    }

    @Test
    void headerNamesKeepTheSendersSpellingBothWays() throws Exception {
        // Common names are shared constants inside the proxy: they must only be used for the exact spelling.
        String raw = "HTTP/1.1 200 OK\r\ncontent-type: text/x\r\nSERVER: up\r\nETag: \"e1\"\r\n"
                + "Cache-control: no\r\nContent-Length: 2\r\n\r\nhi";
        try (TestBackend b = TestBackend.start(Script.builder().rawResponse(raw).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool);
                Socket s = connect(lb)) {
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: x\r\nuser-agent: ua\r\nACCEPT: */*\r\n"
                    + "Accept-Language: en\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String r = Fixtures.readResponse(s.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n") && r.endsWith("\r\n\r\nhi"), r);
            for (String line : new String[] {"\r\ncontent-type: text/x\r\n", "\r\nSERVER: up\r\n",
                    "\r\nETag: \"e1\"\r\n", "\r\nCache-control: no\r\n"}) {
                assertTrue(r.contains(line), line + " in " + r);
            }
            var names = b.requests().get(0).headers().stream().map(java.util.Map.Entry::getKey).toList();
            assertTrue(names.containsAll(java.util.List.of("user-agent", "ACCEPT", "Accept-Language")), names.toString());
        }
    }

    @Test
    void chunkedResponseTrailersReachTheClient() throws Exception {
        String raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n"
                + "0\r\nX-Checksum: abc\r\n\r\n";
        try (TestBackend b = TestBackend.start(Script.builder().rawResponse(raw).build());
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool);
                Socket s = connect(lb)) {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            StringBuilder r = new StringBuilder();
            while (!(r.indexOf("\r\n0\r\n") > 0 && r.toString().endsWith("\r\n\r\n"))) {
                int c = in.read();
                if (c < 0) {
                    break;
                }
                r.append((char) c);
            }
            String text = r.toString();
            assertTrue(text.startsWith("HTTP/1.1 200 OK\r\n"), text);
            assertTrue(text.endsWith("\r\n\r\n2\r\nhi\r\n0\r\nX-Checksum: abc\r\n\r\n"), text);
        }
    }

    @Test
    void expectContinueIsAnsweredBeforeTheBody() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("thanks"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool);
                Socket s = connect(lb)) {
            OutputStream out = s.getOutputStream();
            out.write("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String interim = readHead(s.getInputStream());
            assertTrue(interim.startsWith("HTTP/1.1 100 Continue"), interim);
            out.write("data".getBytes(StandardCharsets.US_ASCII));
            String r = Fixtures.readResponse(s.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 200 ") && r.endsWith("thanks"), r);
            assertEquals("data", b.requests().get(0).bodyText());
            assertTrue(b.requests().get(0).header("Expect").isEmpty());
        }
    }

    /** RFC 9110 §10.1.1: an HTTP/1.0 request's 100-continue is ignored (as nginx), never answered 417. */
    @Test
    void expectContinueFromAnHttp10ClientIsIgnored() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("thanks"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool)) {
            String got = Fixtures.raw(lb, "PUT / HTTP/1.0\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\ndata");
            assertTrue(got.startsWith("HTTP/1.1 200 ") && got.endsWith("thanks"), got);
            assertFalse(got.contains("100 Continue"), got);
            assertEquals("data", b.requests().get(0).bodyText());
            assertTrue(b.requests().get(0).header("Expect").isEmpty());
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (TestBackend b = TestBackend.start(new InetSocketAddress("127.0.0.1", 0), req ->
                req.target().equals("/slow") ? Script.builder().body("slow").delay(Duration.ofMillis(200)).build()
                        : Script.ok(req.target().substring(1)));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool);
                Socket s = connect(lb)) {
            s.getOutputStream().write(("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            for (String expected : new String[] {"slow", "a", "b", "c"}) {
                String r = Fixtures.readResponse(in);
                assertTrue(r.startsWith("HTTP/1.1 200 ") && r.endsWith(expected), expected + ": " + r);
            }
            assertEquals("xyz", b.requests().get(2).bodyText());
        }
    }

    /**
     * A client still pipelining requests behind one that asked for {@code Connection: close} reads that
     * response whole: the proxy lingers, dropping the rest unforwarded, instead of closing with unread
     * bytes (a reset, which throws the response away on loopback).
     */
    @Test
    void aClientPipeliningBehindConnectionCloseReadsTheWholeResponse() throws Exception {
        try (TestBackend b = TestBackend.start(Script.ok("last"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool)) {
            String got = Fixtures.sendAllThenRead(lb, "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    "GET /more HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000).getBytes(StandardCharsets.US_ASCII),
                    10 * 1024 * 1024);
            assertTrue(got.startsWith("HTTP/1.1 200 ") && got.endsWith("last"), got);
            assertEquals(1, b.requestCount());
        }
    }

    /**
     * Nothing behind a request whose response closes the connection is forwarded, even while that response
     * is still on its way to a client that does not read (nginx processes nothing after a request whose
     * keepalive is off): neither a request pipelined behind one that asked for {@code Connection: close},
     * nor one behind the rest of a body that the upstream answered before it was read. The client then reads
     * every response and the end of the connection, not a reset (the proxy lingers).
     *
     * <p>The responses to 100 requests with a 60 KB head and no body (which the proxy takes from the
     * upstream whether or not the client reads) fill the socket buffers first, so that the response under
     * test is still being written when the next request comes; the next request arrives only once the
     * proxy has the whole response from its upstream.
     */
    @ParameterizedTest(name = "upstream answered early: {0}")
    @ValueSource(booleans = {false, true})
    void nothingIsForwardedBehindAResponseThatClosesWhileItIsStillGoingOut(boolean early) throws Exception {
        int pads = 100;
        Script pad = Script.builder().header("X-Pad", "p".repeat(60_000)).build();
        // The response under test has no body either: the proxy holds back the upstream while the client
        // cannot take more, so a body read apart from its head would wait for the client, and the response
        // would never be whole at the proxy before the next request comes.
        Script lastOne = Script.builder().header("X-Last", "yes").build();
        try (TestBackend b = TestBackend.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                r -> r.target().equals("/pad") ? pad : r.target().equals("/last") ? lastOne : Script.ok(r.target()));
                // Answers as soon as the head is read, then reads the body it did not wait for.
                RawServer answersEarly = new RawServer(s -> {
                    InputStream in = s.getInputStream();
                    RawServer.readHead(in);
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly"
                            .getBytes(StandardCharsets.US_ASCII));
                    in.transferTo(OutputStream.nullOutputStream());
                });
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                UpstreamPool earlyPool = UpstreamPool.of(upstream(answersEarly.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .route(Route.builder("/early").group(UpstreamGroup.of(earlyPool)).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(lb.address());
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /pad HTTP/1.1\r\nHost: x\r\n\r\n".repeat(pads).getBytes(StandardCharsets.US_ASCII));
            Await.until(() -> lb.stats().route("/").responses(2) == pads, Duration.ofSeconds(30));
            String next = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
            if (early) {
                out.write("POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345"
                        .getBytes(StandardCharsets.US_ASCII));
                Await.until(() -> lb.stats().route("/early").responses(2) == 1, Duration.ofSeconds(30));
                out.write(("67890" + next).getBytes(StandardCharsets.US_ASCII));
            } else {
                // The next head all but its last CRLF comes with the request, so the proxy knows the client is
                // still sending whenever it decides how to close.
                out.write(("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        + next.substring(0, next.length() - 2)).getBytes(StandardCharsets.US_ASCII));
                Await.until(() -> lb.stats().route("/").responses(2) == pads + 1, Duration.ofSeconds(30));
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            String got = Fixtures.readAll(s.getInputStream());
            int last = got.lastIndexOf("HTTP/1.1 ");
            assertTrue(got.substring(last).startsWith("HTTP/1.1 200 ") && (early ? got.endsWith("early")
                    : got.substring(last).toLowerCase(java.util.Locale.ROOT).contains("x-last: yes")), got.substring(last));
            assertTrue(got.substring(last).toLowerCase(java.util.Locale.ROOT).contains("connection: close"),
                    got.substring(last));
            assertEquals(pads + (early ? 0 : 1), lb.stats().route("/").requests());
            assertTrue(b.requests().stream().noneMatch(r -> r.target().equals("/next")));
        }
    }

    @Test
    void manyPipelinedRequestsOverSeveralReadsKeepTheirOrder() throws Exception {
        // Reading pauses whenever a pipelined request must wait and resumes after each response: 400
        // requests written in bursts, while the responses are read, must all come back in order.
        int n = 400;
        try (TestBackend b = TestBackend.start(new InetSocketAddress("127.0.0.1", 0),
                req -> Script.ok(req.target().substring(1)));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port())); HttpBalancer lb = start(pool);
                Socket s = connect(lb)) {
            OutputStream out = s.getOutputStream();
            Thread writer = new Thread(() -> {
                try {
                    for (int burst = 0; burst < n / 50; burst++) {
                        StringBuilder sb = new StringBuilder();
                        for (int i = burst * 50; i < burst * 50 + 50; i++) {
                            sb.append("GET /r").append(i).append(" HTTP/1.1\r\nHost: x\r\n\r\n");
                        }
                        out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            writer.start();
            InputStream in = new java.io.BufferedInputStream(s.getInputStream());
            for (int i = 0; i < n; i++) {
                String r = Fixtures.readResponse(in);
                assertTrue(r.startsWith("HTTP/1.1 200 ") && r.endsWith("r" + i), i + ": " + r);
            }
            writer.join(5000);
            assertFalse(writer.isAlive());
            assertEquals(n, b.requests().size());
        }
    }

    private static String readHead(InputStream in) throws Exception {
        return RawServer.readHead(in);
    }
}
