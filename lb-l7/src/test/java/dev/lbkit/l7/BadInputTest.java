package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Malformed or hostile client input, each on a raw socket (RFC 9112 §2–§7, request smuggling). */
class BadInputTest {
    private static TestBackend backend;
    private static UpstreamPool pool;
    private static HttpBalancer lb;

    @BeforeAll
    static void start() {
        backend = TestBackend.start(Script.ok("fine"));
        pool = UpstreamPool.of(upstream(backend.port()));
        lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                .limits(ClientLimits.builder().maxHeaderSize(4096).maxInitialLineLength(1024).maxBodySize(100).build())
                .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
    }

    @AfterAll
    static void stop() {
        lb.close();
        pool.close();
        backend.close();
    }

    /** Sends {@code request}, returns the whole answer; asserts the status and that the proxy closed. */
    private static String expect(int status, String request) throws Exception {
        int before = backend.requestCount();
        String got = Fixtures.raw(lb, request);
        assertTrue(got.startsWith("HTTP/1.1 " + status + " "), "expected " + status + " for "
                + request.replace("\r", "\\r").replace("\n", "\\n") + ", got: " + got);
        assertTrue(got.contains("connection: close") || got.contains("Connection: close"), got);
        assertTrue(!got.contains("<<timeout>>"), "connection left open: " + got);
        assertEquals(before, backend.requestCount(), "the request must not reach the upstream");
        return got;
    }

    @Test
    void wellFormedRequestPasses() throws Exception {
        String got = Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(got.startsWith("HTTP/1.1 200 "), got);
        assertTrue(got.endsWith("fine"), got);
    }

    @Test
    void malformedRequestLineIs400() throws Exception {
        expect(400, "GET\r\nHost: x\r\n\r\n");
        expect(400, "GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n");
        expect(400, "GET nopath HTTP/1.1\r\nHost: x\r\n\r\n");
    }

    @Test
    void malformedHeaderIs400() throws Exception {
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nName : v\r\n\r\n");
    }

    @Test
    void missingOrDuplicateHostIs400() throws Exception {
        expect(400, "GET / HTTP/1.1\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    }

    @Test
    void invalidHostIs400() throws Exception {
        // RFC 9112 §3.2; the characters nginx refuses (ngx_http_validate_host), in Host or an absolute target.
        for (String host : List.of("a b", "a\tb", "a/b", "a\\b", "a..b", "..", "x:80/../admin")) {
            expect(400, "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        }
        expect(400, "GET http://a..b/c HTTP/1.1\r\nHost: x\r\n\r\n");
        for (String host : List.of("a.example", "A-b_c.example.:8080", "[::1]:80", "192.0.2.1", "xn--bcher-kva.example")) {
            String got = Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
            assertTrue(got.startsWith("HTTP/1.1 200 "), host + ": " + got);
        }
    }

    @Test
    void headerSectionTooLargeIs431() throws Exception {
        expect(431, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(5000) + "\r\n\r\n");
    }

    @Test
    void requestLineTooLongIs414() throws Exception {
        expect(414, "GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    }

    @Test
    void bodyOverTheLimitIs413() throws Exception {
        expect(413, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n" + "a".repeat(101));
        expect(413, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n" + "a".repeat(128)
                + "\r\n0\r\n\r\n");
    }

    @Test
    void contentLengthWithTransferEncodingIs400() throws Exception {
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    }

    @Test
    void differentContentLengthsAre400() throws Exception {
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nabcdef");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n");
        // Netty's decoder compares repeated lengths only from HTTP/1.1 on; lb-l7 refuses them below too.
        expect(400, "POST / HTTP/1.0\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef");
        expect(400, "POST / HTTP/1.0\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nabcde");
        String smuggled = "GET /smuggled HTTP/1.0\r\n\r\n";
        expect(400, "POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 0\r\nContent-Length: "
                + smuggled.length() + "\r\n\r\n" + smuggled);
    }

    @Test
    void equalContentLengthsInHttp11AreFoldedIntoOne() throws Exception {
        String got = Fixtures.raw(lb, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n"
                + "Connection: close\r\n\r\nabcde");
        assertTrue(got.startsWith("HTTP/1.1 200 "), got);
        var req = backend.requests().get(backend.requestCount() - 1);
        assertEquals("abcde", req.bodyText());
        assertEquals(java.util.List.of("5"), req.headers("Content-Length"));
    }

    @Test
    void transferEncodingVariantsAreRefused() throws Exception {
        expect(501, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n");
        expect(501, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\n");
        // Transfer-Encoding is not HTTP/1.0 (RFC 9112 §6.1).
        expect(400, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        expect(400, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\nContent-Length: 3\r\n\r\nabc");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n");
        // The coding's name is case-insensitive.
        int before = backend.requestCount();
        String got = Fixtures.raw(lb, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n"
                + "3\r\nabc\r\n0\r\n\r\n");
        assertTrue(got.startsWith("HTTP/1.1 200 "), got);
        assertEquals("abc", backend.requests().get(before).bodyText());
    }

    @Test
    void contentLengthThatIsNotPlainDigitsIs400() throws Exception {
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nabcde");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nabcde");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\nabcde");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nabcde");
        expect(400, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\nabcde");
        // Leading zeros are still a decimal number.
        int before = backend.requestCount();
        String got = Fixtures.raw(lb, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 05\r\nConnection: close\r\n\r\nabcde");
        assertTrue(got.startsWith("HTTP/1.1 200 "), got);
        assertEquals("abcde", backend.requests().get(before).bodyText());
    }

    @Test
    void chunkExtensionsAndLeadingZerosAreAccepted() throws Exception {
        for (String body : new String[] {"5;foo=bar;q=\"x\"\r\nabcde\r\n0;z\r\n\r\n", "0005\r\nabcde\r\n0\r\n\r\n"}) {
            int before = backend.requestCount();
            String got = Fixtures.raw(lb, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    + "Connection: close\r\n\r\n" + body);
            assertTrue(got.startsWith("HTTP/1.1 200 "), got);
            assertEquals("abcde", backend.requests().get(before).bodyText());
        }
    }

    /** Chunk sizes and chunk line ends a lenient parser would take, and trailers with bad bytes or names. */
    @Test
    void malformedChunksAndTrailersAre400() throws Exception {
        for (String body : new String[] {"5g\r\nabcde\r\n0\r\n\r\n", "-5\r\nabcde\r\n0\r\n\r\n",
            "0x5\r\nabcde\r\n0\r\n\r\n", "fffffffffffffffff5\r\nabcde\r\n0\r\n\r\n",
            "100000005\r\nabcde\r\n0\r\n\r\n", "5\r\nabcdeXX0\r\n\r\n", "5\r\nabcde0\r\n\r\n",
            "5\r\nabcde\n0\r\n\r\n", "5\nabcde\r\n0\r\n\r\n", "5;a\rb\r\nabcde\r\n0\r\n\r\n",
            "5 \r\nabcde\r\n0\r\n\r\n", "\r\nabcde\r\n0\r\n\r\n", "3\r\nabc\r\n0\r\nX-T: a\rb\r\n\r\n",
            "3\r\nabc\r\n0\r\nX-T: a\0b\r\n\r\n", "3\r\nabc\r\n0\r\nBad Name: a\r\n\r\n"}) {
            int before = backend.requestCount();
            String got = Fixtures.raw(lb, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
            assertTrue(got.startsWith("HTTP/1.1 400 "), body + ": " + got);
            assertTrue(!got.contains("<<timeout>>"), got);
            // The head may have been forwarded already; a broken body must never complete upstream.
            assertEquals(before, backend.requestCount(), body);
        }
    }

    @Test
    void invalidChunkSizeIs400() throws Exception {
        int before = backend.requestCount();
        String got = Fixtures.raw(lb, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
        assertTrue(got.startsWith("HTTP/1.1 400 "), got);
        assertTrue(!got.contains("<<timeout>>"), got);
        // The head may have been forwarded already; a broken body must never complete upstream.
        assertTrue(backend.requestCount() == before, "upstream saw a complete request");
    }

    @Test
    void unknownTransferCodingIs501() throws Exception {
        expect(501, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc");
        expect(501, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    }

    @Test
    void obsFoldBareCrAndNulAre400() throws Exception {
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n");
        expect(400, "GET / HTTP/1.1\rHost: x\r\n\r\n");
    }

    /**
     * The head check keeps its state between reads: a head sent a piece at a time is judged as a whole,
     * including a bare CR or an obs-fold whose two bytes arrive in different reads.
     */
    @Test
    void invalidFieldNamesAndLineEndsAre400() throws Exception {
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nX-\u00e4: v\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\n Host: x\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\n\tX-A: v\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nX-A\0: v\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\r\n\r\n");
        expect(400, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\r\r\n");
    }

    @Test
    void invalidRequestTargetsAre400() throws Exception {
        expect(400, "GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n");
        expect(400, "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n");
        expect(400, "GET * HTTP/1.1\r\nHost: x\r\n\r\n");
        expect(400, "GET http://u@a.test/ HTTP/1.1\r\nHost: x\r\n\r\n");
        expect(400, "GET ftp://a.test/ HTTP/1.1\r\nHost: x\r\n\r\n");
        expect(400, "GET a.test:80 HTTP/1.1\r\nHost: x\r\n\r\n");
    }

    /** Only 100-continue is an expectation the proxy meets; a body over the limit is refused, not invited. */
    @Test
    void otherExpectationsAre417AndAnOversizedBodyIsNotInvited() throws Exception {
        expect(417, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: something\r\n\r\nabc");
        String got = expect(413, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\nExpect: 100-continue\r\n\r\n");
        assertTrue(!got.contains("100 Continue"), got);
    }

    @Test
    void aHeadArrivingInPiecesIsCheckedAcrossReads() throws Exception {
        assertTrue(inPieces(200, "GET / HTTP/1.1\r\nHost: x\r\n", "X-A: a\r", "\n\r", "\n").endsWith("fine"));
        inPieces(400, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n", " folded\r\n\r\n");
        inPieces(400, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r", "b\r\n\r\n");
        inPieces(400, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a", "\0", "b\r\n\r\n");
    }

    /** Sends {@code pieces} 50 ms apart (separate reads for the proxy), then reads one response. */
    private static String inPieces(int status, String... pieces) throws Exception {
        int before = backend.requestCount();
        try (java.net.Socket s = new java.net.Socket(lb.address().getAddress(), lb.address().getPort())) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(5000);
            for (String p : pieces) {
                s.getOutputStream().write(p.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                Thread.sleep(50);
            }
            String got = Fixtures.readResponse(s.getInputStream());
            assertTrue(got.startsWith("HTTP/1.1 " + status + " "), "expected " + status + ", got: " + got);
            assertEquals(status == 200 ? before + 1 : before, backend.requestCount(), "requests upstream");
            return got;
        }
    }

    /**
     * A request pipelined behind a refused one is never forwarded, whatever refused it (a check of the
     * frontend, lb-l7's own head check while Netty's decoder went on decoding, a 405): the error closes
     * the connection and nothing after it is read (RFC 9112 §9.6, as nginx).
     */
    @Test
    void requestsPipelinedBehindARefusedOneAreNeverForwarded() throws Exception {
        String[][] refused = {{"400", "GET /nohost HTTP/1.1\r\n\r\n"},
            {"400", "GET /folded HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n"},
            {"405", "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n"}};
        for (String[] r : refused) {
            int before = backend.requestCount();
            String got = Fixtures.raw(lb, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n" + r[1]
                    + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(got.startsWith("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfineHTTP/1.1 " + r[0] + " "), got);
            assertTrue(got.endsWith("</html>\n"), "one error response, then the close: " + got);
            // A request sent afterwards is recorded after anything the proxy forwarded before it.
            assertTrue(Fixtures.raw(lb, "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .startsWith("HTTP/1.1 200 "));
            var targets = backend.requests().subList(before, backend.requestCount()).stream()
                    .map(dev.lbkit.testing.RecordedRequest::target).toList();
            assertEquals(java.util.List.of("/first", "/after"), targets, r[1]);
        }
    }

    /**
     * A client still sending what the proxy refused (a body over the limit, announced or found mid-body, a
     * body behind a bad header or an unmet expectation, pipelined requests behind a bad one) reads the whole
     * answer: the proxy shuts its output down and drops what comes until the client is done (nginx's
     * lingering close). Closing at once with unread bytes resets the connection, and on loopback the reset
     * throws away the answer waiting in the client's receive buffer.
     */
    @Test
    void aClientStillSendingWhatWasRefusedReadsTheWholeAnswer() throws Exception {
        int size = 10 * 1024 * 1024;
        byte[] plain = new byte[64 * 1024];
        java.util.Arrays.fill(plain, (byte) 'a');
        String chunk = Integer.toHexString(plain.length) + "\r\n" + new String(plain, StandardCharsets.ISO_8859_1)
                + "\r\n";
        String[][] cases = {
            {"413", "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n", null},
            {"413", "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", chunk},
            {"400", "POST /up HTTP/1.1\r\nHost: x\r\nBad Name: v\r\nContent-Length: " + size + "\r\n\r\n", null},
            {"417", "POST /up HTTP/1.1\r\nHost: x\r\nExpect: something\r\nTransfer-Encoding: chunked\r\n\r\n", chunk},
            {"400", "GET /nohost HTTP/1.1\r\n\r\n", "GET /pipelined HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000)}};
        for (String[] c : cases) {
            int before = backend.requestCount();
            byte[] piece = c[2] == null ? plain : c[2].getBytes(StandardCharsets.ISO_8859_1);
            String got = Fixtures.sendAllThenRead(lb, c[1], piece, size);
            assertTrue(got.startsWith("HTTP/1.1 " + c[0] + " ") && got.endsWith("</html>\n"), c[1] + ": " + got);
            assertEquals(before, backend.requestCount(), "nothing reaches the upstream: " + c[1]);
        }
    }

    @Test
    void absoluteFormIsAccepted() throws Exception {
        String got = Fixtures.raw(lb, "GET http://example.test/abs?q=1 HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n");
        assertTrue(got.startsWith("HTTP/1.1 200 "), got);
        var req = backend.requests().get(backend.requestCount() - 1);
        assertEquals("/abs?q=1", req.target());
        assertEquals("example.test", req.header("Host").orElseThrow());
    }

    @Test
    void connectIs405() throws Exception {
        expect(405, "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n");
    }

    @Test
    void unsupportedVersionIs505() throws Exception {
        expect(505, "GET / HTTP/1.2\r\nHost: x\r\n\r\n");
    }

    @Test
    void noLeftoverConnections() throws Exception {
        Fixtures.raw(lb, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Fixtures.await(() -> lb.stats().openConnections() == 0, Duration.ofSeconds(2));
    }
}
