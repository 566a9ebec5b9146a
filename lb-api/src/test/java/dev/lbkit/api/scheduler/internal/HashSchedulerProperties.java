package dev.lbkit.api.scheduler.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.SchedulerOptions;
import dev.lbkit.api.scheduler.Schedulers;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class HashSchedulerProperties {

    /** sh, dh and mh map a key to the same member for as long as the membership is unchanged. */
    @Property(tries = 60)
    void sameKeySameMemberWhileMembershipIsUnchanged(@ForAll("hashNames") String name,
            @ForAll @IntRange(min = 1, max = 40) int n, @ForAll long seed) throws UnknownHostException {
        UpstreamPool pool = Fixtures.pool(name, Fixtures.ones(n));
        Random random = new Random(seed);
        long[] keys = random.longs(200).toArray();
        InetAddress[] clients = clients(random, 200);
        Member[] first = picks(pool, keys, clients);
        // Rebuilds that do not change the membership: an admin mark and unmark of a member.
        String k = Fixtures.members(pool).get(random.nextInt(n)).upstream().key();
        pool.markDown(k, true);
        pool.markDown(k, false);
        assertTrue(Arrays.equals(first, picks(pool, keys, clients)), name + " remapped keys on a rebuild");
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> hashNames() {
        return net.jqwik.api.Arbitraries.of("sh", "dh", "mh", "ring");
    }

    /** mh with equal weights: every member holds ⌊M/n⌋ or ⌈M/n⌉ entries, within one of an even share. */
    @Property(tries = 30)
    void maglevFillsEvenly(@ForAll @IntRange(min = 1, max = 300) int n, @ForAll("primes") int size) {
        UpstreamPool pool = Fixtures.pool(new MaglevScheduler(size), Fixtures.ones(n));
        Member[] table = ((TablePicker) pool.snapshot().primaryPicker()).table();
        Map<Member, Integer> counts = new IdentityHashMap<>();
        for (Member m : table) {
            assertNotNull(m);
            counts.merge(m, 1, Integer::sum);
        }
        int floor = size / n;
        int ceil = (size + n - 1) / n;
        if (n <= size) {
            assertEquals(n, counts.size());
        }
        for (int c : counts.values()) {
            assertTrue(c >= floor && c <= ceil, "count " + c + " outside " + floor + ".." + ceil);
        }
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Integer> primes() {
        return net.jqwik.api.Arbitraries.of(251, 4093, 65537);
    }

    /**
     * The disruption bound we check for mh (M = 65537, equal weights, N = 2..64): when one of N
     * upstreams goes away, the keys that were on it move (1/N of them, unavoidably), and of the keys on
     * the other N-1 upstreams fewer than 0.5/N of all keys move too; so at most 1.5/N of keys move in
     * all. This is what the property verifies for the sampled N and removed upstream, not a theorem:
     * Maglev gives no hard bound, and the worst seen over every N in 2..64 was 0.35/N.
     */
    @Property(tries = 40)
    void maglevMovesLittleMoreThanTheRemovedShare(@ForAll @IntRange(min = 2, max = 64) int n, @ForAll @IntRange(min = 0, max = 63) int removed) {
        int size = MaglevScheduler.DEFAULT_TABLE_SIZE;
        UpstreamPool pool = Fixtures.pool("rr", Fixtures.ones(n));
        List<Member> ms = new ArrayList<>(Fixtures.members(pool));
        Member[] before = MaglevScheduler.table(sorted(ms), size);
        Member gone = ms.remove(removed % n);
        Member[] after = MaglevScheduler.table(sorted(ms), size);
        int onGone = 0;
        int extra = 0;
        for (int i = 0; i < size; i++) {
            if (before[i] == gone) {
                onGone++;
                assertNotSame(gone, after[i]);
            } else if (before[i] != after[i]) {
                extra++;
            }
        }
        assertTrue(Math.abs(onGone - (double) size / n) <= 1, "removed member held " + onGone);
        assertTrue(extra < 0.5 * size / n, "extra moves " + extra + " of " + size + " for n=" + n);
    }

    @Test
    void maglevTableDoesNotDependOnInsertionOrder() {
        UpstreamPool forward = Fixtures.pool("mh", Fixtures.ones(10));
        UpstreamPool.Builder b = UpstreamPool.builder().scheduler("mh");
        for (int i = 9; i >= 0; i--) {
            b.add(Fixtures.upstream(i, 1));
        }
        UpstreamPool backward = b.build();
        Member[] t1 = ((TablePicker) forward.snapshot().primaryPicker()).table();
        Member[] t2 = ((TablePicker) backward.snapshot().primaryPicker()).table();
        for (int i = 0; i < t1.length; i++) {
            assertEquals(t1[i].upstream().key(), t2[i].upstream().key());
        }
    }

    @Test
    void maglevSharesFollowWeights() {
        UpstreamPool pool = Fixtures.pool("mh", 1, 2, 3, 4);
        Member[] table = ((TablePicker) pool.snapshot().primaryPicker()).table();
        Map<Member, Integer> counts = new IdentityHashMap<>();
        for (Member m : table) {
            counts.merge(m, 1, Integer::sum);
        }
        List<Member> ms = Fixtures.members(pool);
        for (int i = 0; i < 4; i++) {
            double share = counts.get(ms.get(i)) / (double) table.length;
            assertEquals((i + 1) / 10.0, share, 0.002, "member " + i);
        }
    }

    @Test
    void maglevTableSizeMustBePrime() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Schedulers.get("mh", SchedulerOptions.parse("table-size=65536")));
        assertTrue(e.getMessage().contains("65536") && e.getMessage().contains("prime"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MaglevScheduler(1));
        assertEquals("mh", Schedulers.get("mh", SchedulerOptions.parse("table-size=251")).name());
    }

    /** ring: removing a member moves exactly its keys; adding one moves keys only onto it. */
    @Property(tries = 40)
    void ringMovesOnlyTheRemovedUpstreamsKeys(@ForAll @IntRange(min = 2, max = 30) int n,
            @ForAll @IntRange(min = 0, max = 29) int removed, @ForAll long seed) {
        Random random = new Random(seed);
        int[] w = new int[n];
        for (int i = 0; i < n; i++) {
            w[i] = 1 + random.nextInt(3);
        }
        UpstreamPool pool = Fixtures.pool("ring", w);
        long[] keys = random.longs(2000).toArray();
        Member[] before = picks(pool, keys, null);
        Member gone = Fixtures.members(pool).get(removed % n);
        pool.remove(gone.upstream());
        Member[] after = picks(pool, keys, null);
        for (int i = 0; i < keys.length; i++) {
            if (before[i] == gone) {
                assertNotSame(gone, after[i]);
            } else {
                assertSame(before[i], after[i], "key " + keys[i] + " moved off a remaining member");
            }
        }
        Member added = pool.add(Upstream.of("127.0.0.2", 80));
        Member[] again = picks(pool, keys, null);
        for (int i = 0; i < keys.length; i++) {
            assertTrue(again[i] == after[i] || again[i] == added, "key moved between old members");
        }
    }

    /**
     * When the member a key maps to is down, the key falls through deterministically to an eligible
     * member, and keys whose member is up do not move.
     */
    @Property(tries = 60)
    void fallThroughIsDeterministicAndMovesOnlyKeysOfDownMembers(@ForAll("hashNames") String name,
            @ForAll @IntRange(min = 2, max = 20) int n, @ForAll long seed) throws UnknownHostException {
        Random random = new Random(seed);
        UpstreamPool pool = Fixtures.pool(name, Fixtures.ones(n));
        long[] keys = random.longs(300).toArray();
        InetAddress[] clients = clients(random, 300);
        Member[] before = picks(pool, keys, clients);
        List<Member> ms = Fixtures.members(pool);
        List<Member> down = new ArrayList<>();
        // Down by health (no rebuild), all but one at most.
        for (int i = 0; i < n - 1; i++) {
            if (random.nextInt(3) == 0) {
                ms.get(i).checkDown(true, "test");
                down.add(ms.get(i));
            }
        }
        Member[] after = picks(pool, keys, clients);
        Member[] again = picks(pool, keys, clients);
        for (int i = 0; i < keys.length; i++) {
            assertNotNull(after[i]);
            assertTrue(!down.contains(after[i]));
            assertSame(after[i], again[i]);
            if (!down.contains(before[i])) {
                assertSame(before[i], after[i]);
            }
        }
    }

    @Test
    void allDownGivesNoUpstream() {
        for (String name : List.of("sh", "dh", "mh", "ring")) {
            UpstreamPool pool = Fixtures.pool(name, 1, 1, 1);
            Fixtures.members(pool).forEach(m -> m.checkDown(true, "test"));
            assertEquals(null, pool.pick(new PickContext().hashKey(42)), name);
        }
    }

    /**
     * dh, mh and ring place a pick whose key is missing by smooth weighted round robin, whatever its
     * client: over whole cycles every eligible member gets exactly its weight's share, a member down by
     * health gives its turns to the others, and a key set again hashes as before.
     */
    @Property(tries = 40)
    void aMissingKeyIsPlacedByWeightedRoundRobin(@ForAll("keyedHashNames") String name,
            @ForAll("weights") List<Integer> weights, @ForAll boolean oneDown, @ForAll long seed)
            throws UnknownHostException {
        int[] w = weights.stream().mapToInt(Integer::intValue).toArray();
        UpstreamPool pool = Fixtures.pool(name, w);
        List<Member> ms = Fixtures.members(pool);
        Random random = new Random(seed);
        InetAddress[] clients = clients(random, 64);
        int down = oneDown && ms.size() > 1 ? random.nextInt(ms.size()) : -1;
        if (down >= 0) {
            ms.get(down).checkDown(true, "test");
        }
        int reduced = 0;
        for (int x : Tables.reduce(w)) {
            reduced += x;
        }
        PickContext ctx = new PickContext();
        Map<Member, Integer> counts = new IdentityHashMap<>();
        int cycles = 3;
        for (int i = 0; i < reduced * cycles; i++) {
            Member m = pool.pick(ctx.reset().clientAddress(clients[i & 63]).hashKeyMissing());
            assertNotNull(m);
            counts.merge(m, 1, Integer::sum);
        }
        int[] r = Tables.reduce(w);
        for (int i = 0; i < ms.size(); i++) {
            Member m = ms.get(i);
            if (i == down) {
                assertEquals(null, counts.get(m), name + ": picked a member that is down");
            } else if (down < 0) {
                assertEquals(r[i] * cycles, counts.getOrDefault(m, 0), name + " weights " + weights);
            } else {
                assertTrue(counts.getOrDefault(m, 0) >= r[i] * cycles, name + " weights " + weights + ": " + counts);
            }
        }
        assertSame(pool.pick(ctx.reset().hashKey(seed)), pool.pick(ctx.reset().hashKeyMissing().hashKey(seed)));
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> keyedHashNames() {
        return net.jqwik.api.Arbitraries.of("dh", "mh", "ring");
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<List<Integer>> weights() {
        return net.jqwik.api.Arbitraries.integers().between(1, 5).list().ofMinSize(1).ofMaxSize(8);
    }

    /** sh hashes the client address whatever the key, a missing one included. */
    @Test
    void shHashesTheClientNotTheKey() throws UnknownHostException {
        UpstreamPool pool = Fixtures.pool("sh", Fixtures.ones(16));
        PickContext ctx = new PickContext().clientAddress(InetAddress.getByName("127.0.0.7"));
        Member m = pool.pick(ctx);
        for (long k = 0; k < 100; k++) {
            assertSame(m, pool.pick(ctx.hashKey(k)));
            assertSame(m, pool.pick(ctx.hashKeyMissing()));
        }
    }

    @Test
    void shSpreadsBucketsByWeight() {
        UpstreamPool pool = Fixtures.pool("sh", 1, 3);
        Picker p = pool.snapshot().primaryPicker();
        Member[] table = ((TablePicker) p).table();
        assertEquals(BucketHashScheduler.DEFAULT_TABLE_SIZE, table.length);
        Map<Member, Integer> counts = new HashMap<>();
        for (Member m : table) {
            counts.merge(m, 1, Integer::sum);
        }
        List<Member> ms = Fixtures.members(pool);
        assertEquals(64, counts.get(ms.get(0)));
        assertEquals(192, counts.get(ms.get(1)));
    }

    static Member[] picks(UpstreamPool pool, long[] keys, InetAddress[] clients) {
        Member[] out = new Member[keys.length];
        PickContext ctx = new PickContext();
        for (int i = 0; i < keys.length; i++) {
            ctx.reset().hashKey(keys[i]);
            if (clients != null) {
                ctx.clientAddress(clients[i]);
            }
            out[i] = pool.pick(ctx);
        }
        return out;
    }

    static InetAddress[] clients(Random random, int count) throws UnknownHostException {
        InetAddress[] out = new InetAddress[count];
        for (int i = 0; i < count; i++) {
            byte[] b = new byte[4];
            random.nextBytes(b);
            out[i] = InetAddress.getByAddress(b);
        }
        return out;
    }

    static Member[] sorted(List<Member> ms) {
        Member[] c = ms.toArray(new Member[0]);
        Arrays.sort(c, Comparator.comparing(m -> m.upstream().key()));
        return c;
    }
}
