package dev.lbkit.bench.dns;

import java.io.IOException;
import java.net.InetAddress;
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
 * The DNS answer path of the seed's name, built the general way with dnsjava: parse the query's wire
 * bytes into a {@link Message}, build the reply (flags {@code qr aa rd ra}, two A records with TTL 0, as
 * dnsmasq answers) and write it to wire format. Run with {@code -prof gc} to see the bytes allocated per
 * answer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DnsAnswerBenchmark {

    private byte[] query;
    private ARecord first;
    private ARecord second;

    /**
     * Builds the query bytes and the two records once.
     *
     * @throws IOException never for these constants
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Name name = Name.fromString("my-awesome-highload-app.local.");
        Message q = Message.newQuery(Record.newRecord(name, Type.A, DClass.IN));
        query = q.toWire();
        first = new ARecord(name, DClass.IN, 0, InetAddress.getByAddress(new byte[] {127, 0, 0, 1}));
        second = new ARecord(name, DClass.IN, 0, InetAddress.getByAddress(new byte[] {127, 0, 0, 2}));
    }

    /**
     * Parses a query and writes the answer.
     *
     * @return the answer's wire bytes
     * @throws IOException if the query does not parse (it always does)
     */
    @Benchmark
    public byte[] dnsjavaAnswer() throws IOException {
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
