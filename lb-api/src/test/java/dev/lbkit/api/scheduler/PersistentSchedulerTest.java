package dev.lbkit.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PersistentSchedulerTest {
    private final AtomicLong now = new AtomicLong(1_000);

    private UpstreamPool pool(Scheduler scheduler, int n) {
        UpstreamPool.Builder b = UpstreamPool.builder().scheduler(scheduler).ticker(now::get);
        for (int i = 0; i < n; i++) {
            b.add(Upstream.of("127.0.0.1", 20000 + i));
        }
        return b.build();
    }

    private static PickContext client(String address) throws UnknownHostException {
        return new PickContext().clientAddress(InetAddress.getByName(address));
    }

    @Test
    void keepsAClientOnItsUpstreamWhileFresh() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)), 4);
        Member first = pool.pick(client("127.0.0.10"));
        for (int i = 0; i < 20; i++) {
            assertSame(first, pool.pick(client("127.0.0.10")));
            // Other clients still rotate, so the rr cursor moves underneath.
            pool.pick(client("127.0.1." + i));
        }
    }

    @Test
    void entryExpiresTimeoutAfterLastUse() throws UnknownHostException {
        PersistentScheduler p = PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10));
        UpstreamPool pool = pool(p, 2);
        Member first = pool.pick(client("127.0.0.10"));
        // Each use refreshes: 9 s steps never reach the 10 s timeout.
        for (int i = 0; i < 5; i++) {
            now.addAndGet(Duration.ofSeconds(9).toNanos());
            assertSame(first, pool.pick(client("127.0.0.10")));
        }
        assertEquals(1, p.size(now.get()));
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        assertEquals(0, p.size(now.get()));
        // Expired: rr picks afresh; with two upstreams the cursor now points at the other one.
        Member after = pool.pick(client("127.0.0.10"));
        assertNotSame(first, after);
        assertSame(after, pool.pick(client("127.0.0.10")));
    }

    @Test
    void netmaskGroupsClients() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10), 24), 4);
        Member m = pool.pick(client("127.0.5.1"));
        for (int i = 2; i < 50; i++) {
            assertSame(m, pool.pick(client("127.0.5." + i)));
        }
        assertNotSame(m, pool.pick(client("127.0.6.1")));
    }

    @Test
    void ipv6ClientsArePersistentPerPrefix() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.builder(Schedulers.get("rr")).ipv6PrefixLength(64).build(), 3);
        Member m = pool.pick(client("::1"));
        assertSame(m, pool.pick(client("::2")));
        assertSame(m, pool.pick(client("0:0:0:0:ffff::1")));
        assertNotSame(m, pool.pick(client("0:0:0:1::1")));
    }

    @Test
    void ipv4AndIpv6ClientsNeverShareAnEntry() throws UnknownHostException {
        PersistentScheduler p = PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10));
        UpstreamPool pool = pool(p, 2);
        Member v4 = pool.pick(client("10.0.0.1"));
        // Its 128 bits once equalled the IPv4 client's key (4 in the high word, the IPv4 address in the low).
        Member v6 = pool.pick(client("0:0:0:4::a00:1"));
        assertNotSame(v4, v6, "rr gives a new client the other upstream");
        assertEquals(2, p.templates(now.get()).size());
        assertSame(v4, pool.pick(client("10.0.0.1")));
        assertSame(v6, pool.pick(client("0:0:0:4::a00:1")));
    }

    @Test
    void unavailableUpstreamIsReplacedAndRemembered() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)), 3);
        Member first = pool.pick(client("127.0.0.10"));
        first.checkDown(true, "test");
        Member second = pool.pick(client("127.0.0.10"));
        assertNotSame(first, second);
        first.checkDown(false, "test");
        // The client stays on its new upstream, as IPVS's template now points there.
        for (int i = 0; i < 5; i++) {
            assertSame(second, pool.pick(client("127.0.0.10")));
        }
        pool.remove(second.upstream());
        assertNotSame(second, pool.pick(client("127.0.0.10")));
    }

    @Test
    void retriesAvoidTheTriedUpstream() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)), 3);
        PickContext ctx = client("127.0.0.10");
        Member first = pool.pick(ctx);
        ctx.addTried(first);
        assertNotSame(first, pool.pick(ctx));
    }

    @Test
    void clientKeptOnABackupReturnsToAPrimary() throws UnknownHostException {
        UpstreamPool pool = UpstreamPool.builder().ticker(now::get)
                .scheduler(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)))
                .add(Upstream.of("127.0.0.1", 1))
                .add(Upstream.builder("127.0.0.1", 2).backup(true).build())
                .build();
        Member primary = pool.member("127.0.0.1:1").orElseThrow();
        primary.checkDown(true, "test");
        assertEquals(2, pool.pick(client("127.0.0.10")).upstream().port());
        primary.checkDown(false, "test");
        assertSame(primary, pool.pick(client("127.0.0.10")));
    }

    @Test
    void tableIsBoundedAndEvictsTheEntryClosestToExpiry() throws UnknownHostException {
        PersistentScheduler p = PersistentScheduler.builder(Schedulers.get("rr")).timeout(Duration.ofSeconds(100))
                .maxEntries(4).build();
        UpstreamPool pool = pool(p, 5);
        Member[] got = new Member[6];
        for (int i = 0; i < 6; i++) {
            now.addAndGet(1_000);
            got[i] = pool.pick(client("127.0.0." + (10 + i)));
        }
        assertEquals(4, p.size(now.get()));
        // The two oldest clients were evicted; the four newest are still where they were.
        for (int i = 2; i < 6; i++) {
            assertSame(got[i], pool.pick(client("127.0.0." + (10 + i))));
        }
        assertEquals(4, p.size(now.get()));
    }

    @Test
    void noClientAddressMeansNoPersistence() {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)), 2);
        Member a = pool.pick(new PickContext());
        assertNotSame(a, pool.pick(new PickContext()));
    }

    @Test
    void aHitDoesNotAllocate() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("wrr"), Duration.ofSeconds(10)), 8);
        PickContext ctx = client("127.0.0.10");
        List<Member> seen = new java.util.ArrayList<>();
        seen.add(pool.pick(ctx));
        long bytes = Allocation.measure(() -> {
            for (int i = 0; i < 10_000; i++) {
                pool.pick(ctx);
            }
        });
        assertTrue(bytes < 1024, "10,000 hits allocated " + bytes + " bytes");
    }

    @Test
    void templatesListTheLiveEntriesWithTheirNetworkMemberAndTimeLeft() throws UnknownHostException {
        PersistentScheduler p = PersistentScheduler.builder(Schedulers.get("rr")).timeout(Duration.ofSeconds(10))
                .ipv4PrefixLength(24).ipv6PrefixLength(64).build();
        UpstreamPool pool = pool(p, 2);
        Member v4 = pool.pick(client("127.0.3.77"));
        now.addAndGet(Duration.ofSeconds(4).toNanos());
        Member v6 = pool.pick(client("2001:db8:1:2:3:4:5:6"));
        List<PersistentScheduler.Template> t = new java.util.ArrayList<>(p.templates(now.get()));
        t.sort(java.util.Comparator.comparing(x -> x.network().getAddress().length));
        assertEquals(2, t.size());
        assertEquals(new PersistentScheduler.Template(InetAddress.getByName("127.0.3.0"), 24, v4,
                Duration.ofSeconds(6)), t.get(0));
        assertEquals(new PersistentScheduler.Template(InetAddress.getByName("2001:db8:1:2::"), 64, v6,
                Duration.ofSeconds(10)), t.get(1));
        now.addAndGet(Duration.ofSeconds(6).toNanos());
        assertEquals(1, p.templates(now.get()).size(), "the IPv4 entry expired");
    }
}
