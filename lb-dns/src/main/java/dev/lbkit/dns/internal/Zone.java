package dev.lbkit.dns.internal;

import java.util.Set;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;

/**
 * A name the server is authoritative for: unknown names below it get NXDOMAIN, known names without the
 * asked type an empty answer, both with the zone's SOA in the authority section (RFC 2308), whose TTL
 * and minimum are the negative TTL. Immutable.
 */
public final class Zone {
    final String name;
    /** The SOA record in wire form, owner name uncompressed, ready to append. */
    final byte[] soa;
    /** Names that exist in the zone without records of their own (empty non-terminals): NODATA, not NXDOMAIN. */
    final Set<String> existing;
    final java.util.concurrent.atomic.LongAdder[] counters;

    public Zone(String name, long negativeTtlSeconds, Set<String> existing, Counters counters) {
        this.name = name;
        this.existing = Set.copyOf(existing);
        this.counters = counters.forName(name);
        try {
            Name z = Name.fromString(name + ".");
            SOARecord r = new SOARecord(z, DClass.IN, negativeTtlSeconds, Name.fromString("ns." + name + "."),
                    Name.fromString("hostmaster." + name + "."), 1, 3600, 600, 86400, negativeTtlSeconds);
            this.soa = r.toWire(Section.AUTHORITY);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("bad zone name '" + name + "'", e);
        }
    }

    public String name() {
        return name;
    }
}
