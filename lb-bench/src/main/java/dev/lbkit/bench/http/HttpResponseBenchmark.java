package dev.lbkit.bench.http;

import dev.lbkit.l7.internal.FrontendHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The L7 response path from an upstream: decoding one whole response (head and a small body) with
 * lb-l7's upstream response decoder, as an upstream connection's pipeline has it. {@code lbkit} is the
 * decoder as lb-l7 runs it (its fast path for common heads), {@code netty} the same decoder with the
 * fast path off (Netty's {@code HttpResponseDecoder} with lb-l7's limits and header maps). Run with
 * {@code -prof gc} to see the bytes allocated per response.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HttpResponseBenchmark {

    /** The response: nginx's for a static page (the benchmark upstream's), or a small API answer. */
    @Param({"nginx", "api"})
    public String response;

    /** The decoder: {@code lbkit} (with its fast path) or {@code netty} (Netty's decoder alone). */
    @Param({"lbkit", "netty"})
    public String decoder;

    private ByteBuf wire;
    private EmbeddedChannel channel;

    /** Builds the response bytes once, in a pooled direct buffer like a socket read would give. */
    @Setup(Level.Trial)
    public void setUp() {
        String head = switch (response) {
            case "nginx" -> "HTTP/1.1 200 OK\r\n"
                    + "Server: nginx/1.22.1\r\n"
                    + "Date: Thu, 26 Nov 2026 08:45:00 GMT\r\n"
                    + "Content-Type: text/html\r\n"
                    + "Content-Length: 811\r\n"
                    + "Last-Modified: Thu, 26 Nov 2026 08:00:00 GMT\r\n"
                    + "Connection: keep-alive\r\n"
                    + "ETag: \"6745a0c0-32b\"\r\n"
                    + "Accept-Ranges: bytes\r\n\r\n" + "x".repeat(811);
            case "api" -> "HTTP/1.1 201 Created\r\n"
                    + "Content-Type: application/json\r\n"
                    + "Content-Length: 27\r\n"
                    + "X-Request-Id: 5b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\r\n\r\n"
                    + "{\"id\":42,\"status\":\"queued\"}";
            default -> throw new IllegalArgumentException("unknown response: " + response);
        };
        byte[] bytes = head.getBytes(StandardCharsets.US_ASCII);
        wire = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        channel = new EmbeddedChannel(FrontendHandler.newResponseDecoder("lbkit".equals(decoder)));
    }

    /** Releases the response bytes and the channel. */
    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
        wire.release();
    }

    /**
     * Decodes one response, head and body.
     *
     * @param bh sink
     */
    @Benchmark
    public void decode(Blackhole bh) {
        channel.writeInbound(wire.retainedDuplicate());
        Object msg;
        boolean last = false;
        while ((msg = channel.readInbound()) != null) {
            try {
                if (((HttpObject) msg).decoderResult().isFailure()) {
                    throw new IllegalStateException("response did not decode", ((HttpObject) msg).decoderResult().cause());
                }
                last |= msg instanceof LastHttpContent;
                bh.consume(msg);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
        if (!last) {
            throw new IllegalStateException("the response did not end");
        }
    }
}
