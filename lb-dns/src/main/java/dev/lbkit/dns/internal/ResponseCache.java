package dev.lbkit.dns.internal;

import static dev.lbkit.dns.internal.Wire.u16;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Forwarded answers by question, kept as wire bytes for the TTL they carry: positive answers for their
 * smallest record TTL, negative ones (NXDOMAIN, or NOERROR without a record of the asked type: no
 * answers, or only a CNAME chain) for no longer than the smaller of their SOA's TTL and minimum (RFC
 * 2308 section 5). A TTL with the top bit set counts as 0 (RFC 2181 section 8). NXDOMAIN and empty
 * answers without that SOA, truncated answers and failures are not kept. Least recently used entries
 * go first when {@code maxEntries} is reached.
 *
 * <p>Not thread-safe: used only on the forwarder's event loop.
 */
final class ResponseCache {
    static final class Entry {
        final byte[] wire;
        final int[] ttlOffsets;
        final long storedAt;
        final long expiresAt;

        Entry(byte[] wire, int[] ttlOffsets, long storedAt, long expiresAt) {
            this.wire = wire;
            this.ttlOffsets = ttlOffsets;
            this.storedAt = storedAt;
            this.expiresAt = expiresAt;
        }
    }

    private final int maxEntries;
    private final long maxTtlSeconds;
    private final Map<String, Entry> map;

    ResponseCache(int maxEntries, long maxTtlSeconds) {
        this.maxEntries = maxEntries;
        this.maxTtlSeconds = maxTtlSeconds;
        this.map = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > ResponseCache.this.maxEntries;
            }
        };
    }

    static String key(String qname, int qtype, int qclass, boolean edns, boolean dnssecOk) {
        return qname + '|' + qtype + '|' + qclass + (edns ? "|E" : "") + (dnssecOk ? "|D" : "");
    }

    /** The live entry for {@code key}, or null (an expired one is dropped). */
    Entry get(String key, long now) {
        Entry e = map.get(key);
        if (e != null && now - e.expiresAt >= 0) {
            map.remove(key);
            return null;
        }
        return e;
    }

    int size() {
        return map.size();
    }

    /** Stores {@code wire} if it may be cached; returns whether it was. */
    boolean put(String key, byte[] wire, long now) {
        if (maxEntries == 0) {
            return false;
        }
        int len = wire.length;
        int flags = ((wire[2] & 0xFF) << 8) | (wire[3] & 0xFF);
        int rcode = flags & 0xF;
        if ((flags & Wire.FLAG_TC) != 0 || (rcode != Wire.NOERROR && rcode != Wire.NXDOMAIN)) {
            return false;
        }
        int qd = u16(wire, 4);
        int an = u16(wire, 6);
        int ns = u16(wire, 8);
        int ar = u16(wire, 10);
        int p = Wire.HEADER;
        int qtype = -1;
        for (int i = 0; i < qd; i++) {
            p = Wire.skipName(wire, len, p);
            if (p < 0 || p + 4 > len) {
                return false;
            }
            qtype = u16(wire, p);
            p += 4;
        }
        int[] offsets = new int[an + ns + ar];
        int n = 0;
        long minTtl = Long.MAX_VALUE;
        long negativeTtl = -1;
        boolean answered = false;
        for (int i = 0; i < an + ns + ar; i++) {
            p = Wire.skipName(wire, len, p);
            if (p < 0 || p + 10 > len) {
                return false;
            }
            int type = u16(wire, p);
            long ttl = ttl(wire, p + 4);
            int rdlen = u16(wire, p + 8);
            int rdata = p + 10;
            if (rdata + rdlen > len) {
                return false;
            }
            if (type != Wire.TYPE_OPT) {
                offsets[n++] = p + 4;
                minTtl = Math.min(minTtl, ttl);
                if (i < an && (type == qtype || qtype == Wire.TYPE_ANY)) {
                    answered = true;
                }
                if (type == Wire.TYPE_SOA && i >= an && i < an + ns) {
                    int q = Wire.skipName(wire, len, rdata);
                    q = q < 0 ? -1 : Wire.skipName(wire, len, q);
                    if (q >= 0 && q + 20 <= rdata + rdlen) {
                        negativeTtl = Math.min(ttl, ttl(wire, q + 16));
                    }
                }
            }
            p = rdata + rdlen;
        }
        long ttl;
        if ((rcode == Wire.NXDOMAIN || !answered) && negativeTtl >= 0) {
            // Negative, also after a CNAME chain: the whole answer expires with its negative part.
            ttl = Math.min(minTtl, negativeTtl);
        } else if (rcode == Wire.NXDOMAIN || an == 0) {
            return false;
        } else {
            ttl = minTtl;
        }
        ttl = Math.min(ttl, maxTtlSeconds);
        if (ttl <= 0) {
            return false;
        }
        map.put(key, new Entry(wire, java.util.Arrays.copyOf(offsets, n), now, now + ttl * 1_000_000_000L));
        return true;
    }

    /** The cached answer with every TTL lowered by the time it has spent here. */
    static byte[] aged(Entry e, long now) {
        byte[] out = e.wire.clone();
        long elapsed = (now - e.storedAt) / 1_000_000_000L;
        for (int off : e.ttlOffsets) {
            long ttl = ((long) (out[off] & 0xFF) << 24) | ((out[off + 1] & 0xFF) << 16) | ((out[off + 2] & 0xFF) << 8)
                    | (out[off + 3] & 0xFF);
            long left = Math.max(0, ttl - elapsed);
            out[off] = (byte) (left >>> 24);
            out[off + 1] = (byte) (left >>> 16);
            out[off + 2] = (byte) (left >>> 8);
            out[off + 3] = (byte) left;
        }
        return out;
    }

    /** The TTL at {@code p}; one with the top bit set counts as 0 (RFC 2181 section 8), so is not cached. */
    private static long ttl(byte[] b, int p) {
        long ttl = u32(b, p);
        return ttl > Integer.MAX_VALUE ? 0 : ttl;
    }

    private static long u32(byte[] b, int p) {
        return ((long) u16(b, p) << 16) | u16(b, p + 2);
    }

}
