package dev.lbkit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.resolve.ManualResolver;
import dev.lbkit.api.resolve.ResolutionResult;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class UpstreamPoolTest {

    @Test
    void backupsServeOnlyWhenNoPrimaryIsAvailable() {
        UpstreamPool pool = UpstreamPool.builder()
                .add(Upstream.of("127.0.0.1", 8081))
                .add(Upstream.builder("127.0.0.1", 8082).backup(true).build())
                .build();
        PickContext ctx = new PickContext();
        for (int i = 0; i < 5; i++) {
            assertEquals(8081, pool.pick(ctx).upstream().port());
        }
        pool.markDown("127.0.0.1:8081", true);
        assertEquals(8082, pool.pick(ctx).upstream().port());
        pool.markDown("127.0.0.1:8082", true);
        assertNull(pool.pick(ctx));
    }

    @Test
    void aPreferredMemberIsPickedWhileItCanKeepItsClientsDrainedIncluded() {
        UpstreamPool pool = UpstreamPool.builder()
                .add(Upstream.of("127.0.0.1", 8081))
                .add(Upstream.of("127.0.0.1", 8082))
                .add(Upstream.builder("127.0.0.1", 8083).backup(true).build())
                .build();
        Member a = pool.member("127.0.0.1:8081").orElseThrow();
        Member b = pool.member("127.0.0.1:8082").orElseThrow();
        Member backup = pool.member("127.0.0.1:8083").orElseThrow();
        PickContext ctx = new PickContext();
        for (int i = 0; i < 5; i++) {
            assertSame(b, pool.pick(ctx.reset(), b));
        }
        // Drained (weight 0): it keeps the clients that name it, as HAProxy's cookie persistence and IPVS.
        pool.drain("127.0.0.1:8082");
        assertSame(b, pool.pick(ctx.reset(), b));
        assertSame(a, pool.pick(ctx.reset()));
        // Tried already (a retry): the scheduler picks another.
        ctx.reset().addTried(b);
        assertSame(a, pool.pick(ctx, b));
        // Down: no longer.
        pool.undrain("127.0.0.1:8082");
        pool.markDown("127.0.0.1:8082", true);
        assertSame(a, pool.pick(ctx.reset(), b));
        // A backup only while the backup tier is in use.
        assertSame(a, pool.pick(ctx.reset(), backup));
        pool.markDown("127.0.0.1:8081", true);
        assertSame(backup, pool.pick(ctx.reset(), backup));
        // A member of another pool, or none, is not preferred.
        Member stranger = UpstreamPool.of(Upstream.of("127.0.0.1", 8081)).member("127.0.0.1:8081").orElseThrow();
        assertSame(backup, pool.pick(ctx.reset(), stranger));
        assertSame(backup, pool.pick(ctx.reset(), null));
    }

    @Test
    void editKeepsTheMemberAndItsCounters() {
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 8081));
        Member m = pool.member("127.0.0.1:8081").orElseThrow();
        m.incrementActive();
        Member edited = pool.weight("127.0.0.1:8081", 5);
        assertSame(m, edited);
        assertEquals(5, m.weight());
        assertEquals(1, m.active());
    }

    @Test
    void aWeightChangeRacingAnEditNeverUndoesTheEdit() throws InterruptedException {
        // weight() is a read-modify-write of the upstream; done outside the pool's lock, an edit landing
        // between the read and the write was silently reverted (about 1 round in 100 before the fix).
        String key = "127.0.0.1:1";
        for (int round = 0; round < 1000; round++) {
            UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
            race(() -> pool.weight(key, 7), () -> pool.update(Upstream.builder("127.0.0.1", 1).metadata("zone", "b").build()));
            // Either order keeps the edit's metadata; only its weight may be overwritten.
            assertEquals("b", pool.member(key).orElseThrow().upstream().metadata().get("zone"), "round " + round);
        }
    }

    @Test
    void onAFollowingPoolAWeightRacingAStoreUpdateKeepsBoth() throws InterruptedException {
        // The store's edit and the operator's weight are kept apart: either order gives both.
        String key = "127.0.0.1:1";
        for (int round = 0; round < 1000; round++) {
            UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
            pool.replaceAll(List.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2)));
            race(() -> pool.weight(key, 7), () -> pool.replaceAll(List.of(
                    Upstream.builder("127.0.0.1", 1).weight(3).metadata("zone", "b").build(), Upstream.of("127.0.0.1", 2))));
            Upstream u = pool.member(key).orElseThrow().upstream();
            assertEquals("b", u.metadata().get("zone"), "round " + round);
            assertEquals(7, u.weight(), "round " + round);
        }
    }

    @Test
    void anOperatorsDrainWeightRemoveAndAddSurviveTheStoresResyncs() {
        UpstreamPool pool = UpstreamPool.builder().build();
        List<Upstream> store = List.of(Upstream.builder("127.0.0.1", 1).weight(3).build(), Upstream.of("127.0.0.1", 2),
                Upstream.of("127.0.0.1", 3));
        pool.replaceAll(store);
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        pool.drain("127.0.0.1:1");
        pool.weight("127.0.0.1:2", 5);
        pool.remove("127.0.0.1:3");
        pool.add(Upstream.of("127.0.0.1", 4));
        // The store re-announces everything, then changes the weights it gives.
        pool.replaceAll(store);
        pool.replaceAll(List.of(Upstream.builder("127.0.0.1", 1).weight(9).build(),
                Upstream.builder("127.0.0.1", 2).weight(9).build(), Upstream.builder("127.0.0.1", 3).weight(9).build()));
        assertSame(one, pool.member("127.0.0.1:1").orElseThrow());
        assertEquals(0, one.weight(), "the drain stays");
        assertEquals(5, pool.member("127.0.0.1:2").orElseThrow().weight(), "the operator's weight wins");
        assertTrue(pool.member("127.0.0.1:3").isEmpty(), "a removed upstream does not come back");
        assertTrue(pool.member("127.0.0.1:4").isPresent(), "an added upstream stays");
        assertEquals(9, pool.snapshot().store().get("127.0.0.1:1").weight(), "the store's own value is kept");
        assertEquals(UpstreamOverride.Kind.REMOVED, pool.snapshot().overrides().get("127.0.0.1:3").kind());

        // Cleared overrides give the keys back to the store.
        assertTrue(pool.clearOverride("127.0.0.1:1"));
        assertEquals(9, one.weight());
        assertTrue(pool.clearOverride("127.0.0.1:3"));
        assertEquals(9, pool.member("127.0.0.1:3").orElseThrow().weight());
        assertTrue(pool.clearOverride("127.0.0.1:4"));
        assertTrue(pool.member("127.0.0.1:4").isEmpty());
        assertFalse(pool.clearOverride("127.0.0.1:4"));
        assertEquals(Set.of("127.0.0.1:2"), pool.snapshot().overrides().keySet());
    }

    @Test
    void theStoreRemovingADrainedMemberEndsTheDrain() {
        UpstreamPool pool = UpstreamPool.builder().build();
        pool.replaceAll(List.of(Upstream.builder("127.0.0.1", 1).weight(3).build(), Upstream.of("127.0.0.1", 2)));
        Member drained = pool.member("127.0.0.1:1").orElseThrow();
        pool.drain("127.0.0.1:1");
        pool.replaceAll(List.of(Upstream.of("127.0.0.1", 2)));
        assertTrue(drained.isRemoved(), "the store removed it: it goes");
        assertTrue(pool.snapshot().overrides().isEmpty(), "and its drain with it");
        pool.replaceAll(List.of(Upstream.builder("127.0.0.1", 1).weight(3).build(), Upstream.of("127.0.0.1", 2)));
        assertEquals(3, pool.member("127.0.0.1:1").orElseThrow().weight(), "back as the store gives it");
    }

    @Test
    void aPoolThatFollowsNoStoreHasNoOverrides() {
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        pool.drain("127.0.0.1:1");
        pool.remove("127.0.0.1:2");
        pool.add(Upstream.of("127.0.0.1", 3));
        PoolSnapshot s = pool.snapshot();
        assertFalse(s.followsStore());
        assertTrue(s.overrides().isEmpty() && s.store().isEmpty());
        assertFalse(pool.clearOverride("127.0.0.1:1"));
        assertEquals(0, pool.member("127.0.0.1:1").orElseThrow().weight());
        // Its own membership stands for the store's from the moment it starts following one.
        pool.follow(new ManualResolver());   // a store that has not answered yet
        assertTrue(pool.snapshot().followsStore());
        assertEquals(Set.of("127.0.0.1:1", "127.0.0.1:3"), pool.snapshot().store().keySet());
    }

    @Test
    void undrainGivesBackTheWeightTheDrainKeptOnTheMember() {
        UpstreamPool pool = UpstreamPool.of(Upstream.builder("127.0.0.1", 1).weight(3).build(),
                Upstream.builder("127.0.0.1", 2).weight(0).build());
        Member m = pool.drain("127.0.0.1:1");
        assertEquals(0, m.weight());
        assertEquals(OptionalInt.of(3), m.weightBeforeDrain());
        pool.drain("127.0.0.1:1");
        assertEquals(OptionalInt.of(3), m.weightBeforeDrain(), "draining a drained upstream keeps the first weight");
        pool.markDown("127.0.0.1:1", true);
        assertSame(m, pool.undrain("127.0.0.1:1"));
        assertEquals(3, m.weight());
        assertTrue(m.isAdminDown(), "undrain is no mark up");
        assertEquals(OptionalInt.empty(), m.weightBeforeDrain(), "not drained: nothing kept");
        assertEquals(3, pool.undrain("127.0.0.1:1").weight(), "an upstream that is not drained is left as it is");

        // weight 0 is a drain too; an update that gives a weight ends it.
        pool.weight("127.0.0.1:1", 7);
        pool.weight("127.0.0.1:1", 0);
        assertEquals(OptionalInt.of(7), m.weightBeforeDrain());
        pool.update(Upstream.builder("127.0.0.1", 1).weight(0).metadata("zone", "a").build());
        assertEquals(OptionalInt.of(7), m.weightBeforeDrain(), "still drained: kept");
        pool.update(Upstream.builder("127.0.0.1", 1).weight(2).build());
        assertEquals(OptionalInt.empty(), m.weightBeforeDrain());

        // At weight 0 from the start, no drain kept a weight: undrain gives 1.
        Member zero = pool.member("127.0.0.1:2").orElseThrow();
        assertEquals(OptionalInt.empty(), zero.weightBeforeDrain());
        assertEquals(1, pool.undrain("127.0.0.1:2").weight());

        assertThrows(IllegalArgumentException.class, () -> pool.undrain("127.0.0.1:9"));
        assertThrows(NullPointerException.class, () -> pool.undrain(null));
    }

    @Test
    void onAFollowingPoolTheWeightBeforeADrainSurvivesTheStoresResyncs() {
        UpstreamPool pool = UpstreamPool.builder().build();
        ManualResolver store = new ManualResolver();
        pool.follow(store);
        store.tell(ResolutionResult.of(List.of(Upstream.builder("127.0.0.1", 1).weight(3).build(),
                Upstream.builder("127.0.0.1", 2).weight(4).build())));
        // The operator's weight, then a drain: the operator's weight is kept. A drain of the store's weight keeps none.
        pool.weight("127.0.0.1:1", 5);
        Member one = pool.drain("127.0.0.1:1");
        Member two = pool.drain("127.0.0.1:2");
        assertEquals(OptionalInt.of(5), one.weightBeforeDrain());
        assertEquals(OptionalInt.empty(), two.weightBeforeDrain());
        // The store resyncs, then changes the weights it gives.
        store.tell(ResolutionResult.of(List.of(Upstream.builder("127.0.0.1", 1).weight(3).build(),
                Upstream.builder("127.0.0.1", 2).weight(4).build())));
        store.tell(ResolutionResult.of(List.of(Upstream.builder("127.0.0.1", 1).weight(8).build(),
                Upstream.builder("127.0.0.1", 2).weight(9).build())));
        assertSame(one, pool.member("127.0.0.1:1").orElseThrow());
        assertEquals(0, one.weight(), "the drain stays");
        assertEquals(OptionalInt.of(5), one.weightBeforeDrain(), "and so does the weight before it");
        assertEquals(5, pool.undrain("127.0.0.1:1").weight(), "the operator's weight, not the store's");
        assertEquals(UpstreamOverride.weight(5), pool.snapshot().overrides().get("127.0.0.1:1"));
        assertEquals(9, pool.undrain("127.0.0.1:2").weight(), "the store's weight, as it is now");
        assertNull(pool.snapshot().overrides().get("127.0.0.1:2"), "given back to the store");

        // Clearing the override drops the operator's weight a drain kept; a weight 0 the store gives stays.
        pool.drain("127.0.0.1:1");
        store.tell(ResolutionResult.of(List.of(Upstream.builder("127.0.0.1", 1).weight(0).build(),
                Upstream.builder("127.0.0.1", 2).weight(9).build())));
        assertTrue(pool.clearOverride("127.0.0.1:1"));
        assertEquals(OptionalInt.empty(), one.weightBeforeDrain());
        assertEquals(0, pool.undrain("127.0.0.1:1").weight(), "the store's own 0");
    }

    @Test
    void anUpdateThatChangesNothingRecordsNoOverrideButStillRepublishes() {
        UpstreamPool pool = UpstreamPool.builder().build();
        pool.replaceAll(List.of(Upstream.of("127.0.0.1", 1)));
        long version = pool.snapshot().version();
        pool.update(Upstream.of("127.0.0.1", 1));
        assertTrue(pool.snapshot().version() > version, "pickers are rebuilt");
        assertTrue(pool.snapshot().overrides().isEmpty());
    }

    /** Runs {@code a} and {@code b} on two threads let go at once, and waits for both. */
    private static void race(Runnable a, Runnable b) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        Thread ta = new Thread(() -> {
            awaitQuietly(go);
            a.run();
        });
        Thread tb = new Thread(() -> {
            awaitQuietly(go);
            b.run();
        });
        ta.start();
        tb.start();
        go.countDown();
        ta.join();
        tb.join();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void drainedUpstreamGetsNoNewTraffic() {
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        pool.drain("127.0.0.1:1");
        PickContext ctx = new PickContext();
        for (int i = 0; i < 10; i++) {
            assertEquals(2, pool.pick(ctx).upstream().port());
        }
    }

    @Test
    void replaceAllKeepsIdentityOfRemainingMembers() {
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        Member two = pool.member("127.0.0.1:2").orElseThrow();
        Member one = pool.member("127.0.0.1:1").orElseThrow();
        pool.replaceAll(List.of(Upstream.of("127.0.0.1", 2), Upstream.of("127.0.0.1", 3)));
        assertSame(two, pool.member("127.0.0.1:2").orElseThrow());
        assertTrue(one.isRemoved());
        assertEquals(2, pool.snapshot().size());
    }

    @Test
    void badInputIsRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Upstream.builder("127.0.0.1", 8081).weight(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Upstream.of("127.0.0.1", 70000));
        assertTrue(e.getMessage().contains("70000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> UpstreamPool.builder()
                .add(Upstream.of("127.0.0.1", 1)).add(Upstream.of("127.0.0.1", 1)));
        assertTrue(e.getMessage().contains("duplicate upstream 127.0.0.1:1"), e.getMessage());
        assertNull(UpstreamPool.builder().build().pick(new PickContext()));
    }

    @Test
    void rebuildPickersRebuildsThemWithTheSameMembersAndTellsListeners() {
        // A scheduler whose choice changes without a pool change, as lb-l4's replaceable one on ipvsadm -E.
        int[] choice = {0};
        Scheduler s = new Scheduler() {
            @Override
            public String name() {
                return "fixed";
            }

            @Override
            public Picker newPicker(List<Member> members) {
                Member m = members.isEmpty() ? null : members.get(choice[0]);
                return ctx -> m;
            }
        };
        UpstreamPool pool = UpstreamPool.builder().scheduler(s).add(Upstream.of("127.0.0.1", 1))
                .add(Upstream.of("127.0.0.1", 2)).build();
        List<Integer> seen = new ArrayList<>();
        pool.addListener(new PoolListener() {
            @Override
            public void onSnapshot(PoolSnapshot snapshot) {
                seen.add(snapshot.size());
            }
        });
        PoolSnapshot before = pool.snapshot();
        assertEquals(1, pool.pick(new PickContext()).upstream().port());
        choice[0] = 1;
        assertEquals(1, pool.pick(new PickContext()).upstream().port(), "pickers are kept until rebuilt");
        pool.rebuildPickers();
        assertEquals(2, pool.pick(new PickContext()).upstream().port());
        assertEquals(before.version() + 1, pool.snapshot().version());
        assertEquals(before.members(), pool.snapshot().members());
        assertEquals(List.of(2), seen);
    }
}
