package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.internal.Hashing;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * {@code mh}: Maglev hashing (Eisenbud et al., NSDI 2016; IPVS {@code mh}). The pick's key, or the
 * client address when no key is set, indexes a lookup table of prime size M ({@code table-size},
 * default {@value #DEFAULT_TABLE_SIZE}, as IPVS).
 *
 * <p>Each member has a permutation of the table given by {@code offset = h1 mod M} and
 * {@code skip = h2 mod (M - 1) + 1}, two independent hashes of its key ({@code host:port}); members take
 * turns claiming their next preferred free entry until the table is full. As in IPVS, a member takes as
 * many turns per round as its weight (weights reduced by their common divisor and scaled so that a
 * round is at most a quarter of the table), so its share of entries follows its weight; with equal
 * weights every member holds ⌊M/n⌋ or ⌈M/n⌉ entries. Members are ordered by key first, so balancers
 * with the same upstreams build the same table whatever order they were added in. Building costs about
 * M·ln(M) steps (a few milliseconds for 65537), off the hot path; a pick is one index. A member
 * that is not eligible falls through as {@link TablePicker} describes. A pick whose key is
 * {@linkplain dev.lbkit.api.scheduler.PickContext#hashKeyMissing() missing} is placed by smooth weighted
 * round robin ({@code wrr}, with cursors of its own), as nginx's {@code hash} places an empty key.
 */
public final class MaglevScheduler implements Scheduler {
    /** Default table size, IPVS's and the paper's. */
    public static final int DEFAULT_TABLE_SIZE = 65537;
    /** The largest table size accepted (a prime). */
    public static final int MAX_TABLE_SIZE = 16777213;

    private final int tableSize;
    private final WeightedRoundRobinScheduler keyless = WeightedRoundRobinScheduler.forMissingKeys();

    /**
     * @throws IllegalArgumentException naming the value when it is not a prime in 3..{@value #MAX_TABLE_SIZE}
     */
    public MaglevScheduler(int tableSize) {
        this.tableSize = checkTableSize(tableSize);
    }

    static int checkTableSize(int m) {
        if (m < 3 || m > MAX_TABLE_SIZE || !isPrime(m)) {
            throw new IllegalArgumentException("mh table-size must be a prime in 3.." + MAX_TABLE_SIZE + ", got " + m);
        }
        return m;
    }

    static boolean isPrime(int m) {
        if (m < 2 || m % 2 == 0) {
            return m == 2;
        }
        for (int d = 3; (long) d * d <= m; d += 2) {
            if (m % d == 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String name() {
        return "mh";
    }

    @Override
    public Picker newPicker(List<Member> members) {
        Member[] ms = Tables.weighted(members);
        if (ms.length == 0) {
            return Picker.EMPTY;
        }
        Arrays.sort(ms, Comparator.comparing(m -> m.upstream().key()));
        return new TablePicker(table(ms, tableSize), ms, false, keyless.newPicker(members));
    }

    static Member[] table(Member[] ms, int size) {
        int n = ms.length;
        int[] turns = Tables.capSum(Tables.reduce(Tables.weightsOf(ms)), Math.max(n, size / 4));
        int[] next = new int[n];
        int[] skip = new int[n];
        for (int i = 0; i < n; i++) {
            String key = ms[i].upstream().key();
            next[i] = (int) Long.remainderUnsigned(Hashing.hash64(key), size);
            skip[i] = (int) Long.remainderUnsigned(Hashing.hash64("mh-skip/" + key), size - 1) + 1;
        }
        Member[] table = new Member[size];
        int filled = 0;
        for (;;) {
            for (int i = 0; i < n; i++) {
                for (int t = 0; t < turns[i]; t++) {
                    int c = next[i];
                    while (table[c] != null) {
                        c += skip[i];
                        if (c >= size) {
                            c -= size;
                        }
                    }
                    table[c] = ms[i];
                    c += skip[i];
                    next[i] = c >= size ? c - size : c;
                    if (++filled == size) {
                        return table;
                    }
                }
            }
        }
    }
}
