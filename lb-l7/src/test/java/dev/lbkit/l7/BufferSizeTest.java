package dev.lbkit.l7;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link HttpBalancer.Builder#bufferSize}: no read takes more than it from either side. Reads are seen
 * where the proxy re-frames a body, one chunk per read: a close-delimited response to an HTTP/1.1
 * client, and a chunked request sent on as chunks. Bodies of 1 MiB, written at once, so that every read
 * finds more waiting than it may take.
 */
class BufferSizeTest {
    private static final int SIZE = HttpBalancer.MIN_BUFFER_SIZE;
    private static final byte[] BODY = new byte[1024 * 1024];

    static {
        new Random(7).nextBytes(BODY);
    }

    private static HttpBalancer start(int upstreamPort, int bufferSize) {
        return HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1).bufferSize(bufferSize)
                .limits(ClientLimits.builder().maxBodySize(0).build())
                .route(Route.builder("/").group(UpstreamGroup.of(UpstreamPool.of(Fixtures.upstream(upstreamPort))))
                        .build())
                .build().start();
    }

    @Test
    void noReadFromAnUpstreamTakesMoreThanTheBufferSize() throws Exception {
        try (RawServer up = new RawServer(s -> {
                    RawServer.readHead(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    // Close-delimited: the proxy sends it to an HTTP/1.1 client chunked, one chunk per read.
                    out.write("HTTP/1.1 200 OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.write(BODY);
                    out.flush();
                });
                HttpBalancer lb = start(up.port(), SIZE);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            // Let the body pile up in the proxy's upstream socket: each read then comes back full.
            Thread.sleep(300);
            InputStream in = s.getInputStream();
            String head = RawServer.readHead(in);
            assertTrue(head.toLowerCase().contains("transfer-encoding: chunked"), head);
            Chunks chunks = Chunks.read(in);
            assertArrayEquals(BODY, chunks.data);
            assertTrue(chunks.largest <= SIZE, "a chunk of " + chunks.largest + " bytes, more than one read of " + SIZE);
            assertTrue(chunks.count >= BODY.length / SIZE, chunks.count + " chunks");
        }
    }

    @Test
    void noReadFromAClientTakesMoreThanTheBufferSize() throws Exception {
        CompletableFuture<Chunks> received = new CompletableFuture<>();
        try (RawServer up = new RawServer(s -> {
                    InputStream in = s.getInputStream();
                    String head = RawServer.readHead(in);
                    if (!head.toLowerCase().contains("transfer-encoding: chunked")) {
                        received.completeExceptionally(new AssertionError("not chunked: " + head));
                        return;
                    }
                    received.complete(Chunks.read(in));
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                            .getBytes(StandardCharsets.US_ASCII));
                });
                HttpBalancer lb = start(up.port(), SIZE);
                Socket s = new Socket("127.0.0.1", lb.address().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            // One chunk of the whole body, written at once: only the proxy's reads can cut it smaller.
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            request.writeBytes(("POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + Integer.toHexString(BODY.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            request.writeBytes(BODY);
            request.writeBytes("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(request.toByteArray());
            out.flush();
            Chunks chunks = received.get(10, TimeUnit.SECONDS);
            assertArrayEquals(BODY, chunks.data);
            assertTrue(chunks.largest <= SIZE, "a chunk of " + chunks.largest + " bytes, more than one read of " + SIZE);
            assertTrue(Fixtures.readAll(s.getInputStream()).startsWith("HTTP/1.1 200 "));
        }
    }

    @Test
    void theDefaultIs32KiBAndAnOutOfRangeSizeIsRefusedByName() throws Exception {
        try (RawServer up = new RawServer(s -> { });
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .route(Route.builder("/").group(UpstreamGroup.of(UpstreamPool.of(Fixtures.upstream(up.port()))))
                                .build())
                        .build()) {
            assertEquals(32 * 1024, lb.bufferSize());
            assertEquals(HttpBalancer.DEFAULT_BUFFER_SIZE, lb.bufferSize());
        }
        for (int bad : new int[] {HttpBalancer.MIN_BUFFER_SIZE - 1, HttpBalancer.MAX_BUFFER_SIZE + 1, 0, -1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HttpBalancer.builder().bufferSize(bad));
            assertTrue(e.getMessage().contains("bufferSize") && e.getMessage().contains(String.valueOf(bad)),
                    e.getMessage());
        }
    }

    /** A chunked body's data, and how many chunks carried it and the largest of them. */
    private record Chunks(byte[] data, int count, int largest) {
        static Chunks read(InputStream in) throws IOException {
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            int count = 0;
            int largest = 0;
            while (true) {
                String line = line(in);
                int semi = line.indexOf(';');
                int size = Integer.parseInt(semi < 0 ? line : line.substring(0, semi), 16);
                if (size == 0) {
                    line(in); // the empty line after the last chunk (no trailers)
                    return new Chunks(data.toByteArray(), count, largest);
                }
                data.writeBytes(in.readNBytes(size));
                count++;
                largest = Math.max(largest, size);
                if (!line(in).isEmpty()) {
                    throw new IOException("no CRLF after a chunk of " + size);
                }
            }
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder sb = new StringBuilder();
            int c;
            while ((c = in.read()) != '\n') {
                if (c < 0) {
                    throw new IOException("the body ended inside a chunk's framing");
                }
                if (c != '\r') {
                    sb.append((char) c);
                }
            }
            return sb.toString();
        }
    }
}
