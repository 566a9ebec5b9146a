package dev.lbkit.bench.http;

import dev.lbkit.l7.HeaderRules;
import dev.lbkit.l7.internal.FrontendHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
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
 * The L7 request path before forwarding: decoding a request head with lb-l7's own request decoder (Netty's
 * {@code HttpRequestDecoder} with strict line parsing, header validation and lb-l7's compact header
 * maps, exactly as a client connection gets it), then rewriting its headers
 * as a proxy must (hop-by-hop fields out through lb-l7's own removal, {@code Host} for the upstream, the
 * seed's {@code X-high-load-test: 123} in through lb-l7's {@link HeaderRules}). Each request ends as on a
 * keep-alive client connection: lb-l7's decoder gets its head back once the request is over and fills it
 * for the next one. Run with {@code -prof gc} to see the bytes allocated per request.
 *
 * <p>{@code parse} alone and {@code parseAndRewrite} share the same input, so their difference is the cost
 * of the rewrite.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HttpRequestBenchmark {

    /** The seed's added header, as lb-l7 applies a route's header rules. */
    private static final HeaderRules SEED_RULES = HeaderRules.builder().setRequestHeader("X-high-load-test", "123")
            .build();
    private static final AsciiString UPSTREAM_HOST = AsciiString.cached("127.0.0.1:8081");

    /** The request: a bare wrk-style GET, or a browser-like GET with cookies and hop-by-hop fields. */
    @Param({"wrk", "browser"})
    public String request;

    /**
     * The decoder: {@code lbkit} is lb-l7's (its RFC 9112 checks and compact header maps), {@code netty}
     * Netty's {@code HttpRequestDecoder} with the same limits and Netty's own header maps, for comparison.
     */
    @Param({"lbkit", "netty"})
    public String decoder;

    private ByteBuf wire;
    private EmbeddedChannel channel;
    private ChannelHandler requestDecoder;

    /** Builds the request bytes once, in a pooled direct buffer like a socket read would give. */
    @Setup(Level.Trial)
    public void setUp() {
        String text = switch (request) {
            case "wrk" -> "GET / HTTP/1.1\r\nHost: 127.0.0.1:8888\r\n\r\n";
            case "browser" -> "GET /static/app.js?v=42 HTTP/1.1\r\n"
                    + "Host: my-awesome-highload-app.local:8888\r\n"
                    + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
                    + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                    + "Accept-Language: en-US,en;q=0.5\r\n"
                    + "Accept-Encoding: gzip, deflate, br\r\n"
                    + "Connection: keep-alive, X-Trace\r\n"
                    + "X-Trace: 1\r\n"
                    + "Keep-Alive: timeout=5\r\n"
                    + "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n"
                    + "Upgrade-Insecure-Requests: 1\r\n\r\n";
            default -> throw new IllegalArgumentException("unknown request: " + request);
        };
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        wire = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        requestDecoder = "netty".equals(decoder)
                ? new HttpRequestDecoder(new HttpDecoderConfig().setMaxInitialLineLength(8192).setMaxHeaderSize(16384)
                        .setMaxChunkSize(16 * 1024).setStrictLineParsing(true).setAllowDuplicateContentLengths(true)
                        .setValidateHeaders(true))
                : FrontendHandler.newDecoder(8192, 16384);
        channel = new EmbeddedChannel(requestDecoder);
    }

    /** Releases the request bytes and the channel. */
    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
        wire.release();
    }

    /**
     * Decodes the request head.
     *
     * @param bh sink
     */
    @Benchmark
    public void parse(Blackhole bh) {
        channel.writeInbound(wire.retainedDuplicate());
        drain(bh, false);
    }

    /**
     * Decodes the request head and rewrites its headers for the upstream.
     *
     * @param bh sink
     */
    @Benchmark
    public void parseAndRewrite(Blackhole bh) {
        channel.writeInbound(wire.retainedDuplicate());
        drain(bh, true);
    }

    private void drain(Blackhole bh, boolean rewrite) {
        Object msg;
        HttpRequest head = null;
        while ((msg = channel.readInbound()) != null) {
            try {
                if (msg instanceof HttpRequest req) {
                    if (req.decoderResult().isFailure()) {
                        throw new IllegalStateException("request did not decode", req.decoderResult().cause());
                    }
                    if (rewrite) {
                        rewrite(req.headers());
                    }
                    bh.consume(req.headers().size());
                    head = req;
                }
                if (msg instanceof LastHttpContent) {
                    // The request is over, as its response would end it on a client connection.
                    FrontendHandler.recycleRequest(requestDecoder, head);
                }
                bh.consume(msg);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    /**
     * What a proxy does to a request's headers: drops the hop-by-hop fields (RFC 9110 §7.6.1), sets
     * {@code Host} to the upstream's and adds the seed's {@code X-high-load-test: 123}.
     *
     * @param h the headers, changed in place
     */
    public static void rewrite(HttpHeaders h) {
        FrontendHandler.removeHopByHop(h);
        h.set(HttpHeaderNames.HOST, UPSTREAM_HOST);
        SEED_RULES.applyToRequest(h);
    }
}
