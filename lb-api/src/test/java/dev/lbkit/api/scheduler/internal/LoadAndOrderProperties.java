package dev.lbkit.api.scheduler.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** p2c, random, fo and rr. */
class LoadAndOrderProperties {

    /** p2c's choice between its two samples is never the more loaded one. */
    @Property(tries = 200)
    void p2cNeverPicksTheMoreLoadedOfItsSamples(@ForAll @IntRange(min = 0, max = 50) int activeA,
            @ForAll @IntRange(min = 0, max = 50) int activeB, @ForAll @IntRange(min = 1, max = 9) int weightA,
            @ForAll @IntRange(min = 1, max = 9) int weightB, @ForAll boolean weighted) {
        UpstreamPool pool = Fixtures.pool("p2c", weighted ? weightA : 1, weighted ? weightB : 1);
        List<Member> ms = Fixtures.members(pool);
        load(ms.get(0), activeA);
        load(ms.get(1), activeB);
        long a = (long) activeA * (weighted ? weightB : 1);
        long b = (long) activeB * (weighted ? weightA : 1);
        Member chosen = PowerOfTwoScheduler.lessLoaded(ms.get(0), ms.get(1), weighted);
        if (a < b) {
            assertSame(ms.get(0), chosen);
        } else if (b < a) {
            assertSame(ms.get(1), chosen);
        }
        // With two members the samples are always both, so every pick is the less loaded one.
        PickContext ctx = Fixtures.ctx();
        for (int i = 0; i < 20; i++) {
            Member m = pool.pick(ctx);
            if (a != b) {
                assertSame(a < b ? ms.get(0) : ms.get(1), m);
            }
        }
    }

    /** With n members, the strictly most loaded one is never picked: it loses to any other sample. */
    @Property(tries = 100)
    void p2cNeverPicksTheUniqueMostLoaded(@ForAll @Size(min = 2, max = 12) List<@IntRange(min = 0, max = 20) Integer> active) {
        int n = active.size();
        UpstreamPool pool = Fixtures.pool("p2c", Fixtures.ones(n));
        List<Member> ms = Fixtures.members(pool);
        int max = -1;
        int maxIndex = -1;
        boolean unique = false;
        for (int i = 0; i < n; i++) {
            load(ms.get(i), active.get(i));
            if (active.get(i) > max) {
                max = active.get(i);
                maxIndex = i;
                unique = true;
            } else if (active.get(i) == max) {
                unique = false;
            }
        }
        PickContext ctx = Fixtures.ctx();
        for (int i = 0; i < 50; i++) {
            Member m = pool.pick(ctx);
            if (unique) {
                assertNotSame(ms.get(maxIndex), m);
            }
        }
    }

    @Test
    void p2cSkipsUnavailableMembers() {
        UpstreamPool pool = Fixtures.pool("p2c", Fixtures.ones(5));
        List<Member> ms = Fixtures.members(pool);
        for (int i = 0; i < 4; i++) {
            ms.get(i).checkDown(true, "test");
        }
        for (int i = 0; i < 50; i++) {
            assertSame(ms.get(4), pool.pick(Fixtures.ctx()));
        }
        ms.get(4).checkDown(true, "test");
        assertEquals(null, pool.pick(Fixtures.ctx()));
    }

    /**
     * random follows effective weights. 40,000 draws; each share within 0.02 of its weight's share
     * (about six standard deviations, so a false failure is practically impossible).
     */
    @Test
    void randomFollowsWeights() {
        UpstreamPool pool = Fixtures.pool("random", 1, 2, 5, 0);
        List<Member> ms = Fixtures.members(pool);
        Map<Member, Integer> counts = new HashMap<>();
        PickContext ctx = Fixtures.ctx();
        int draws = 40_000;
        for (int i = 0; i < draws; i++) {
            counts.merge(pool.pick(ctx), 1, Integer::sum);
        }
        assertEquals(1 / 8.0, counts.get(ms.get(0)) / (double) draws, 0.02);
        assertEquals(2 / 8.0, counts.get(ms.get(1)) / (double) draws, 0.02);
        assertEquals(5 / 8.0, counts.get(ms.get(2)) / (double) draws, 0.02);
        assertEquals(null, counts.get(ms.get(3)), "weight 0 is never picked");
    }

    @Test
    void foPicksTheAvailableMemberOfHighestWeight() {
        UpstreamPool pool = Fixtures.pool("fo", 1, 3, 2, 3);
        List<Member> ms = Fixtures.members(pool);
        assertSame(ms.get(1), pool.pick(Fixtures.ctx()), "highest weight, first in pool order");
        ms.get(1).checkDown(true, "test");
        assertSame(ms.get(3), pool.pick(Fixtures.ctx()));
        pool.markDown(ms.get(3).upstream().key(), true);
        assertSame(ms.get(2), pool.pick(Fixtures.ctx()));
        PickContext retry = Fixtures.ctx();
        retry.addTried(ms.get(2));
        assertSame(ms.get(0), pool.pick(retry));
        ms.get(1).checkDown(false, "test");
        assertSame(ms.get(1), pool.pick(Fixtures.ctx()));
    }

    /** rr skipping a down member gives the next one no double share (IPVS continues from the last pick). */
    @Property(tries = 100)
    void rrSkipsDownMembersWithoutDoubleShare(@ForAll @IntRange(min = 3, max = 10) int n, @ForAll @IntRange(min = 0, max = 9) int down) {
        UpstreamPool pool = Fixtures.pool("rr", Fixtures.ones(n));
        List<Member> ms = Fixtures.members(pool);
        Member d = ms.get(down % n);
        d.checkDown(true, "test");
        Map<Member, Integer> counts = new HashMap<>();
        PickContext ctx = Fixtures.ctx();
        for (int i = 0; i < (n - 1) * 10; i++) {
            counts.merge(pool.pick(ctx), 1, Integer::sum);
        }
        assertEquals(null, counts.get(d));
        for (Member m : ms) {
            if (m != d) {
                assertEquals(10, counts.get(m), "rr share of " + m);
            }
        }
    }

    @Test
    void rrAndWrrCursorsStartAtRandom() {
        // 30 new schedulers all starting with the first member would be a 1 in 2^29 coincidence.
        boolean rrVaried = false;
        boolean wrrVaried = false;
        for (int i = 0; i < 30; i++) {
            UpstreamPool rr = Fixtures.pool("rr", Fixtures.ones(4));
            UpstreamPool wrr = Fixtures.pool("wrr", 1, 1, 1, 1);
            rrVaried |= rr.pick(Fixtures.ctx()) != Fixtures.members(rr).get(0);
            wrrVaried |= wrr.pick(Fixtures.ctx()) != Fixtures.members(wrr).get(0);
        }
        assertTrue(rrVaried && wrrVaried);
    }

    @Test
    void rrCursorSurvivesRebuilds() {
        UpstreamPool pool = Fixtures.pool("rr", Fixtures.ones(3));
        List<Member> ms = Fixtures.members(pool);
        Member first = pool.pick(Fixtures.ctx());
        // A rebuild that keeps the membership must not reset the rotation.
        pool.markDown(ms.get(0).upstream().key(), false);
        Member second = pool.pick(Fixtures.ctx());
        assertEquals((ms.indexOf(first) + 1) % 3, ms.indexOf(second));
    }

    private static void load(Member m, int active) {
        for (int i = 0; i < active; i++) {
            m.incrementActive();
        }
    }
}
