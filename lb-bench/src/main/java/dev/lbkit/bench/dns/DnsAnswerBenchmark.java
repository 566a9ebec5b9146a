package dev.lbkit.bench.dns;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.dns.ServedName;
import dev.lbkit.dns.internal.Counters;
import dev.lbkit.dns.internal.DnsEngine;
import dev.lbkit.dns.internal.NameTable;
import dev.lbkit.dns.internal.Replier;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The answer to the seed's query {@code A my-awesome-highload-app.local} (flags {@code qr aa rd ra}, two A
 * records with TTL 0, as dnsmasq answers), built two ways: {@code lbkitEngine} is lb-dns's own answer
 * path ({@code DnsEngine}, as {@code DnsBalancer} calls it for every datagram: parse the query in place,
 * write the answer into a pooled buffer); {@code dnsjava} is the general way, parsing the query into a
 * {@link Message} and writing a new one. Run with {@code -prof gc} to see the bytes allocated per answer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DnsAnswerBenchmark {

    /** The seed's name. */
    public static final String NAME = "my-awesome-highload-app.local";

    private static final Replier NO_LATER_REPLY = message -> {
        message.release();
        throw new IllegalStateException("a served name is answered at once, never later");
    };

    /** A second served name, for {@link #lbkitEngineTwoNames}. */
    public static final String OTHER_NAME = "my-other-highload-app.local";

    private byte[] query;
    private ByteBuf queryBuf;
    private ByteBuf otherQueryBuf;
    private boolean flip;
    private ARecord first;
    private ARecord second;
    private UpstreamPool pool;
    private DnsEngine engine;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    /**
     * Builds the query, the records and lb-dns's engine once.
     *
     * @throws IOException never for these constants
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Name name = Name.fromString(NAME + ".");
        Message q = Message.newQuery(Record.newRecord(name, Type.A, DClass.IN));
        query = q.toWire();
        queryBuf = alloc.directBuffer(query.length).writeBytes(query);
        first = new ARecord(name, DClass.IN, 0, InetAddress.getByAddress(new byte[] {127, 0, 0, 1}));
        second = new ARecord(name, DClass.IN, 0, InetAddress.getByAddress(new byte[] {127, 0, 0, 2}));

        pool = UpstreamPool.builder().name(NAME)
                .add(Upstream.of(new InetSocketAddress("127.0.0.1", 80)))
                .add(Upstream.of(new InetSocketAddress("127.0.0.2", 80)))
                .build();
        Counters counters = new Counters();
        NameTable table = new NameTable(List.of(ServedName.builder(NAME, pool).ttl(Duration.ZERO).build(),
                ServedName.builder(OTHER_NAME, pool).ttl(Duration.ZERO).build()), List.of(), 0, counters);
        byte[] other = Message.newQuery(Record.newRecord(Name.fromString(OTHER_NAME + "."), Type.A, DClass.IN)).toWire();
        otherQueryBuf = alloc.directBuffer(other.length).writeBytes(other);
        engine = new DnsEngine(table, null, 1232, counters);
    }

    /** Releases the query buffer and closes the pool. */
    @TearDown(Level.Trial)
    public void tearDown() {
        queryBuf.release();
        otherQueryBuf.release();
        pool.close();
    }

    /**
     * lb-dns's answer path.
     *
     * @return the answer's length; the answer itself is released, as the transport does once sent
     */
    @Benchmark
    public int lbkitEngine() {
        ByteBuf answer = engine.handle(queryBuf, alloc, false, NO_LATER_REPLY);
        try {
            return answer.readableBytes();
        } finally {
            answer.release();
        }
    }

    /**
     * lb-dns's answer path, with queries for two served names in turn (a server sees many names, not one).
     *
     * @return the answer's length; the answer itself is released, as the transport does once sent
     */
    @Benchmark
    public int lbkitEngineTwoNames() {
        flip = !flip;
        ByteBuf answer = engine.handle(flip ? queryBuf : otherQueryBuf, alloc, false, NO_LATER_REPLY);
        try {
            return answer.readableBytes();
        } finally {
            answer.release();
        }
    }

    /**
     * lb-dns's answer path, returning the answer's bytes (for tests).
     *
     * @return the answer's wire bytes
     */
    public byte[] lbkitEngineBytes() {
        ByteBuf answer = engine.handle(queryBuf, alloc, false, NO_LATER_REPLY);
        try {
            byte[] bytes = new byte[answer.readableBytes()];
            answer.getBytes(answer.readerIndex(), bytes);
            return bytes;
        } finally {
            answer.release();
        }
    }

    /**
     * The general way: parse the query with dnsjava and write the answer.
     *
     * @return the answer's wire bytes
     * @throws IOException if the query does not parse (it always does)
     */
    @Benchmark
    public byte[] dnsjava() throws IOException {
        Message request = new Message(query);
        Message response = new Message(request.getHeader().getID());
        response.getHeader().setFlag(Flags.QR);
        response.getHeader().setFlag(Flags.AA);
        if (request.getHeader().getFlag(Flags.RD)) {
            response.getHeader().setFlag(Flags.RD);
        }
        response.getHeader().setFlag(Flags.RA);
        response.addRecord(request.getQuestion(), Section.QUESTION);
        response.addRecord(second, Section.ANSWER);
        response.addRecord(first, Section.ANSWER);
        return response.toWire(512);
    }
}
