package dev.lbkit.dns.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.xbill.DNS.Rcode;

/**
 * The server's counters: answers per name and rcode, and totals per event. {@link LongAdder}s, so that
 * event loops counting at once do not contend. The set of names is fixed at start (served names, zones
 * and two buckets), so memory is bounded whatever clients ask.
 */
public final class Counters {
    /** Bucket for every forwarded name (counting each would let clients grow the table). */
    public static final String FORWARDED = "(forwarded)";
    /** Bucket for answers about no particular name: malformed queries, refusals, unknown opcodes. */
    public static final String OTHER = "(other)";

    /** Indexes of {@link #totals}. */
    public static final int UDP_QUERIES = 0;
    public static final int TCP_QUERIES = 1;
    public static final int DROPPED = 2;
    public static final int TRUNCATED = 3;
    public static final int FORWARDS = 4;
    public static final int CACHE_HITS = 5;
    public static final int CACHE_MISSES = 6;
    public static final int FORWARD_TIMEOUTS = 7;
    public static final int FORWARD_OVERFLOWS = 8;
    public static final int TCP_REJECTED = 9;
    public static final int TCP_IDLE_CLOSED = 10;
    private static final int TOTALS = 11;

    private final Map<String, LongAdder[]> byName = new ConcurrentHashMap<>();
    private final LongAdder[] totals = adders(TOTALS);

    /** The per-rcode counters of {@code name} (rcodes 0..15; 16+ are counted under their low 4 bits' slot 15). */
    public LongAdder[] forName(String name) {
        return byName.computeIfAbsent(name, n -> adders(16));
    }

    public static void count(LongAdder[] perRcode, int rcode) {
        perRcode[rcode < 16 ? rcode : 15].increment();
    }

    public void increment(int total) {
        totals[total].increment();
    }

    /** name → rcode mnemonic → count, only non-zero counts, names sorted. */
    public Map<String, Map<String, Long>> snapshotByName() {
        Map<String, Map<String, Long>> out = new java.util.TreeMap<>();
        byName.forEach((name, adders) -> {
            Map<String, Long> m = new LinkedHashMap<>();
            for (int i = 0; i < adders.length; i++) {
                long v = adders[i].sum();
                if (v != 0) {
                    m.put(i == 15 ? "OTHER" : Rcode.string(i), v);
                }
            }
            out.put(name, java.util.Collections.unmodifiableMap(m));
        });
        return out;
    }

    public long[] snapshotTotals() {
        long[] out = new long[TOTALS];
        for (int i = 0; i < TOTALS; i++) {
            out[i] = totals[i].sum();
        }
        return out;
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }
}
