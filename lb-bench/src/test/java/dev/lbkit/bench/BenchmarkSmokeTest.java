package dev.lbkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.bench.dns.DnsAnswerBenchmark;
import dev.lbkit.bench.http.HttpRequestBenchmark;
import dev.lbkit.bench.http.HttpResponseBenchmark;
import dev.lbkit.l7.internal.FrontendHandler;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;

/** Runs every benchmark path of this module once, briefly, in this JVM: proof that each one works. */
class BenchmarkSmokeTest {

    static {
        // The in-process runs only prove that each path works: another JMH run on the machine (another
        // module's smoke test) must not make them fail on JMH's global lock file.
        System.setProperty("jmh.ignoreLock", "true");
    }

    private static Collection<RunResult> runBriefly(Class<?> benchmark) throws RunnerException {
        Options options = new OptionsBuilder()
                .include("^" + benchmark.getName().replace(".", "\\.") + "\\.")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(150))
                .timeUnit(TimeUnit.NANOSECONDS)
                .shouldFailOnError(true)
                .build();
        return new Runner(options).run();
    }

    private static void assertRan(Collection<RunResult> results, int expectedRuns) {
        assertEquals(expectedRuns, results.size(), "benchmark runs");
        for (RunResult r : results) {
            double score = r.getPrimaryResult().getScore();
            assertTrue(score > 0 && Double.isFinite(score), r.getParams().getBenchmark() + " scored " + score);
        }
    }

    @Test
    void httpRequestParsingAndRewritingRun() throws RunnerException {
        // parse and parseAndRewrite, each for the wrk and the browser request, with lb-l7's and Netty's decoder.
        assertRan(runBriefly(HttpRequestBenchmark.class), 8);
    }

    @Test
    void httpResponseDecodingRuns() throws RunnerException {
        // decode, for the nginx and the API response, with lb-l7's decoder and with its fast path off;
        // each invocation checks that a whole response decoded without failure.
        assertRan(runBriefly(HttpResponseBenchmark.class), 4);
    }

    @Test
    void dnsAnswerBuildingRuns() throws RunnerException {
        // lbkitEngine, lbkitEngineTwoNames and dnsjava.
        assertRan(runBriefly(DnsAnswerBenchmark.class), 3);
    }

    @Test
    void rewriteDropsHopByHopFieldsAndAddsTheSeedHeader() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("Host", "client.example:8888")
                .add("Connection", "keep-alive, X-Trace")
                .add("X-Trace", "1")
                .add("Keep-Alive", "timeout=5")
                .add("Upgrade", "websocket")
                .add("Accept", "*/*");
        HttpRequestBenchmark.rewrite(h);
        assertEquals(List.of("Accept", "host", "X-high-load-test"),
                h.entries().stream().map(e -> e.getKey().toString()).toList());
        assertEquals("127.0.0.1:8081", h.get("Host"));
        assertEquals("123", h.get("X-High-Load-Test"));
    }

    @Test
    void aRequestHeadGivenBackToLbkitsDecoderIsFilledForTheNextRequestAsOnAConnection() {
        ChannelHandler lbkit = FrontendHandler.newDecoder(8192, 16384);
        HttpRequest[] heads = twoRequests(lbkit, true);
        assertSame(heads[0], heads[1]);
        assertEquals("/second", heads[1].uri());
        assertEquals("two", heads[1].headers().get("host"));
        // Without the head given back, a new one; Netty's own decoder ignores the call.
        HttpRequest[] kept = twoRequests(FrontendHandler.newDecoder(8192, 16384), false);
        assertNotSame(kept[0], kept[1]);
        assertEquals("/first", kept[0].uri());
        HttpRequest[] netty = twoRequests(new HttpRequestDecoder(), true);
        assertNotSame(netty[0], netty[1]);
        assertEquals("/first", netty[0].uri());
    }

    /** Decodes two requests through {@code decoder}, giving the first head back in between if {@code recycle}. */
    private static HttpRequest[] twoRequests(ChannelHandler decoder, boolean recycle) {
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        try {
            ch.writeInbound(Unpooled.copiedBuffer("GET /first HTTP/1.1\r\nHost: one\r\n\r\n", StandardCharsets.US_ASCII));
            HttpRequest first = ch.readInbound();
            ReferenceCountUtil.release(ch.readInbound());
            if (recycle) {
                FrontendHandler.recycleRequest(decoder, first);
            }
            ch.writeInbound(Unpooled.copiedBuffer("GET /second HTTP/1.1\r\nHost: two\r\n\r\n", StandardCharsets.US_ASCII));
            HttpRequest second = ch.readInbound();
            ReferenceCountUtil.release(ch.readInbound());
            return new HttpRequest[] {first, second};
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void bothDnsAnswersAreTheSeedsAnswer() throws Exception {
        DnsAnswerBenchmark b = new DnsAnswerBenchmark();
        b.setUp();
        try {
            for (byte[] wire : List.of(b.dnsjava(), b.lbkitEngineBytes())) {
                Message answer = new Message(wire);
                assertTrue(answer.getHeader().getFlag(Flags.QR) && answer.getHeader().getFlag(Flags.AA)
                        && answer.getHeader().getFlag(Flags.RD), answer.toString());
                assertFalse(answer.getHeader().getFlag(Flags.TC));
                List<Record> records = answer.getSection(Section.ANSWER);
                assertEquals(Set.of("127.0.0.1", "127.0.0.2"),
                        records.stream().map(Record::rdataToString).collect(Collectors.toSet()), answer.toString());
                assertTrue(records.stream().allMatch(r -> r.getTTL() == 0), answer.toString());
            }
        } finally {
            b.tearDown();
        }
    }
}
