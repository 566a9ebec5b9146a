package dev.lbkit.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.scheduler.PickContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link UpstreamPool#restore}: a removed member taken back as IPVS takes a destination back from its trash. */
class UpstreamPoolRestoreTest {

    @Test
    void aRestoredMemberKeepsItsIdentityCountsAndOverloadAndIsUpAgain() {
        List<Boolean> memberships = new ArrayList<>();
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 8081), Upstream.of("127.0.0.1", 8082));
        Member m = pool.member("127.0.0.1:8081").orElseThrow();
        m.incrementActive();
        m.incrementActive();
        m.incrementInactive();
        m.overloaded(true);
        m.checkDown(true, "failed");
        pool.markDown(m.upstream().key(), true);
        m.eject(pool.ticker().nanoTime() + 60_000_000_000L, "test", "ejected");
        pool.remove(m.upstream());
        assertTrue(m.isRemoved());
        pool.addListener(new PoolListener() {
            @Override
            public void onSnapshot(PoolSnapshot snapshot) {
                memberships.add(snapshot.members().contains(m));
            }
        });

        Member back = pool.restore(m, Upstream.builder("127.0.0.1", 8081).weight(3).build());
        assertSame(m, back);
        assertSame(m, pool.member("127.0.0.1:8081").orElseThrow());
        assertEquals(List.of(true), memberships, "one snapshot, with the member");
        assertFalse(m.isRemoved());
        assertEquals(3, m.weight());
        assertEquals(3, m.effectiveWeight());
        assertEquals(2, m.active(), "work placed before the removal is counted on it again");
        assertEquals(1, m.inactive());
        assertTrue(m.isOverloaded(), "the overload flag is the tier's to clear (IPVS's thresholds)");
        long now = pool.ticker().nanoTime();
        assertTrue(m.isUp(now), "health starts afresh, as for an added member");
        assertFalse(m.isAdminDown());
        assertFalse(m.isCheckDown());
        assertEquals(Member.NOT_EJECTED, m.ejectedUntil());
        m.overloaded(false);
        assertTrue(m.isAvailable(now));
        PickContext ctx = new PickContext();
        boolean picked = false;
        for (int i = 0; i < 4; i++) {
            picked |= pool.pick(ctx) == m;
        }
        assertTrue(picked);
    }

    @Test
    void onlyARemovedMemberOfThisPoolUnderItsOwnKeyAndAbsentKeyIsRestored() {
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 8081));
        Member m = pool.member("127.0.0.1:8081").orElseThrow();
        assertThrows(IllegalArgumentException.class, () -> pool.restore(m, m.upstream()), "not removed");
        pool.remove(m.upstream());
        assertThrows(IllegalArgumentException.class, () -> pool.restore(m, Upstream.of("127.0.0.1", 8082)),
                "another key");
        UpstreamPool other = UpstreamPool.of();
        assertThrows(IllegalArgumentException.class, () -> other.restore(m, m.upstream()), "another pool");
        Member added = pool.add(Upstream.of("127.0.0.1", 8081));
        assertThrows(IllegalArgumentException.class, () -> pool.restore(m, m.upstream()), "the key is taken");
        pool.remove(added.upstream());
        pool.restore(m, m.upstream());
        assertThrows(IllegalArgumentException.class, () -> pool.restore(m, m.upstream()), "restored once");
        pool.remove(m.upstream());
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.restore(m, m.upstream()), "closed pool");
    }

    @Test
    void aRestoredMemberStaysThroughLaterChangesOfThePoolAndOfItsStore() {
        UpstreamPool own = UpstreamPool.of(Upstream.of("127.0.0.1", 8081), Upstream.of("127.0.0.1", 8082));
        Member m = own.member("127.0.0.1:8081").orElseThrow();
        own.remove(m.upstream());
        own.restore(m, m.upstream());
        own.weight("127.0.0.1:8081", 5);
        own.remove("127.0.0.1:8082");
        assertSame(m, own.member("127.0.0.1:8081").orElseThrow(), "an operator change keeps it");
        assertEquals(5, m.weight());

        UpstreamPool followed = UpstreamPool.of();
        followed.replaceAll(List.of(Upstream.of("127.0.0.1", 8082)));
        Member added = followed.add(Upstream.of("127.0.0.1", 8081));
        followed.remove(added.upstream());
        followed.restore(added, added.upstream());
        followed.replaceAll(List.of(Upstream.of("127.0.0.1", 8082), Upstream.of("127.0.0.1", 8083)));
        assertSame(added, followed.member("127.0.0.1:8081").orElseThrow(),
                "a store update keeps it, as an operator's add");
        assertFalse(added.isRemoved());
    }
}
