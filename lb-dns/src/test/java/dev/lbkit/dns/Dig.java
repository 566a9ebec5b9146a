package dev.lbkit.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** A dig for tests: dnsjava's SimpleResolver over real UDP or TCP. */
final class Dig {
    private final SimpleResolver resolver;

    Dig(InetSocketAddress server, boolean tcp) {
        resolver = new SimpleResolver(server);
        resolver.setTCP(tcp);
        resolver.setTimeout(Duration.ofSeconds(3));
    }

    static Dig udp(DnsBalancer dns) {
        return new Dig(dns.localAddress(), false);
    }

    static Dig tcp(DnsBalancer dns) {
        return new Dig(dns.localAddress(), true);
    }

    Dig edns(int payload) {
        return edns(payload, 0);
    }

    /** EDNS0 with {@code flags} (org.xbill.DNS.ExtendedFlags, DO). */
    Dig edns(int payload, int flags) {
        resolver.setEDNS(0, payload, flags, List.of());
        return this;
    }

    Dig noEdns() {
        resolver.setEDNS(-1);
        return this;
    }

    Message query(String name, int type) throws IOException {
        Message q = Message.newQuery(Record.newRecord(Name.fromString(name.endsWith(".") ? name : name + "."), type,
                org.xbill.DNS.DClass.IN));
        return resolver.send(q);
    }

    Message a(String name) throws IOException {
        return query(name, Type.A);
    }

    static List<String> addresses(Message m) {
        List<String> out = new ArrayList<>();
        for (Record r : m.getSection(Section.ANSWER)) {
            out.add(r.rdataToString());
        }
        return out;
    }

    /** Flags as dig prints them: "qr aa rd ra". */
    static String flags(Message m) {
        StringBuilder sb = new StringBuilder();
        for (int f : new int[] {Flags.QR, Flags.AA, Flags.TC, Flags.RD, Flags.RA}) {
            if (m.getHeader().getFlag(f)) {
                sb.append(sb.length() == 0 ? "" : " ").append(Flags.string(f));
            }
        }
        return sb.toString();
    }
}
