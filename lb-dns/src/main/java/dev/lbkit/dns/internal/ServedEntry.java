package dev.lbkit.dns.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.dns.ServedName;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link ServedName} ready for the answer path: its pool's members sorted by address family, with
 * their address bytes and SRV targets precomputed once per pool snapshot (a snapshot is immutable, so
 * the derived arrays are too), and the rotation cursor.
 *
 * <p>Thread-safe and lock-free: the prepared view is swapped with one volatile write when the pool
 * publishes a new snapshot; two threads racing to prepare it build equal views.
 */
public final class ServedEntry {
    static final int V4 = 0;
    static final int V6 = 1;
    static final int SRV = 2;

    private static final FastThreadLocal<int[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected int[] initialValue() {
            return new int[64];
        }
    };

    final String name;
    final UpstreamPool pool;
    final int ttl;
    final boolean subdomains;
    final int maxAnswers;
    final boolean failOpen;
    final Zone zone;
    final LongAdder[] counters;
    /**
     * One rotation cursor per kind (A, AAAA, SRV): a dual-stack client asks A and AAAA for each lookup, and
     * one shared cursor would then move each family by two per query (with two addresses, not at all).
     * Each starts at a random place so that servers restarted together do not all answer in the same order.
     */
    private final AtomicInteger[] cursors = {randomCursor(), randomCursor(), randomCursor()};
    private volatile Prepared prepared;

    private static AtomicInteger randomCursor() {
        return new AtomicInteger(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
    }

    public ServedEntry(ServedName served, Zone zone, Counters counters) {
        this.name = served.name();
        this.pool = served.pool();
        this.ttl = (int) served.ttl().getSeconds();
        this.subdomains = served.subdomains();
        this.maxAnswers = served.maxAnswers();
        this.failOpen = served.failOpen();
        this.zone = zone;
        this.counters = counters.forName(name);
    }

    /** One snapshot's members of one kind, primaries first, with their record data. */
    static final class Tiered {
        final Member[] members;
        final byte[][] data;
        final int primaries;

        Tiered(Member[] members, byte[][] data, int primaries) {
            this.members = members;
            this.data = data;
            this.primaries = primaries;
        }
    }

    static final class Prepared {
        final PoolSnapshot snapshot;
        final Tiered[] byKind;

        Prepared(PoolSnapshot snapshot, Tiered[] byKind) {
            this.snapshot = snapshot;
            this.byKind = byKind;
        }
    }

    Prepared prepared() {
        PoolSnapshot s = pool.snapshot();
        Prepared p = prepared;
        if (p == null || p.snapshot != s) {
            p = prepare(s);
            prepared = p;
        }
        return p;
    }

    private Prepared prepare(PoolSnapshot s) {
        Tiered[] kinds = new Tiered[3];
        for (int kind = 0; kind < 3; kind++) {
            List<Member> all = s.members();
            Member[] ms = new Member[all.size()];
            byte[][] data = new byte[all.size()][];
            int n = 0;
            int primaries = 0;
            for (int pass = 0; pass < 2; pass++) {
                List<Member> tier = pass == 0 ? s.primaries() : s.backups();
                for (Member m : tier) {
                    byte[] d = data(m, kind);
                    if (d != null) {
                        ms[n] = m;
                        data[n++] = d;
                        if (pass == 0) {
                            primaries++;
                        }
                    }
                }
            }
            kinds[kind] = new Tiered(java.util.Arrays.copyOf(ms, n), java.util.Arrays.copyOf(data, n), primaries);
        }
        return new Prepared(s, kinds);
    }

    private byte[] data(Member m, int kind) {
        InetSocketAddress a = m.upstream().address();
        InetAddress ip = a.isUnresolved() ? null : a.getAddress();
        switch (kind) {
            case V4:
                return ip instanceof Inet4Address ? ip.getAddress() : null;
            case V6:
                return ip != null && !(ip instanceof Inet4Address) ? ip.getAddress() : null;
            default:
                return srvTarget(m, ip);
        }
    }

    /**
     * The SRV target of a member in wire form: its host name when it has one, else a name that encodes
     * its address below {@code addr.<name>} (Consul's style), which this server also answers.
     */
    private byte[] srvTarget(Member m, InetAddress ip) {
        String host = ip == null ? m.upstream().host().toLowerCase(Locale.ROOT) : addressLabel(ip.getAddress()) + ".addr." + name;
        return wireName(host);
    }

    static String addressLabel(byte[] addr) {
        StringBuilder sb = new StringBuilder(addr.length * 2);
        for (byte b : addr) {
            sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return sb.toString();
    }

    /** Parses an {@link #addressLabel} back; null if it is not one. */
    static byte[] parseAddressLabel(String label) {
        if (label.length() != 8 && label.length() != 32) {
            return null;
        }
        byte[] out = new byte[label.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = Character.digit(label.charAt(2 * i), 16);
            int lo = Character.digit(label.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                return null;
            }
            out[i] = (byte) ((hi << 4) | lo);
        }
        return out;
    }

    static byte[] wireName(String dotted) {
        byte[] text = dotted.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[text.length + 2];
        int o = 0;
        int start = 0;
        for (int i = 0; i <= text.length; i++) {
            if (i == text.length || text[i] == '.') {
                int len = i - start;
                out[o++] = (byte) len;
                System.arraycopy(text, start, out, o, len);
                o += len;
                start = i + 1;
            }
        }
        out[o++] = 0;
        return java.util.Arrays.copyOf(out, o);
    }

    /**
     * Chooses the members to answer with for {@code kind}: the available primaries, else the available
     * backups, else (fail open) every member; rotated by one per call for this kind, at most
     * {@link #maxAnswers}. The chosen indexes into the returned {@link Tiered} are in
     * {@code scratch()[0..count)}.
     *
     * @return the number chosen
     */
    int choose(int kind, Tiered t, long nanoTime) {
        int[] idx = scratch(t.members.length);
        int n = collect(t, 0, t.primaries, nanoTime, idx);
        if (n == 0) {
            n = collect(t, t.primaries, t.members.length, nanoTime, idx);
        }
        if (n == 0 && failOpen) {
            n = t.primaries > 0 ? t.primaries : t.members.length;
            for (int i = 0; i < n; i++) {
                idx[i] = i;
            }
        }
        if (n == 0) {
            return 0;
        }
        int k = maxAnswers > 0 && maxAnswers < n ? maxAnswers : n;
        int start = (cursors[kind].getAndIncrement() & 0x7fffffff) % n;
        // The first k of the rotated order go to idx[n..n+k) (scratch holds 2 * members), then to the front.
        for (int j = 0; j < k; j++) {
            idx[n + j] = idx[(start + j) % n];
        }
        System.arraycopy(idx, n, idx, 0, k);
        return k;
    }

    private static int collect(Tiered t, int from, int to, long nanoTime, int[] idx) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (t.members[i].isAvailable(nanoTime)) {
                idx[n++] = i;
            }
        }
        return n;
    }

    static int[] scratch(int members) {
        int[] s = SCRATCH.get();
        if (s.length < members * 2) {
            s = new int[Math.max(members * 2, s.length * 2)];
            SCRATCH.set(s);
        }
        return s;
    }

    static int[] scratch() {
        return SCRATCH.get();
    }

    /** Writes the address records (A or AAAA) for the chosen members; returns how many. */
    int writeAddresses(ByteBuf out, int kind, long nanoTime) {
        Tiered t = prepared().byKind[kind];
        int k = choose(kind, t, nanoTime);
        int[] idx = scratch();
        int type = kind == V4 ? Wire.TYPE_A : Wire.TYPE_AAAA;
        for (int j = 0; j < k; j++) {
            writeAddressRecord(out, type, t.data[idx[j]]);
        }
        return k;
    }

    /** One A or AAAA record for the question's name (a pointer to it), with this entry's TTL. */
    private void writeAddressRecord(ByteBuf out, int type, byte[] a) {
        out.writeShort(Wire.POINTER_TO_QNAME);
        out.writeShort(type);
        out.writeShort(Wire.CLASS_IN);
        out.writeInt(ttl);
        out.writeShort(a.length);
        out.writeBytes(a);
    }

    /**
     * Writes SRV records for the chosen members into {@code out}, and the address records of their
     * synthesized targets into {@code additional}; returns the SRV count, and the additional count in
     * {@code counts[0]}.
     */
    int writeSrv(ByteBuf out, ByteBuf additional, int[] counts, long nanoTime) {
        Prepared p = prepared();
        Tiered t = p.byKind[SRV];
        int k = choose(SRV, t, nanoTime);
        int[] idx = scratch();
        int extra = 0;
        for (int j = 0; j < k; j++) {
            Member m = t.members[idx[j]];
            byte[] target = t.data[idx[j]];
            out.writeShort(Wire.POINTER_TO_QNAME);
            out.writeShort(Wire.TYPE_SRV);
            out.writeShort(Wire.CLASS_IN);
            out.writeInt(ttl);
            out.writeShort(6 + target.length);
            out.writeShort(m.upstream().isBackup() ? 1 : 0);
            out.writeShort(m.upstream().weight());
            out.writeShort(m.upstream().port());
            out.writeBytes(target);
            InetSocketAddress a = m.upstream().address();
            if (!a.isUnresolved()) {
                byte[] ip = a.getAddress().getAddress();
                additional.writeBytes(target);
                additional.writeShort(ip.length == 4 ? Wire.TYPE_A : Wire.TYPE_AAAA);
                additional.writeShort(Wire.CLASS_IN);
                additional.writeInt(ttl);
                additional.writeShort(ip.length);
                additional.writeBytes(ip);
                extra++;
            }
        }
        counts[0] = extra;
        return k;
    }

    /** The address of the member whose SRV target label is {@code label} ({@link #addressLabel}), or null. */
    byte[] targetAddress(String label) {
        byte[] want = parseAddressLabel(label);
        if (want == null) {
            return null;
        }
        for (Member m : prepared().snapshot.members()) {
            InetSocketAddress a = m.upstream().address();
            if (!a.isUnresolved() && java.util.Arrays.equals(a.getAddress().getAddress(), want)) {
                return want;
            }
        }
        return null;
    }

    /** Whether a member has an address, so an SRV target {@code <hex address>.addr.<name>}. */
    boolean hasAddressTargets() {
        for (Member m : prepared().snapshot.members()) {
            if (!m.upstream().address().isUnresolved()) {
                return true;
            }
        }
        return false;
    }

    /** Writes the address record of the member whose SRV target label is {@code label}; returns 1, or 0 if none. */
    int writeTargetAddress(ByteBuf out, String label, int qtype) {
        byte[] a = targetAddress(label);
        if (a == null || (a.length == 4) != (qtype == Wire.TYPE_A)) {
            return 0;
        }
        writeAddressRecord(out, qtype, a);
        return 1;
    }
}
