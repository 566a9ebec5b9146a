package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.internal.Hashing;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.Arrays;
import java.util.List;

/**
 * {@code ring}: ketama consistent hashing, as nginx's {@code hash $key consistent}. Each member puts
 * {@code points-per-weight} (default {@value #DEFAULT_POINTS}, nginx's) points per unit of weight on a
 * 64-bit ring, each point a hash of the member's key ({@code host:port}) and the point's number; the
 * pick's key (or the client address when no key is set) goes to the first point at or after its hash
 * (positions are the top 44 bits of the hashes).
 *
 * <p>A member's points depend only on its own key and weight, so removing a member moves exactly the
 * keys that were on it and adding one takes keys only onto it (unless two points share a 44-bit
 * position, which happens with probability about points²/2^45 per ring). Weights are not reduced; only if the
 * ring would exceed {@value #MAX_POINTS} points are they scaled down to fit (and that property then
 * holds only between rings that were not scaled). A pick is a bucket lookup and a binary search within
 * a bucket that holds about one point: O(1) expected, O(log points) at worst. When the chosen member is
 * not eligible the next points are tried ({@value Tables#PROBES} at most, as nginx tries 20), then the
 * members in pool order from the key's position. A pick whose key is
 * {@linkplain PickContext#hashKeyMissing() missing} is placed by smooth weighted round robin
 * ({@code wrr}, with cursors of its own), as nginx's {@code hash … consistent} places an empty key.
 */
public final class RingHashScheduler implements Scheduler {
    /** Default points per unit of weight, nginx's. */
    public static final int DEFAULT_POINTS = 160;
    /** The most points per unit of weight accepted. */
    public static final int MAX_POINTS_PER_WEIGHT = 10_000;
    /** The most points on one ring. */
    public static final int MAX_POINTS = 1 << 20;
    /** The low bits of a stored point that hold its owner's index (so at most 2^20 members). */
    private static final long OWNER_MASK = (1 << 20) - 1;

    private final int pointsPerWeight;
    private final WeightedRoundRobinScheduler keyless = WeightedRoundRobinScheduler.forMissingKeys();

    public RingHashScheduler(int pointsPerWeight) {
        this.pointsPerWeight = pointsPerWeight;
    }

    @Override
    public String name() {
        return "ring";
    }

    @Override
    public Picker newPicker(List<Member> members) {
        Member[] ms = Tables.weighted(members);
        if (ms.length == 0) {
            return Picker.EMPTY;
        }
        int[] w = Tables.capSum(Tables.weightsOf(ms), Math.max(ms.length, MAX_POINTS / pointsPerWeight));
        int total = 0;
        for (int x : w) {
            total += x * pointsPerWeight;
        }
        // A point's ring position is the top 44 bits of its hash; the low 20 bits carry the owner's
        // index, so one primitive sort orders the ring. Two points share a position with probability
        // about points^2 / 2^45 per ring (5e-5 for 40,960 points); only then does pool order decide.
        long[] hashes = new long[total];
        int p = 0;
        for (int i = 0; i < ms.length; i++) {
            long base = Hashing.hash64(ms[i].upstream().key());
            for (int j = 0; j < w[i] * pointsPerWeight; j++) {
                // The sign flip makes signed comparison of the stored values follow unsigned ring order.
                long h = Hashing.mix64(base + (j + 1) * 0x9E3779B97F4A7C15L) ^ Long.MIN_VALUE;
                hashes[p++] = (h & ~OWNER_MASK) | i;
            }
        }
        Arrays.sort(hashes);
        Member[] owners = new Member[total];
        for (int i = 0; i < total; i++) {
            owners[i] = ms[(int) (hashes[i] & OWNER_MASK)];
        }
        int bits = Math.max(1, Math.min(20, 31 - Integer.numberOfLeadingZeros(total)));
        int[] index = new int[(1 << bits) + 1];
        int i = 0;
        for (int b = 0; b <= 1 << bits; b++) {
            while (i < total && ((hashes[i] ^ Long.MIN_VALUE) >>> (64 - bits)) < b) {
                i++;
            }
            index[b] = i;
        }
        return new RingPicker(hashes, owners, index, bits, ms, keyless.newPicker(members));
    }

    static final class RingPicker implements Picker {
        private final long[] hashes;
        private final Member[] owners;
        private final int[] index;
        private final int shift;
        private final Member[] members;
        private final Picker keyless;

        RingPicker(long[] hashes, Member[] owners, int[] index, int bits, Member[] members, Picker keyless) {
            this.hashes = hashes;
            this.owners = owners;
            this.index = index;
            this.shift = 64 - bits;
            this.members = members;
            this.keyless = keyless;
        }

        /** The position of the first point at or after {@code hash} on the ring. */
        int point(long hash) {
            long key = (hash ^ Long.MIN_VALUE) & ~OWNER_MASK;
            int bucket = (int) (hash >>> shift);
            int lo = index[bucket];
            int hi = index[bucket + 1];
            long[] h = hashes;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (h[mid] < key) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo == h.length ? 0 : lo;
        }

        @Override
        public Member pick(PickContext ctx) {
            if (ctx.isHashKeyMissing()) {
                return keyless.pick(ctx);
            }
            long hash = ctx.effectiveHash();
            Member[] o = owners;
            int n = o.length;
            int i = point(hash);
            Member m = o[i];
            if (ctx.isEligible(m)) {
                return m;
            }
            for (int p = 1; p <= Tables.PROBES; p++) {
                int j = i + p;
                m = o[j >= n ? j - n : j];
                if (ctx.isEligible(m)) {
                    return m;
                }
            }
            return Tables.scan(members, Tables.range(hash, members.length), ctx);
        }

        /** The owner of the point a hash lands on, eligible or not; for tests. */
        Member owner(long hash) {
            return owners[point(hash)];
        }
    }
}
