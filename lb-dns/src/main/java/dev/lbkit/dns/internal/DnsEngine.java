package dev.lbkit.dns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.concurrent.atomic.LongAdder;

/**
 * The answer path: parses a query straight from its buffer and writes the answer by hand into a pooled
 * buffer (header, the question copied from the query, records pointing back at it with compression
 * pointer 0xC00C). Served names are answered on the calling event loop without locks; everything else
 * is handed to the {@link Forwarder}.
 *
 * <p>Thread-safe: per-query state lives in a thread-local {@link Query}; shared state is immutable or
 * lock-free.
 */
public final class DnsEngine {
    private static final FastThreadLocal<Query> QUERIES = new FastThreadLocal<>() {
        @Override
        protected Query initialValue() {
            return new Query();
        }
    };
    private static final byte[] HINFO_RFC8482 = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};

    private final NameTable table;
    private final Forwarder forwarder;
    private final int maxUdpPayload;
    private final Counters counters;
    private final LongAdder[] other;
    private final LongAdder[] forwarded;

    /**
     * @param forwarder     null when forwarding is off (then other names are REFUSED and RA is never set)
     * @param maxUdpPayload the largest UDP answer the server sends and the size it advertises in OPT
     */
    public DnsEngine(NameTable table, Forwarder forwarder, int maxUdpPayload, Counters counters) {
        this.table = table;
        this.forwarder = forwarder;
        this.maxUdpPayload = maxUdpPayload;
        this.counters = counters;
        this.other = counters.forName(Counters.OTHER);
        this.forwarded = counters.forName(Counters.FORWARDED);
    }

    /**
     * Answers one query.
     *
     * @param in      the query; not released, reader index not moved
     * @param tcp     whether it came over TCP (answers up to 65535 bytes) or UDP (the client's size)
     * @param replier where an answer produced later (a forwarded one) goes
     *     (members' availability is read on their pool's own ticker, as the pool's health policy writes it)
     * @return the answer to send now, or null when there is none now (dropped, or forwarded)
     */
    public ByteBuf handle(ByteBuf in, ByteBufAllocator alloc, boolean tcp, Replier replier) {
        counters.increment(tcp ? Counters.TCP_QUERIES : Counters.UDP_QUERIES);
        Query q = QUERIES.get();
        int r = q.parse(in);
        if (r == Query.DROP) {
            counters.increment(Counters.DROPPED);
            return null;
        }
        int limit = tcp ? Wire.MAX_MESSAGE : Math.min(q.clientUdpLimit(), maxUdpPayload);
        if (r != Query.OK) {
            Counters.count(other, r);
            return bare(in, q, r, alloc, limit, false);
        }
        if (q.edns && q.ednsVersion > 0) {
            Counters.count(other, Wire.BADVERS);
            return bare(in, q, Wire.BADVERS, alloc, limit, false);
        }
        if (q.qclass != Wire.CLASS_IN) {
            Counters.count(other, Wire.REFUSED);
            return bare(in, q, Wire.REFUSED, alloc, limit, false);
        }
        // The served names are looked up by the name's bytes: the hot path builds no String.
        ServedEntry e = q.nameEscapes ? table.exact(q.qname()) : table.exact(q.name(), q.nameLength);
        if (e == null && q.qtype == Wire.TYPE_SRV) {
            e = srvOwner(q.qname());
        }
        if (e != null) {
            return served(e, in, q, alloc, limit, e.pool.ticker().nanoTime());
        }
        String qname = q.qname();
        ByteBuf target = addressTarget(in, q, alloc, limit);
        if (target != null) {
            return target;
        }
        e = table.wildcard(qname);
        if (e != null) {
            return served(e, in, q, alloc, limit, e.pool.ticker().nanoTime());
        }
        Zone z = table.zone(qname);
        if (z != null) {
            if (q.qtype == Wire.TYPE_SOA && z.name.equals(qname)) {
                return soa(z, in, q, alloc, limit);
            }
            int rcode = z.existing.contains(qname) || z.name.equals(qname) || synthesized(qname) ? Wire.NOERROR
                    : Wire.NXDOMAIN;
            Counters.count(z.counters, rcode);
            return negative(z, rcode, in, q, alloc, limit);
        }
        if (forwarder == null) {
            Counters.count(other, Wire.REFUSED);
            return bare(in, q, Wire.REFUSED, alloc, limit, false);
        }
        if (q.qtype == Wire.TYPE_ANY) {
            Counters.count(forwarded, Wire.NOERROR);
            return hinfo(in, q, alloc, limit);
        }
        replier.deferred();
        forwarder.forward(q, in, replier, limit);
        return null;
    }

    /** The entry owning {@code _service._proto.<name>}, the form SRV lookups take (RFC 2782). */
    private ServedEntry srvOwner(String qname) {
        if (!qname.startsWith("_")) {
            return null;
        }
        int dot = NameTable.nextDot(qname, 0);
        if (dot < 0 || dot + 1 >= qname.length() || qname.charAt(dot + 1) != '_') {
            return null;
        }
        int dot2 = NameTable.nextDot(qname, dot + 1);
        return dot2 < 0 ? null : table.exact(qname.substring(dot2 + 1));
    }

    /** The entry {@code qname} has the form of an SRV target of, {@code <hex address>.addr.<name>}; or null. */
    private ServedEntry addressOwner(String qname) {
        int dot = NameTable.nextDot(qname, 0);
        if (dot != 8 && dot != 32 || !qname.startsWith("addr.", dot + 1)) {
            return null;
        }
        return table.exact(qname.substring(dot + 6));
    }

    /**
     * Whether {@code qname} is a name this server makes up below a served name, and so exists: NODATA, not
     * NXDOMAIN, for the types it is not answered for (RFC 1034 section 4.3.2, RFC 8020). These are
     * {@code _service._proto.<name>} (SRV answers any such labels) and the empty non-terminal
     * {@code _proto.<name>} above it; a member's SRV target {@code <hex address>.addr.<name>} and
     * {@code addr.<name>} above it. Off the hot path: only names about to get NXDOMAIN get here.
     */
    private boolean synthesized(String qname) {
        int dot = NameTable.nextDot(qname, 0);
        if (dot < 0) {
            return false;
        }
        if (qname.startsWith("_")) {
            return table.exact(qname.substring(dot + 1)) != null || srvOwner(qname) != null;
        }
        if (qname.startsWith("addr.")) {
            ServedEntry e = table.exact(qname.substring(dot + 1));
            return e != null && e.hasAddressTargets();
        }
        ServedEntry e = addressOwner(qname);
        return e != null && e.targetAddress(qname.substring(0, dot)) != null;
    }

    /** Answers {@code <hex address>.addr.<name>}, the SRV targets this server synthesizes. */
    private ByteBuf addressTarget(ByteBuf in, Query q, ByteBufAllocator alloc, int limit) {
        if (q.qtype != Wire.TYPE_A && q.qtype != Wire.TYPE_AAAA) {
            return null;
        }
        String qname = q.qname();
        ServedEntry e = addressOwner(qname);
        if (e == null) {
            return null;
        }
        ByteBuf out = start(in, q, alloc, Wire.NOERROR, true);
        int an = e.writeTargetAddress(out, qname.substring(0, NameTable.nextDot(qname, 0)), q.qtype);
        if (an == 0) {
            out.release();
            return null;
        }
        Counters.count(e.counters, Wire.NOERROR);
        return end(out, in, q, Wire.NOERROR, true, an, 0, 0, limit);
    }

    private ByteBuf served(ServedEntry e, ByteBuf in, Query q, ByteBufAllocator alloc, int limit, long now) {
        ByteBuf out = start(in, q, alloc, Wire.NOERROR, true);
        int an;
        int ar = 0;
        switch (q.qtype) {
            case Wire.TYPE_A:
                an = e.writeAddresses(out, ServedEntry.V4, now);
                break;
            case Wire.TYPE_AAAA:
                an = e.writeAddresses(out, ServedEntry.V6, now);
                break;
            case Wire.TYPE_ANY:
                // RFC 8482: one RRset is enough; the addresses are what a client wants.
                an = e.writeAddresses(out, ServedEntry.V4, now);
                if (an == 0) {
                    an = e.writeAddresses(out, ServedEntry.V6, now);
                }
                break;
            case Wire.TYPE_SRV: {
                ByteBuf glue = alloc.buffer();
                try {
                    int[] counts = new int[1];
                    an = e.writeSrv(out, glue, counts, now);
                    // RFC 2181 section 9: TC is for answers that do not fit, not for additional data. The
                    // targets' addresses go in whole or are left out.
                    if (out.readableBytes() + glue.readableBytes() + (q.edns ? Wire.OPT_LENGTH : 0) <= limit) {
                        out.writeBytes(glue);
                        ar = counts[0];
                    }
                } finally {
                    glue.release();
                }
                break;
            }
            case Wire.TYPE_SOA:
                // Only the apex owns the SOA: a name below it (answered through subdomains) gets NODATA.
                if (e.zone.name.equals(e.name) && q.nameLength == e.name.length()) {
                    out.writeBytes(e.zone.soa);
                    an = 1;
                } else {
                    an = 0;
                }
                break;
            default:
                an = 0;
        }
        Counters.count(e.counters, Wire.NOERROR);
        if (an == 0) {
            out.writeBytes(e.zone.soa);
            return end(out, in, q, Wire.NOERROR, true, 0, 1, 0, limit);
        }
        return end(out, in, q, Wire.NOERROR, true, an, 0, ar, limit);
    }

    private ByteBuf soa(Zone z, ByteBuf in, Query q, ByteBufAllocator alloc, int limit) {
        Counters.count(z.counters, Wire.NOERROR);
        ByteBuf out = start(in, q, alloc, Wire.NOERROR, true);
        out.writeBytes(z.soa);
        return end(out, in, q, Wire.NOERROR, true, 1, 0, 0, limit);
    }

    private ByteBuf negative(Zone z, int rcode, ByteBuf in, Query q, ByteBufAllocator alloc, int limit) {
        ByteBuf out = start(in, q, alloc, rcode, true);
        out.writeBytes(z.soa);
        return end(out, in, q, rcode, true, 0, 1, 0, limit);
    }

    private ByteBuf hinfo(ByteBuf in, Query q, ByteBufAllocator alloc, int limit) {
        ByteBuf out = start(in, q, alloc, Wire.NOERROR, false);
        out.writeShort(Wire.POINTER_TO_QNAME);
        out.writeShort(Wire.TYPE_HINFO);
        out.writeShort(Wire.CLASS_IN);
        out.writeInt(3600);
        out.writeShort(HINFO_RFC8482.length);
        out.writeBytes(HINFO_RFC8482);
        return end(out, in, q, Wire.NOERROR, false, 1, 0, 0, limit);
    }

    /** An answer with no records: the question when there is one, OPT when the query had it. */
    private ByteBuf bare(ByteBuf in, Query q, int rcode, ByteBufAllocator alloc, int limit, boolean aa) {
        ByteBuf out = start(in, q, alloc, rcode, aa);
        return end(out, in, q, rcode, aa, 0, 0, 0, limit);
    }

    private ByteBuf start(ByteBuf in, Query q, ByteBufAllocator alloc, int rcode, boolean aa) {
        ByteBuf out = alloc.ioBuffer(Wire.HEADER + q.questionLength + 128);
        Wire.header(out, q.id, Wire.responseFlags(q.flags, rcode, aa, forwarder != null), q.questionLength > 0 ? 1 : 0,
                0, 0, 0);
        out.writeBytes(in, in.readerIndex() + Wire.HEADER, q.questionLength);
        return out;
    }

    /** Fills in the counts, appends OPT, and truncates (TC, no records) when the answer exceeds {@code limit}. */
    private ByteBuf end(ByteBuf out, ByteBuf in, Query q, int rcode, boolean aa, int an, int ns, int ar, int limit) {
        if (q.edns) {
            Wire.opt(out, maxUdpPayload, rcode, q.dnssecOk);
            ar++;
        }
        if (out.readableBytes() <= limit) {
            out.setShort(6, an);
            out.setShort(8, ns);
            out.setShort(10, ar);
            return out;
        }
        counters.increment(Counters.TRUNCATED);
        out.clear();
        Wire.header(out, q.id, Wire.responseFlags(q.flags, rcode, aa, forwarder != null) | Wire.FLAG_TC,
                q.questionLength > 0 ? 1 : 0, 0, 0, q.edns ? 1 : 0);
        out.writeBytes(in, in.readerIndex() + Wire.HEADER, q.questionLength);
        if (q.edns) {
            Wire.opt(out, maxUdpPayload, rcode, q.dnssecOk);
        }
        return out;
    }

    /** Writes a SERVFAIL (or other bare) answer for a query whose forwarding failed. */

    public int maxUdpPayload() {
        return maxUdpPayload;
    }

    Counters counters() {
        return counters;
    }

    LongAdder[] forwardedCounters() {
        return forwarded;
    }
}
