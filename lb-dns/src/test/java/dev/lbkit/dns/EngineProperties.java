package dev.lbkit.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.dns.internal.Counters;
import dev.lbkit.dns.internal.DnsEngine;
import dev.lbkit.dns.internal.NameTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.xbill.DNS.Message;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;

/** The answer path, called directly (no sockets): rotation fairness and robustness against any input. */
class EngineProperties {
    static final int MAX_UDP = 1232;

    static DnsEngine engine(List<ServedName> names) {
        Counters counters = new Counters();
        return new DnsEngine(new NameTable(names, List.of(), 0, counters), null, MAX_UDP, counters);
    }

    static ByteBuf answer(DnsEngine engine, byte[] query) {
        ByteBuf in = Unpooled.wrappedBuffer(query);
        try {
            return engine.handle(in, UnpooledByteBufAllocator.DEFAULT, false, m -> m.release());
        } finally {
            in.release();
        }
    }

    static byte[] bytes(ByteBuf b) {
        try {
            byte[] out = new byte[b.readableBytes()];
            b.getBytes(b.readerIndex(), out);
            return out;
        } finally {
            b.release();
        }
    }

    @Property(tries = 200)
    void rotationGivesEveryAddressTheFirstPlaceEquallyOften(@ForAll @IntRange(min = 1, max = 12) int n,
            @ForAll @IntRange(min = 0, max = 12) int k, @ForAll @IntRange(min = 1, max = 4) int rounds) throws Exception {
        UpstreamPool.Builder b = UpstreamPool.builder();
        for (int i = 0; i < n; i++) {
            b.add("10.0.0." + (i + 1), 80);
        }
        int kk = Math.min(k, n);
        DnsEngine engine = engine(List.of(ServedName.builder("r.local", b.build()).maxAnswers(kk).build()));
        Map<String, Integer> first = new HashMap<>();
        Map<String, Integer> anywhere = new HashMap<>();
        for (int q = 0; q < n * rounds; q++) {
            Message m = new Message(bytes(answer(engine, Packets.query("r.local", 1, 0))));
            List<Record> rs = m.getSection(Section.ANSWER);
            assertEquals(kk == 0 ? n : kk, rs.size());
            List<Integer> octets = new ArrayList<>();
            for (Record r : rs) {
                String a = r.rdataToString();
                anywhere.merge(a, 1, Integer::sum);
                octets.add(Integer.parseInt(a.substring(a.lastIndexOf('.') + 1)));
            }
            first.merge(rs.get(0).rdataToString(), 1, Integer::sum);
            // Each answer is a rotation of the pool order: consecutive, wrapping around.
            for (int i = 1; i < octets.size(); i++) {
                assertEquals(octets.get(i - 1) % n + 1, (int) octets.get(i));
            }
        }
        assertEquals(n, first.size());
        first.values().forEach(c -> assertEquals(rounds, c));
        anywhere.values().forEach(c -> assertEquals(rounds * (kk == 0 ? n : kk), c));
    }

    @Provide
    Arbitrary<byte[]> packets() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(600);
        // Valid queries with a few bytes overwritten reach deeper into the parser than noise does.
        Arbitrary<byte[]> mutated = Combinators.combine(
                Arbitraries.of("big.local", "my-awesome-highload-app.local", "x.big.local", "example.org"),
                Arbitraries.of(1, 28, 33, 255, 15, 6), Arbitraries.of(0, 512, 1232, 4096, 65535),
                Arbitraries.integers().between(0, 70).list().ofMaxSize(4),
                Arbitraries.bytes().list().ofSize(4)).as((name, type, edns, positions, values) -> {
                    byte[] q = Packets.query(name, type, edns);
                    for (int i = 0; i < positions.size(); i++) {
                        q[positions.get(i) % q.length] = values.get(i);
                    }
                    return q;
                });
        return Arbitraries.oneOf(random, mutated);
    }

    @Property(tries = 400)
    void anyInputGivesNoExceptionAndNoReplyLargerThanAllowed(@ForAll("packets") byte[] packet) {
        List<ServedName> names = List.of(ServedName.of("big.local", BadInputTest.bigPool(90)),
                ServedName.builder("my-awesome-highload-app.local", DnsBalancerTest.seedPool()).subdomains(true).build());
        DnsEngine engine = engine(names);
        ByteBuf reply = answer(engine, packet);
        if (reply == null) {
            return;
        }
        byte[] a = bytes(reply);
        int limit = allowed(packet);
        assertTrue(a.length <= limit, "reply of " + a.length + " bytes, allowed " + limit);
        assertTrue(a.length >= 12);
        assertEquals(packet[0], a[0], "ID kept");
        assertEquals(packet[1], a[1], "ID kept");
        assertTrue((a[2] & 0x80) != 0, "QR set");
    }

    /** What the client allowed: 512, or its EDNS0 size if it sent a valid OPT, never above the server's limit. */
    private static int allowed(byte[] packet) {
        try {
            Message m = new Message(packet);
            org.xbill.DNS.OPTRecord opt = m.getOPT();
            return opt == null ? 512 : Math.min(MAX_UDP, Math.max(512, opt.getPayloadSize()));
        } catch (java.io.IOException | RuntimeException e) {
            // dnsjava cannot parse it, but the server may still have found an OPT: its bound is the ceiling.
            return MAX_UDP;
        }
    }

    @Property(tries = 100)
    void repliesWithoutEdnsNeverExceed512Bytes(@ForAll @IntRange(min = 1, max = 200) int upstreams,
            @ForAll("types") int type) {
        DnsEngine engine = engine(List.of(ServedName.of("big.local", BadInputTest.bigPool(upstreams))));
        byte[] a = bytes(answer(engine, Packets.query("big.local", type, 0)));
        assertTrue(a.length <= 512);
    }

    @Provide
    Arbitrary<Integer> types() {
        return Arbitraries.of(1, 28, 33, 255);
    }
}
