package dev.lbkit.api.scheduler;

import dev.lbkit.api.Member;
import dev.lbkit.api.internal.Hashing;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * What a {@link Picker} may know about the connection or request being placed: the client address,
 * an optional hash key (or the news that the request lacks the key its tier hashes), the members
 * already tried (for retries), and the time of the pick.
 *
 * <p>Mutable and reusable, so that a tier keeps one per connection or request and picks without
 * allocating. Not thread-safe: one context is used by one thread at a time.
 */
public final class PickContext {
    private InetAddress clientAddress;
    private long clientHash;
    private boolean hasKey;
    private boolean keyMissing;
    private long keyHash;
    private long nanoTime;
    private Member[] tried = new Member[4];
    private int triedCount;
    private Member[] excluded = new Member[4];
    private int excludedCount;
    private Lease placement;

    public PickContext() {}

    /** Clears everything, for the next connection or request. Returns {@code this}. */
    public PickContext reset() {
        clientAddress = null;
        clientHash = 0;
        hasKey = false;
        keyMissing = false;
        keyHash = 0;
        nanoTime = 0;
        Arrays.fill(tried, 0, triedCount, null);
        triedCount = 0;
        clearExcluded();
        placement = null;
        return this;
    }

    /** Sets the client address ({@code sh} and persistence hash it). Returns {@code this}. */
    public PickContext clientAddress(InetAddress address) {
        this.clientAddress = Objects.requireNonNull(address, "address");
        // hashCode() of an Inet4Address is the address itself and allocates nothing; mixing spreads it.
        this.clientHash = Hashing.mix64(address.hashCode());
        return this;
    }

    /** The client address, or {@code null} when the tier did not set one. */
    public InetAddress clientAddress() {
        return clientAddress;
    }

    /** Whether a client address is set. */
    public boolean hasClientAddress() {
        return clientAddress != null;
    }

    /** A well-spread 64-bit hash of the client address (0 when none is set). */
    public long clientHash() {
        return clientHash;
    }

    /** Sets the hash key ({@code dh}, {@code mh}, {@code ring} use it) from text. Returns {@code this}. */
    public PickContext hashKey(CharSequence key) {
        return hashKey(Hashing.hash64(Objects.requireNonNull(key, "key")));
    }

    /**
     * Sets the hash key from {@code key.subSequence(from, to)}, with the same hash as
     * {@link #hashKey(CharSequence)} of that text, without making it: allocation-free. Returns {@code this}.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= from <= to <= key.length()}
     */
    public PickContext hashKey(CharSequence key, int from, int to) {
        return hashKey(Hashing.hash64(Objects.requireNonNull(key, "key"), from, to));
    }

    /** Sets an already hashed key; clears {@link #hashKeyMissing()}. Returns {@code this}. */
    public PickContext hashKey(long hash) {
        this.hasKey = true;
        this.keyMissing = false;
        this.keyHash = hash;
        return this;
    }

    /** Whether a hash key is set. */
    public boolean hasHashKey() {
        return hasKey;
    }

    /**
     * Says that this pick has no hash key although its tier hashes one taken from each request (a
     * header, a cookie, a query parameter) and this request lacks it or has it empty. The hash
     * schedulers {@code dh}, {@code mh} and {@code ring} then pick by smooth weighted round robin over
     * the tier's eligible members instead of hashing anything, as nginx's {@code hash} does with an empty
     * key and HAProxy's {@code balance hdr()} and {@code url_param} do without the key; {@code sh} still
     * hashes the client address and the other schedulers ignore keys anyway. Without this call a pick
     * with no key set hashes the client address (a tier that keys by client, such as lb-l4's). Clears a
     * key set before; {@link #reset()} and {@link #hashKey(long)} clear this. Returns {@code this}.
     */
    public PickContext hashKeyMissing() {
        this.keyMissing = true;
        this.hasKey = false;
        this.keyHash = 0;
        return this;
    }

    /** Whether {@link #hashKeyMissing()} was called since the last {@link #reset()} or hash key. */
    public boolean isHashKeyMissing() {
        return keyMissing;
    }

    /**
     * The key's hash; hash schedulers fall back to {@link #clientHash()} when no key is set, unless the
     * key is {@linkplain #hashKeyMissing() missing}.
     */
    public long hashKeyValue() {
        return keyHash;
    }

    /** The key hash if set, otherwise the client hash. */
    public long effectiveHash() {
        return hasKey ? keyHash : clientHash;
    }

    /** The ticker reading of this pick. Set by the pool before it calls a picker. */
    public long nanoTime() {
        return nanoTime;
    }

    /** Sets the time of the pick. Returns {@code this}. */
    public PickContext nanoTime(long nanoTime) {
        this.nanoTime = nanoTime;
        return this;
    }

    /** Records that a request was sent (or a connection attempted) to {@code member}, so retries avoid it. */
    public void addTried(Member member) {
        if (triedCount == tried.length) {
            tried = Arrays.copyOf(tried, triedCount * 2);
        }
        tried[triedCount++] = Objects.requireNonNull(member, "member");
    }

    /** Whether {@code member} was already tried for this request. */
    public boolean isTried(Member member) {
        for (int i = 0; i < triedCount; i++) {
            if (tried[i] == member) {
                return true;
            }
        }
        return false;
    }

    /** How many members were tried. */
    public int triedCount() {
        return triedCount;
    }

    /** Excludes {@code member} from the current pick only (its health policy turned it away). */
    public void exclude(Member member) {
        if (excludedCount == excluded.length) {
            excluded = Arrays.copyOf(excluded, excludedCount * 2);
        }
        excluded[excludedCount++] = Objects.requireNonNull(member, "member");
    }

    /** Forgets the members excluded for the current pick; the pool calls this before each pick. */
    public void clearExcluded() {
        Arrays.fill(excluded, 0, excludedCount, null);
        excludedCount = 0;
    }

    /** Whether a picker must skip {@code member}: tried already, or excluded for this pick. */
    public boolean isExcluded(Member member) {
        if (isTried(member)) {
            return true;
        }
        for (int i = 0; i < excludedCount; i++) {
            if (excluded[i] == member) {
                return true;
            }
        }
        return false;
    }

    /** Records what placed the current pick ({@code null}: nothing to lease); lb-api's pickers call it. */
    void placedBy(Lease lease) {
        this.placement = lease;
    }

    /**
     * Takes a hold on what placed the last pick and returns it: the persistence template of a
     * {@link PersistentScheduler}, which then does not expire until the hold is released (IPVS keeps a
     * template while connections it placed are in its table, {@code n_control}). Call it once the
     * member is taken (a connection entry is made for it) and release the result exactly once, with
     * {@link Lease#release(long)}, when that entry ends. {@code null} when the pick was not placed by a
     * template (no persistence, no client address, nothing picked) or the lease was taken already: then
     * there is nothing to release. Allocation-free.
     */
    public Lease lease() {
        Lease l = placement;
        if (l != null) {
            placement = null;
            l.acquire();
        }
        return l;
    }

    /**
     * Whether a client that persistence sends to {@code member} (a persistence template, a sticky cookie)
     * may stay there at {@link #nanoTime()}: the member is {@linkplain Member#isUp up}, even when drained
     * to weight 0 or overloaded (IPVS's {@code ip_vs_check_template}, HAProxy's cookie persistence to a
     * server of weight 0), has room under its connection limit and is not excluded. Allocation-free.
     */
    public boolean keepsClient(Member member) {
        return member.isUp(nanoTime) && !member.isAtConnectionLimit() && !isExcluded(member);
    }

    /**
     * Whether {@code member} may be picked now: available at {@link #nanoTime()} and not excluded. The
     * one check every picker makes.
     */
    public boolean isEligible(Member member) {
        return member.isAvailable(nanoTime) && (triedCount == 0 && excludedCount == 0 || !isExcluded(member));
    }
}
