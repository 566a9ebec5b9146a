package dev.lbkit.api.scheduler;

import dev.lbkit.api.Member;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.internal.Hashing;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Client persistence around any scheduler, as {@code ipvsadm -p timeout [-M netmask]}: a client
 * network (the client address under a prefix length) keeps the member it was given while its entry (IPVS's
 * persistence template) is live and the member can keep it; otherwise the wrapped scheduler picks and a
 * new entry records the result.
 *
 * <p><b>Which members keep their clients</b>, as IPVS's {@code ip_vs_check_template}: a member that is
 * {@linkplain Member#isUp up} keeps the clients whose entries point at it even when it is quiesced
 * (weight 0, {@code ipvsadm -e -w 0}, {@link dev.lbkit.api.UpstreamPool#drain}) or overloaded (IPVS's
 * {@code -x} threshold): IPVS's default {@code expire_quiescent_template = 0}, and nginx Plus's {@code
 * drain}. With {@link Builder#expireQuiescentTemplate(boolean) expireQuiescentTemplate(true)}
 * ({@code expire_quiescent_template = 1}) an entry pointing at a member of weight 0 is dropped at its
 * next use and the client scheduled anew; an overloaded member keeps its clients either way, as in IPVS.
 * A member that is not up (removed, marked down by an operator, held down by an active check, ejected)
 * always loses its clients: IPVS invalidates a template whose destination is not available. A member at
 * its connection limit ({@link dev.lbkit.api.Upstream#maxConnections()}) or excluded by the context
 * (already tried) is not returned either. Members of the other tier are never returned from an entry:
 * a client kept on a backup returns to a primary once a primary can be picked.
 *
 * <p><b>Expiry</b>: an entry expires {@link #timeout()} after its last use (each hit refreshes it, as an
 * IPVS template is re-armed by every connection it places). A tier that {@linkplain PickContext#lease()
 * leases} the entry of each pick for the connection it makes (lb-l4 does) holds it while that
 * connection is in its connection table (IPVS's {@code n_control}): a held entry never expires, and its
 * timeout counts again from the release of its last lease. IPVS re-arms the timer of a template that
 * still controls connections by a whole timeout each time it fires, so an IPVS template expires within
 * one timeout after its last connection; here exactly one timeout after it. Time is the pool's
 * {@link dev.lbkit.api.Ticker} as {@link PickContext#nanoTime()} carries it, so tests drive expiry with
 * the pool's ticker. A pick whose context has no client address is passed straight to the wrapped
 * scheduler.
 *
 * <p><b>Changing the settings</b> ({@code ipvsadm -E}): a scheduler built with
 * {@link Builder#keepTemplatesOf(PersistentScheduler) keepTemplatesOf(previous)} takes over the previous
 * one's table, so a new wrapped scheduler, timeout, prefix length or quiescent-template rule does not
 * forget any client, and the leases held on the entries stay valid. As IPVS sets a template's timeout
 * when it creates the template, each kept entry keeps the timeout it was made with (every use and every
 * release counts that one) and only new entries take the new timeout; an entry made before a prefix
 * change is keyed by its old network, so it is found only by clients whose network under the new prefix
 * is the same address (IPVS looks its templates up by the client address under the current netmask).
 * Unmatched entries are listed until they expire.
 *
 * <p>The table is bounded: at most {@link #maxEntries()} entries (default
 * {@value #DEFAULT_MAX_ENTRIES}), open addressing with a probe window of {@value #PROBE} slots; when a
 * new client finds its window full of live entries, the one closest to expiry is evicted, held entries
 * last (that client loses its persistence early). A pick is lock-free and, for IPv4 clients,
 * allocation-free, and so are taking and releasing a lease, except that a new client, or a client that
 * must move while connections hold its entry or from an entry a previous scheduler made, costs one small
 * entry; an IPv6 client costs a 16-byte copy of its address on every pick ({@link InetAddress} offers no other access to the bytes). Two first
 * connections of one client that race may land on different members; the later one is remembered.
 *
 * <p>Thread-safe. One instance per pool, as every scheduler.
 */
public final class PersistentScheduler implements Scheduler {
    /** Default timeout, ipvsadm's for {@code -p} without a value. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);
    /** Default bound on the number of client networks remembered. */
    public static final int DEFAULT_MAX_ENTRIES = 65536;
    /** The most entries accepted. */
    public static final int MAX_ENTRIES = 1 << 24;
    static final int PROBE = 8;
    /** Bits 32..47 of an IPv4-mapped IPv6 address, the form IPv4 clients are kept in. */
    private static final long V4_MAPPED = 0xffffL;
    private static final AtomicIntegerFieldUpdater<PersistentScheduler.Entry> CONTROL =
            AtomicIntegerFieldUpdater.newUpdater(PersistentScheduler.Entry.class, "control");

    private final Scheduler delegate;
    private final Duration timeout;
    private final long timeoutNanos;
    private final int ipv4PrefixLength;
    private final int ipv6PrefixLength;
    private final int maxEntries;
    private final boolean expireQuiescentTemplate;
    private final int mask4;
    private final long mask6Hi;
    private final long mask6Lo;
    private final AtomicReferenceArray<Entry> table;

    private PersistentScheduler(Builder b) {
        this.delegate = b.delegate;
        this.timeout = b.timeout;
        this.timeoutNanos = saturatedNanos(b.timeout);
        this.ipv4PrefixLength = b.ipv4PrefixLength;
        this.ipv6PrefixLength = b.ipv6PrefixLength;
        this.maxEntries = b.previous != null ? b.previous.maxEntries
                : b.maxEntries != 0 ? b.maxEntries : DEFAULT_MAX_ENTRIES;
        this.expireQuiescentTemplate = b.expireQuiescentTemplate;
        this.mask4 = ipv4PrefixLength == 0 ? 0 : -1 << (32 - ipv4PrefixLength);
        this.mask6Hi = prefixMask(ipv6PrefixLength);
        this.mask6Lo = prefixMask(ipv6PrefixLength - 64);
        this.table = b.previous != null ? b.previous.table : new AtomicReferenceArray<>(maxEntries);
    }

    /**
     * Persistence per client address (IPv4 /32, IPv6 /128) for {@code timeout} around {@code delegate},
     * with the default table bound.
     */
    public static PersistentScheduler wrap(Scheduler delegate, Duration timeout) {
        return builder(delegate).timeout(timeout).build();
    }

    /**
     * Persistence per IPv4 network of {@code ipv4PrefixLength} bits (ipvsadm {@code -M}; 24 groups a
     * /24) for {@code timeout} around {@code delegate}; IPv6 clients per /128.
     *
     * @throws IllegalArgumentException naming the value if the timeout is not positive or the prefix
     *     length is outside 0..32
     */
    public static PersistentScheduler wrap(Scheduler delegate, Duration timeout, int ipv4PrefixLength) {
        return builder(delegate).timeout(timeout).ipv4PrefixLength(ipv4PrefixLength).build();
    }

    /** A builder around {@code delegate}. */
    public static Builder builder(Scheduler delegate) {
        return new Builder(delegate);
    }

    /** The wrapped scheduler's name: persistence is a property of the service, not another scheduler. */
    @Override
    public String name() {
        return delegate.name();
    }

    /** The wrapped scheduler. */
    public Scheduler delegate() {
        return delegate;
    }

    /** How long an entry lives after its last use, or after the release of its last lease. */
    public Duration timeout() {
        return timeout;
    }

    /**
     * Whether an entry pointing at a member of weight 0 is dropped at its next use and the client
     * scheduled anew (IPVS {@code expire_quiescent_template = 1}); {@code false} (the default, as IPVS)
     * keeps the client on the quiesced member while the entry lives.
     */
    public boolean expireQuiescentTemplate() {
        return expireQuiescentTemplate;
    }

    /** The IPv4 prefix length clients are grouped by (32: each address alone). */
    public int ipv4PrefixLength() {
        return ipv4PrefixLength;
    }

    /** The IPv6 prefix length clients are grouped by (128: each address alone). */
    public int ipv6PrefixLength() {
        return ipv6PrefixLength;
    }

    /** The most client networks remembered at once. */
    public int maxEntries() {
        return maxEntries;
    }

    /**
     * The number of entries that are live at {@code nanoTime}: fresh or held by a lease (a scan of the
     * table, for stats and tests).
     */
    public int size(long nanoTime) {
        int n = 0;
        for (int i = 0; i < table.length(); i++) {
            Entry e = table.get(i);
            if (e != null && e.isLive(nanoTime)) {
                n++;
            }
        }
        return n;
    }

    /**
     * A live entry of the table, as IPVS calls it a persistence template: the client network, the
     * member it is kept on and the time left before it expires.
     *
     * @param network      the client network (the client address with the bits beyond the prefix cleared)
     * @param prefixLength the prefix length of {@code network}
     * @param member       the member the network is kept on
     * @param remaining    time left before the entry expires unless used again; positive. An entry held
     *                     by leases does not expire: once its timeout has run out, this is what IPVS's
     *                     {@code -lnc} shows for a template it re-arms while connections hold it, the time
     *                     to the next whole timeout since the last use. An entry kept from a previous
     *                     scheduler ({@link Builder#keepTemplatesOf}) shows its own prefix length and
     *                     counts its own timeout
     */
    public record Template(InetAddress network, int prefixLength, Member member, Duration remaining) {}

    /**
     * The entries that are live at {@code nanoTime} (the pool's ticker), for listings such as
     * {@code ipvsadm -lnc} and per-member counts of {@code --persistent-conn}. A scan of the whole
     * table: O({@link #maxEntries()}), off the pick path; each entry is read once, so the list is a
     * consistent view of every entry but not one instant of the whole table. Thread-safe.
     */
    public List<Template> templates(long nanoTime) {
        List<Template> out = new ArrayList<>();
        for (int i = 0; i < table.length(); i++) {
            Entry e = table.get(i);
            Template t = e == null ? null : e.template(nanoTime);
            if (t != null) {
                out.add(t);
            }
        }
        return out;
    }

    /**
     * Forgets every entry that points at {@code member}, live or not, held by leases or not, as IPVS's
     * {@code expire_nodest_conn} flush expires the templates of a deleted destination: their clients are
     * scheduled anew at their next pick, and {@link #templates} and {@link #size} no longer count them.
     * Leases held on a forgotten entry stay valid to release (and then change nothing). A scan of the
     * whole table, off the pick path: O({@link #maxEntries()}). Thread-safe; an entry that a concurrent
     * pick moves to another member at the same moment may be forgotten too (its client is then scheduled
     * anew once more).
     *
     * @return how many entries were forgotten
     * @throws NullPointerException if {@code member} is null
     */
    public int forget(Member member) {
        Objects.requireNonNull(member, "member");
        int n = 0;
        for (int i = 0; i < table.length(); i++) {
            Entry e = table.get(i);
            if (e != null && e.member == member && table.compareAndSet(i, e, null)) {
                n++;
            }
        }
        return n;
    }

    private static InetAddress address(int length, long hi, long lo) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            long word = i < length - 8 ? hi : lo;
            int shift = 8 * (7 - (i < length - 8 ? i : i - (length - 8)));
            b[i] = (byte) (word >>> shift);
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 bytes are an address", e);
        }
    }

    @Override
    public Picker newPicker(List<Member> members) {
        Picker inner = delegate.newPicker(members);
        if (members.isEmpty()) {
            return inner;
        }
        return new PersistentPicker(inner, members.get(0).upstream().isBackup());
    }

    private final class PersistentPicker implements Picker {
        private final Picker inner;
        private final boolean backupTier;

        PersistentPicker(Picker inner, boolean backupTier) {
            this.inner = inner;
            this.backupTier = backupTier;
        }

        @Override
        public Member pick(PickContext ctx) {
            InetAddress a = ctx.clientAddress();
            if (a == null) {
                ctx.placedBy(null);
                return inner.pick(ctx);
            }
            long hi;
            long lo;
            if (a instanceof Inet4Address) {
                // Inet4Address.hashCode() is the address itself: no copy of the bytes. Kept as its
                // IPv4-mapped IPv6 address (::ffff:a.b.c.d), which the JDK gives as an Inet4Address, so that
                // IPv4 and IPv6 clients never share an entry.
                hi = 0;
                lo = V4_MAPPED << 32 | (a.hashCode() & mask4) & 0xffffffffL;
            } else {
                byte[] b = a.getAddress();
                hi = bytesToLong(b, 0) & mask6Hi;
                lo = bytesToLong(b, 8) & mask6Lo;
            }
            long now = ctx.nanoTime();
            AtomicReferenceArray<Entry> t = table;
            int size = maxEntries;
            int home = (int) (((Hashing.mix64(hi * 0x9E3779B97F4A7C15L ^ lo) >>> 32) * size) >>> 32);
            int window = Math.min(PROBE, size);
            int victim = -1;
            long victimRank = Long.MAX_VALUE;
            for (int p = 0; p < window; p++) {
                int slot = home + p >= size ? home + p - size : home + p;
                Entry e = t.get(slot);
                if (e == null) {
                    if (victim < 0 || victimRank != Long.MIN_VALUE) {
                        victim = slot;
                        victimRank = Long.MIN_VALUE;
                    }
                    continue;
                }
                if (e.hi == hi && e.lo == lo) {
                    Member m = e.member;
                    if (e.isLive(now) && m.upstream().isBackup() == backupTier && keeps(m, ctx)) {
                        e.touch(now);
                        ctx.placedBy(e);
                        return m;
                    }
                    // Changed in place, unless connections it placed hold it (they hold it, not the new one)
                    // or a previous scheduler made it (a new template takes the new timeout).
                    return schedule(ctx, t, slot, e.control > 0 || e.owner() != PersistentScheduler.this ? null : e,
                            hi, lo, now);
                }
                // A free or expired slot is the best place for a new entry, then the one expiring first;
                // held entries last.
                long rank = !e.isLive(now) ? Long.MIN_VALUE : e.control > 0 ? Long.MAX_VALUE : e.expiresAt - now;
                if (victim < 0 || rank < victimRank) {
                    victim = slot;
                    victimRank = rank;
                }
            }
            return schedule(ctx, t, victim, null, hi, lo, now);
        }

        /**
         * The wrapped scheduler's pick, recorded in {@code reuse} (the client's entry, which no lease holds)
         * or else in a new entry at {@code slot}.
         */
        private Member schedule(PickContext ctx, AtomicReferenceArray<Entry> t, int slot, Entry reuse, long hi,
                long lo, long now) {
            Member picked = inner.pick(ctx);
            Entry e = null;
            if (picked != null && reuse != null) {
                e = reuse;
                e.member = picked;
                e.touch(now);
            } else if (picked != null) {
                e = new Entry(hi, lo, picked, now + timeoutNanos);
                t.set(slot, e);
            }
            ctx.placedBy(e);
            return picked;
        }
    }

    /**
     * Whether an entry pointing at {@code m} keeps its client there (IPVS's {@code ip_vs_check_template}):
     * the member is up, has room under its connection limit and is not excluded; with
     * {@link #expireQuiescentTemplate()}, its weight is not 0 either.
     */
    private boolean keeps(Member m, PickContext ctx) {
        return ctx.keepsClient(m) && !(expireQuiescentTemplate && m.weight() == 0);
    }

    private static long bytesToLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[off + i] & 0xff);
        }
        return v;
    }

    /** The mask of the top {@code bits} bits of a 64-bit word (all bits for 64 or more, none for 0 or less). */
    private static long prefixMask(int bits) {
        return bits <= 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    /**
     * One persistence template, and the lease connections it placed hold on it. Its timeout and prefix
     * lengths are those of the scheduler that made it (the enclosing instance), which may be a previous
     * one whose table this scheduler kept.
     */
    private final class Entry extends Lease {
        final long hi;
        final long lo;
        volatile Member member;
        volatile long expiresAt;
        /** Leases not released yet (IPVS's {@code n_control}); updated through {@link #CONTROL}. */
        volatile int control;

        Entry(long hi, long lo, Member member, long expiresAt) {
            this.hi = hi;
            this.lo = lo;
            this.member = member;
            this.expiresAt = expiresAt;
        }

        /** Held, or used less than a timeout ago. The count is read first: see {@link #release}. */
        boolean isLive(long now) {
            return control > 0 || now - expiresAt < 0;
        }

        PersistentScheduler owner() {
            return PersistentScheduler.this;
        }

        /** A use at {@code now}: the entry lives its own timeout from now, as IPVS re-arms a template. */
        void touch(long now) {
            expiresAt = now + timeoutNanos;
        }

        /** This entry as listed at {@code now}, or {@code null} when it has expired. */
        Template template(long now) {
            boolean held = control > 0;
            long left = expiresAt - now;
            Member m = member;
            if (held && left <= 0) {
                // As IPVS's timer, re-armed for a whole timeout each time it runs out while the template is held.
                left = timeoutNanos - (-left % timeoutNanos);
            }
            if (left <= 0) {
                return null;
            }
            return hi == 0 && (lo >>> 32) == V4_MAPPED
                    ? new Template(address(4, 0, lo), ipv4PrefixLength, m, Duration.ofNanos(left))
                    : new Template(address(16, hi, lo), ipv6PrefixLength, m, Duration.ofNanos(left));
        }

        @Override
        void acquire() {
            CONTROL.incrementAndGet(this);
        }

        @Override
        public void release(long nanoTime) {
            // The expiry moves before the count drops, so a pick that sees no lease left sees the new expiry.
            long until = nanoTime + timeoutNanos;
            if (until - expiresAt > 0) {
                expiresAt = until;
            }
            if (CONTROL.decrementAndGet(this) < 0) {
                CONTROL.incrementAndGet(this);
                throw new IllegalStateException("lease released more often than taken");
            }
        }
    }

    /**
     * Builds a {@link PersistentScheduler}. Not thread-safe. Defaults: timeout
     * {@link #DEFAULT_TIMEOUT} (300 s), IPv4 prefix 32, IPv6 prefix 128, {@link #DEFAULT_MAX_ENTRIES}
     * (or the kept table's size), quiesced members keep their clients ({@code expireQuiescentTemplate(false)}),
     * a new empty table.
     */
    public static final class Builder {
        private final Scheduler delegate;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int ipv4PrefixLength = 32;
        private int ipv6PrefixLength = 128;
        /** 0 until set: the default, or the kept table's size. */
        private int maxEntries;
        private boolean expireQuiescentTemplate;
        private PersistentScheduler previous;

        private Builder(Scheduler delegate) {
            this.delegate = Objects.requireNonNull(delegate, "delegate");
        }

        /** How long an entry lives after its last use; must be positive (and is capped at about 146 years). */
        public Builder timeout(Duration timeout) {
            this.timeout = Checks.positive(timeout, "persistence timeout");
            return this;
        }

        /** Clients are grouped by this many leading bits of their IPv4 address, 0..32. */
        public Builder ipv4PrefixLength(int bits) {
            this.ipv4PrefixLength = Checks.inRange(bits, 0, 32, "ipv4PrefixLength");
            return this;
        }

        /** Clients are grouped by this many leading bits of their IPv6 address, 0..128. */
        public Builder ipv6PrefixLength(int bits) {
            this.ipv6PrefixLength = Checks.inRange(bits, 0, 128, "ipv6PrefixLength");
            return this;
        }

        /** The most client networks remembered at once, 1..{@value #MAX_ENTRIES}. */
        public Builder maxEntries(int maxEntries) {
            this.maxEntries = Checks.inRange(maxEntries, 1, MAX_ENTRIES, "maxEntries");
            return this;
        }

        /**
         * Whether an entry pointing at a member of weight 0 is dropped at its next use and the client
         * scheduled anew, as IPVS with the sysctl {@code net.ipv4.vs.expire_quiescent_template = 1}.
         * Default {@code false}, IPVS's default: a quiesced member keeps its persistent clients until
         * their entries expire.
         */
        public Builder expireQuiescentTemplate(boolean expireQuiescentTemplate) {
            this.expireQuiescentTemplate = expireQuiescentTemplate;
            return this;
        }

        /**
         * The new scheduler takes over {@code previous}'s table instead of starting an empty one, as IPVS
         * keeps its templates when {@code ipvsadm -E} changes a service's scheduler, timeout or netmask:
         * every entry stays, with the leases held on it, and keeps the timeout and prefix length it was
         * made with; new entries take this builder's. Lookups group clients by this builder's prefix
         * lengths. Both schedulers may pick at once while a pool switches (the table is thread-safe); after
         * that, {@code previous} should no longer be used. Its size is {@code previous.maxEntries()}.
         *
         * @throws NullPointerException if {@code previous} is null
         */
        public Builder keepTemplatesOf(PersistentScheduler previous) {
            this.previous = Objects.requireNonNull(previous, "previous");
            return this;
        }

        /**
         * @throws IllegalArgumentException if {@link #maxEntries(int)} differs from the size of the table
         *     kept with {@link #keepTemplatesOf}, naming both
         */
        public PersistentScheduler build() {
            if (previous != null && maxEntries != 0 && maxEntries != previous.maxEntries) {
                throw new IllegalArgumentException("maxEntries " + maxEntries + " differs from the kept table's "
                        + previous.maxEntries);
            }
            return new PersistentScheduler(this);
        }
    }
}
