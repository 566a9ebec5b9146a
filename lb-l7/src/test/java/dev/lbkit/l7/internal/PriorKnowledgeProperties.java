package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The cleartext listener's choice ({@link Http2Switch.PriorKnowledge}): HTTP/2 exactly when a connection
 * opens with the whole preface, however its bytes are split across reads; every byte goes on unchanged and
 * in order once the choice is made, none before; it leaves the pipeline then, and holds no buffer after.
 */
class PriorKnowledgeProperties {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** Bytes a client sends, where reads split them, and whether they open with the preface. */
    record Case(byte[] bytes, int[] splits, boolean h2, String description) {
        /** Whether the bytes are a strict beginning of the preface: no choice can be made yet. */
        boolean undecided() {
            return !h2 && bytes.length < PREFACE.length && Arrays.equals(bytes, 0, bytes.length, PREFACE, 0,
                    bytes.length);
        }

        @Override
        public String toString() {
            return description + " (" + bytes.length + " bytes) split at " + Arrays.toString(splits);
        }
    }

    @Property(tries = 2000)
    void http2ExactlyWhenThePrefaceOpensTheConnectionAndEveryByteGoesOn(@ForAll("cases") Case c) {
        AtomicInteger chosen = new AtomicInteger();
        AtomicInteger http1 = new AtomicInteger();
        EmbeddedChannel ch = new EmbeddedChannel(new Http2Switch.PriorKnowledge(ctx -> {
            chosen.incrementAndGet();
            return true;
        }, http1::incrementAndGet));
        List<ByteBuf> fed = new ArrayList<>();
        int from = 0;
        for (int to : c.splits()) {
            ByteBuf piece = Unpooled.copiedBuffer(c.bytes(), from, to - from);
            fed.add(piece);
            ch.writeInbound(piece.retain());
            from = to;
        }
        ByteArrayOutputStream passed = new ByteArrayOutputStream();
        for (ByteBuf b; (b = ch.readInbound()) != null; ) {
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            passed.writeBytes(bytes);
            b.release();
        }
        assertEquals(c.h2() ? 1 : 0, chosen.get(), c.toString());
        assertEquals(c.h2() || c.undecided() ? 0 : 1, http1.get(), c.toString());
        if (c.undecided()) {
            assertEquals(0, passed.size(), c.toString());
        } else {
            assertArrayEquals(c.bytes(), passed.toByteArray(), c.toString());
            assertNull(ch.pipeline().get(Http2Switch.PriorKnowledge.class), c.toString());
        }
        ch.finishAndReleaseAll();
        for (ByteBuf piece : fed) {
            // Ours only: whatever it took it released or passed on (and the passed ones are released above).
            assertEquals(1, piece.refCnt(), c.toString());
            piece.release();
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<byte[]> tail = Arbitraries.bytes().array(byte[].class).ofMaxSize(64);
        Arbitrary<Case> preface = tail.map(t -> new Object[] {concat(PREFACE, t), true, "the preface and more"})
                .flatMap(this::split);
        Arbitrary<Case> differing = Combinators.combine(Arbitraries.integers().between(0, PREFACE.length - 1),
                Arbitraries.bytes(), tail).as((k, b, t) -> {
                    byte other = b == PREFACE[k] ? (byte) (b + 1) : b;
                    return new Object[] {concat(concat(Arrays.copyOf(PREFACE, k), new byte[] {other}), t), false,
                        "the preface's first " + k + " bytes, then another"};
                }).flatMap(this::split);
        Arbitrary<Case> beginning = Arbitraries.integers().between(0, PREFACE.length - 1)
                .map(k -> new Object[] {Arrays.copyOf(PREFACE, k), false, "the preface's first " + k + " bytes"})
                .flatMap(this::split);
        Arbitrary<Case> http11 = Arbitraries.of("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "PRI * HTTP/1.1\r\nHost: x\r\n\r\n",
                "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", "POST /p HTTP/1.0\r\nContent-Length: 1\r\n\r\nx")
                .map(r -> new Object[] {r.getBytes(StandardCharsets.US_ASCII), false, "HTTP/1.x: " + r.strip()})
                .flatMap(this::split);
        return Arbitraries.oneOf(preface, differing, beginning, http11);
    }

    private Arbitrary<Case> split(Object[] input) {
        byte[] bytes = (byte[]) input[0];
        return Arbitraries.integers().between(1, Math.max(1, bytes.length)).list().ofMaxSize(6).map(points -> {
            int[] splits = points.stream().mapToInt(p -> Math.min(p, bytes.length)).sorted().distinct().toArray();
            if (splits.length == 0 || splits[splits.length - 1] != bytes.length) {
                splits = Arrays.copyOf(splits, splits.length + 1);
                splits[splits.length - 1] = bytes.length;
            }
            return new Case(bytes, splits, (Boolean) input[1], (String) input[2]);
        });
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
