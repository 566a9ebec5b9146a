package dev.lbkit.examples.support;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A dig-like DNS client (dnsjava's {@link SimpleResolver}, over UDP) that asks one server and prints the
 * answer the way {@code dig} does: header, flags, question and answer sections.
 *
 * <p>Stateless and thread-safe.
 */
public final class Dig {
    private Dig() {}

    /** One answer: the response message and how long it took. */
    public record Answer(InetSocketAddress server, Message message, Duration took) {

        /** The response code's name ({@code NOERROR}, {@code REFUSED}). */
        public String status() {
            return Rcode.string(message.getRcode());
        }

        /** The header flags as dig prints them ({@code qr aa rd ra}). */
        public String flags() {
            return message.getHeader().printFlags().trim();
        }

        /** Whether header flag {@code flag} ({@link Flags#AA}, ...) is set. */
        public boolean flag(int flag) {
            return message.getHeader().getFlag(flag);
        }

        /** The A records' addresses in answer order. */
        public List<InetAddress> addresses() {
            List<InetAddress> out = new ArrayList<>();
            for (Record r : message.getSection(Section.ANSWER)) {
                if (r instanceof ARecord) {
                    out.add(((ARecord) r).getAddress());
                }
            }
            return out;
        }

        /** The answer records. */
        public List<Record> answers() {
            return message.getSection(Section.ANSWER);
        }

        /** The answer the way {@code dig} prints it. */
        public String text() {
            StringBuilder sb = new StringBuilder();
            sb.append(";; ->>HEADER<<- opcode: QUERY, status: ").append(status())
                    .append(", id: ").append(message.getHeader().getID()).append('\n');
            sb.append(";; flags: ").append(flags())
                    .append("; QUERY: ").append(message.getHeader().getCount(Section.QUESTION))
                    .append(", ANSWER: ").append(message.getHeader().getCount(Section.ANSWER))
                    .append(", AUTHORITY: ").append(message.getHeader().getCount(Section.AUTHORITY))
                    .append(", ADDITIONAL: ").append(message.getHeader().getCount(Section.ADDITIONAL)).append("\n\n");
            sb.append(";; QUESTION SECTION:\n");
            for (Record q : message.getSection(Section.QUESTION)) {
                sb.append(';').append(q.getName()).append("\t\t").append(DClass.string(q.getDClass()))
                        .append('\t').append(Type.string(q.getType())).append('\n');
            }
            if (!answers().isEmpty()) {
                sb.append("\n;; ANSWER SECTION:\n");
                for (Record r : answers()) {
                    sb.append(r.getName()).append('\t').append(r.getTTL()).append('\t')
                            .append(DClass.string(r.getDClass())).append('\t').append(Type.string(r.getType()))
                            .append('\t').append(r.rdataToString()).append('\n');
                }
            }
            sb.append("\n;; Query time: ").append(took.toMillis()).append(" msec\n");
            sb.append(";; SERVER: ").append(server.getAddress().getHostAddress()).append('#').append(server.getPort())
                    .append('(').append(server.getAddress().getHostAddress()).append(") (UDP)\n");
            return sb.toString();
        }
    }

    /** Asks {@code server} for the A records of {@code name}, recursion desired, as dig does by default. */
    public static Answer a(InetSocketAddress server, String name, Duration timeout) throws IOException {
        return query(server, name, Type.A, timeout);
    }

    /** Asks {@code server} for records of {@code type} ({@link Type#A}, {@link Type#SRV}, ...) of {@code name}. */
    public static Answer query(InetSocketAddress server, String name, int type, Duration timeout) throws IOException {
        SimpleResolver resolver = new SimpleResolver(server);
        resolver.setTimeout(timeout);
        Name qname;
        try {
            qname = Name.fromString(name.endsWith(".") ? name : name + ".");
        } catch (TextParseException e) {
            throw new IllegalArgumentException("bad DNS name '" + name + "'", e);
        }
        Message query = Message.newQuery(Record.newRecord(qname, type, DClass.IN));
        long start = System.nanoTime();
        Message response = resolver.send(query);
        return new Answer(server, response, Duration.ofNanos(System.nanoTime() - start));
    }
}
