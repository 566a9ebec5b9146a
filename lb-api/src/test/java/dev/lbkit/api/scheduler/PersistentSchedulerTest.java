package dev.lbkit.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    private Member other(UpstreamPool pool, Member m) {
        return pool.snapshot().members().stream().filter(x -> x != m).findFirst().orElseThrow();
    }

    @Test
    void aQuiescedOrOverloadedMemberKeepsItsClientsByDefault() throws UnknownHostException {
        PersistentScheduler p = PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10));
        UpstreamPool pool = pool(p, 2);
        Member kept = pool.pick(client("127.0.0.10"));
        assertTrue(!p.expireQuiescentTemplate(), "IPVS's default expire_quiescent_template = 0");
        pool.drain(kept.upstream().key());
        for (int i = 0; i < 3; i++) {
            assertSame(kept, pool.pick(client("127.0.0.10")), "ipvsadm -e -w 0 keeps persistent clients");
            assertNotSame(kept, pool.pick(client("127.0.1." + i)), "new clients go elsewhere");
        }
        pool.weight(kept.upstream().key(), 1);
        kept.overloaded(true);
        assertSame(kept, pool.pick(client("127.0.0.10")), "an overloaded (-x) member keeps them too");
        assertNotSame(kept, pool.pick(client("127.0.2.1")));
        // Entries that expire are scheduled anew, away from the overloaded member.
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        assertNotSame(kept, pool.pick(client("127.0.0.10")));
    }

    @Test
    void expireQuiescentTemplateMovesTheClientsOfAWeightZeroMemberOnly() throws UnknownHostException {
        PersistentScheduler p = PersistentScheduler.builder(Schedulers.get("rr")).timeout(Duration.ofSeconds(10))
                .expireQuiescentTemplate(true).build();
        UpstreamPool pool = pool(p, 2);
        Member first = pool.pick(client("127.0.0.10"));
        first.overloaded(true);
        assertSame(first, pool.pick(client("127.0.0.10")), "overload does not expire a template, as in IPVS");
        first.overloaded(false);
        pool.drain(first.upstream().key());
        Member moved = pool.pick(client("127.0.0.10"));
        assertSame(other(pool, first), moved, "weight 0: the template is dropped, the client scheduled anew");
        pool.weight(first.upstream().key(), 1);
        assertSame(moved, pool.pick(client("127.0.0.10")), "the new template stays");
    }

    @Test
    void aMemberThatIsNotUpLosesItsClientsWhateverTheOption() throws UnknownHostException {
        for (boolean expireQuiescent : new boolean[] {false, true}) {
            PersistentScheduler p = PersistentScheduler.builder(Schedulers.get("rr"))
                    .timeout(Duration.ofSeconds(10)).expireQuiescentTemplate(expireQuiescent).build();
            UpstreamPool pool = pool(p, 2);
            Member m = pool.pick(client("127.0.0.10"));
            // Active check down (keepalived's inhibit_on_failure or not), operator down, ejection: moved.
            m.checkDown(true, "test");
            assertSame(other(pool, m), pool.pick(client("127.0.0.10")));
            m.checkDown(false, "test");
            Member n = pool.pick(client("127.0.0.11"));
            pool.markDown(n.upstream().key(), true);
            assertSame(other(pool, n), pool.pick(client("127.0.0.11")));
            pool.markDown(n.upstream().key(), false);
            Member e = pool.pick(client("127.0.0.12"));
            e.eject(now.get() + Duration.ofSeconds(30).toNanos(), "test", "ejected");
            assertSame(other(pool, e), pool.pick(client("127.0.0.12")));
            e.clearEjection("test", "back");
            Member r = pool.pick(client("127.0.0.13"));
            pool.remove(r.upstream());
            assertNotSame(r, pool.pick(client("127.0.0.13")), "removed (ipvsadm -d)");
        }
    }

    @Test
    void aMemberAtItsConnectionLimitIsNotReturnedFromAnEntry() throws UnknownHostException {
        UpstreamPool pool = UpstreamPool.builder().ticker(now::get)
                .scheduler(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)))
                .add(Upstream.builder("127.0.0.1", 1).maxConnections(1).build())
                .add(Upstream.builder("127.0.0.1", 2).maxConnections(1).build())
                .build();
        Member m = pool.pick(client("127.0.0.10"));
        m.incrementActive();
        assertSame(other(pool, m), pool.pick(client("127.0.0.10")), "max_conns is a hard limit");
    }

    @Test
    void aRestoredMemberGetsItsClientsBackIfTheirEntriesWereNotUsedMeanwhile() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)), 2);
        Member m = pool.pick(client("127.0.0.10"));
        Member other = pool.pick(client("127.0.0.11"));
        pool.remove(m.upstream());
        assertSame(other, pool.pick(client("127.0.0.11")));
        pool.restore(m, m.upstream());
        // As an IPVS template whose destination came back from the trash before the client's next connection.
        assertSame(m, pool.pick(client("127.0.0.10")));
    }

    @Test
    void forgetDropsEveryEntryOfOneMemberHeldOrNot() throws UnknownHostException {
        PersistentScheduler p = PersistentScheduler.builder(Schedulers.get("rr")).timeout(Duration.ofSeconds(10)).build();
        UpstreamPool pool = pool(p, 2);
        Member m = pool.pick(client("127.0.0.12"));
        Member other = pool.pick(client("127.0.0.11"));
        PickContext held = client("127.0.0.10");
        assertSame(m, pool.pick(held), "rr: back to the first");
        Lease lease = held.lease();
        assertEquals(3, p.size(now.get()));
        pool.remove(m.upstream());
        // IPVS's expire_nodest_conn flush: the deleted destination's templates go, held ones included.
        assertEquals(2, p.forget(m));
        assertEquals(List.of(other), p.templates(now.get()).stream().map(PersistentScheduler.Template::member).toList());
        lease.release(now.get());
        assertEquals(1, p.size(now.get()), "releasing a lease on a forgotten entry brings nothing back");
        pool.restore(m, m.upstream());
        assertSame(other, pool.pick(client("127.0.0.11")), "other members keep their clients");
        assertEquals(0, p.forget(m), "nothing left to forget");
        assertThrows(NullPointerException.class, () -> p.forget(null));
    }

    @Test
    void aLeasedEntryDoesNotExpireAndCountsItsTimeoutFromTheLastRelease() throws UnknownHostException {
        PersistentScheduler p = PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10));
        UpstreamPool pool = pool(p, 2);
        PickContext ctx = client("127.0.0.10");
        Member first = pool.pick(ctx);
        Lease one = ctx.lease();
        assertNotNull(one);
        assertNull(ctx.lease(), "one lease per pick");
        PickContext ctx2 = client("127.0.0.10");
        assertSame(first, pool.pick(ctx2));
        Lease two = ctx2.lease();
        assertSame(one, two, "both connections hold the same template");
        // Far past the timeout: held, so the client stays; listed as IPVS's re-armed timer (63 s after the use).
        now.addAndGet(Duration.ofSeconds(63).toNanos());
        assertEquals(1, p.size(now.get()));
        assertEquals(Duration.ofSeconds(7), p.templates(now.get()).get(0).remaining());
        one.release(now.get());
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        assertEquals(1, p.size(now.get()), "still held by the second connection");
        two.release(now.get());
        now.addAndGet(Duration.ofSeconds(9).toNanos());
        assertEquals(Duration.ofSeconds(1), p.templates(now.get()).get(0).remaining(), "a timeout after the release");
        assertSame(first, pool.pick(client("127.0.0.10")), "9 s after the last release: kept");
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        assertEquals(0, p.size(now.get()), "a timeout after the last use or release: gone");
        assertThrows(IllegalStateException.class, () -> two.release(now.get()));
    }

    @Test
    void aPickWithoutATemplateHasNothingToLease() throws UnknownHostException {
        UpstreamPool plain = pool(Schedulers.get("rr"), 2);
        PickContext ctx = client("127.0.0.10");
        plain.pick(ctx);
        assertNull(ctx.lease(), "no persistence");
        UpstreamPool persistent = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)), 2);
        PickContext anonymous = new PickContext();
        persistent.pick(anonymous);
        assertNull(anonymous.lease(), "no client address");
        PickContext none = client("127.0.0.10");
        persistent.snapshot().members().forEach(m -> m.checkDown(true, "test"));
        assertNull(persistent.pick(none));
        assertNull(none.lease(), "nothing picked");
        PickContext reset = client("127.0.0.11");
        persistent.snapshot().members().forEach(m -> m.checkDown(false, "test"));
        persistent.pick(reset);
        reset.reset();
        assertNull(reset.lease(), "reset forgets the placement");
    }

    @Test
    void anEntryReplacedWhileHeldLeavesItsLeasesOnTheOldOne() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)), 2);
        PersistentScheduler p = (PersistentScheduler) pool.scheduler();
        PickContext ctx = client("127.0.0.10");
        Member first = pool.pick(ctx);
        // The connection's real server fails its check while the connection holds the client's template.
        Lease held = ctx.lease();
        first.checkDown(true, "test");
        PickContext again = client("127.0.0.10");
        Member second = pool.pick(again);
        assertNotSame(first, second);
        Lease fresh = again.lease();
        assertNotSame(held, fresh, "the client's new template is a new entry");
        held.release(now.get());
        fresh.release(now.get());
        first.checkDown(false, "test");
        now.addAndGet(Duration.ofSeconds(9).toNanos());
        assertSame(second, pool.pick(client("127.0.0.10")));
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        assertEquals(0, p.size(now.get()));
    }

    @Test
    void heldEntriesAreEvictedLast() throws UnknownHostException {
        PersistentScheduler p = PersistentScheduler.builder(Schedulers.get("rr")).timeout(Duration.ofSeconds(100))
                .maxEntries(2).build();
        UpstreamPool pool = pool(p, 3);
        PickContext held = client("127.0.0.10");
        Member kept = pool.pick(held);
        held.lease();
        now.addAndGet(1_000);
        pool.pick(client("127.0.0.11"));
        now.addAndGet(1_000);
        pool.pick(client("127.0.0.12"));
        assertEquals(2, p.size(now.get()));
        assertSame(kept, pool.pick(client("127.0.0.10")), "the held entry, though the oldest, was not evicted");
    }

    @Test
    void clientsWhoseEntriesExpiredAreScheduledAgainWithoutAllocating() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)), 3);
        PickContext[] clients = new PickContext[64];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = client("127.0.1." + i);
            pool.pick(clients[i]);
        }
        long past = Duration.ofSeconds(11).toNanos();
        long bytes = Allocation.measure(() -> {
            for (int round = 0; round < 100; round++) {
                now.addAndGet(past);
                for (PickContext c : clients) {
                    pool.pick(c);
                }
            }
        });
        assertTrue(bytes < 1024, "6,400 picks of expired entries allocated " + bytes + " bytes");
    }

    @Test
    void leasesAllocateNothing() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("wrr"), Duration.ofSeconds(10)), 8);
        PickContext ctx = client("127.0.0.10");
        pool.pick(ctx);
        ctx.lease().release(now.get());
        long bytes = Allocation.measure(() -> {
            for (int i = 0; i < 10_000; i++) {
                pool.pick(ctx);
                ctx.lease().release(now.get());
            }
        });
        assertTrue(bytes < 1024, "10,000 picks, leases and releases allocated " + bytes + " bytes");
    }

    private PickContext clientNow(String address) throws UnknownHostException {
        return client(address).nanoTime(now.get());
    }

    private static PersistentScheduler.Template templateOf(PersistentScheduler p, String network, long nanoTime)
            throws UnknownHostException {
        InetAddress a = InetAddress.getByName(network);
        return p.templates(nanoTime).stream().filter(t -> t.network().equals(a)).findFirst().orElseThrow();
    }

    @Test
    void aSchedulerThatKeepsTheTemplatesOfAnotherKeepsEveryEntryWithItsLeasesAndTimeout()
            throws UnknownHostException {
        PersistentScheduler before = PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10));
        UpstreamPool pool = pool(before, 2);
        PickContext held = client("127.0.0.10");
        Member m = pool.pick(held);
        Lease lease = held.lease();
        Member n = pool.pick(client("127.0.0.11"));
        assertNotSame(m, n);
        // ipvsadm -E -s wrr -p 60: another scheduler and timeout, the same table.
        PersistentScheduler after = PersistentScheduler.builder(Schedulers.get("wrr")).timeout(Duration.ofSeconds(60))
                .keepTemplatesOf(before).build();
        assertEquals(before.maxEntries(), after.maxEntries());
        Picker picker = after.newPicker(pool.snapshot().members());
        assertEquals(2, after.size(now.get()));
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        assertSame(n, picker.pick(clientNow("127.0.0.11")));
        assertEquals(Duration.ofSeconds(10), templateOf(after, "127.0.0.11", now.get()).remaining(),
                "a kept entry counts the timeout it was made with, as an IPVS template");
        picker.pick(clientNow("127.0.0.12"));
        assertEquals(Duration.ofSeconds(60), templateOf(after, "127.0.0.12", now.get()).remaining(),
                "a new entry takes the new timeout");
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        assertEquals(List.of(InetAddress.getByName("127.0.0.10"), InetAddress.getByName("127.0.0.12")),
                after.templates(now.get()).stream().map(PersistentScheduler.Template::network).sorted(
                        java.util.Comparator.comparing(InetAddress::getHostAddress)).toList(),
                "127.0.0.11 went 10 s after its last use; 127.0.0.10 is held");

        // The lease taken under the previous scheduler still holds its entry, and its release counts 10 s.
        now.addAndGet(Duration.ofSeconds(100).toNanos());
        PickContext again = clientNow("127.0.0.10");
        assertSame(m, picker.pick(again));
        Lease second = again.lease();
        assertSame(lease, second, "the same entry");
        lease.release(now.get());
        second.release(now.get());
        now.addAndGet(Duration.ofSeconds(9).toNanos());
        assertEquals(Duration.ofSeconds(1), templateOf(after, "127.0.0.10", now.get()).remaining());
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertEquals(0, after.size(now.get()));

        assertThrows(IllegalArgumentException.class,
                () -> PersistentScheduler.builder(Schedulers.get("rr")).maxEntries(16).keepTemplatesOf(after).build());
        assertEquals(after.maxEntries(), PersistentScheduler.builder(Schedulers.get("rr"))
                .maxEntries(after.maxEntries()).keepTemplatesOf(after).build().maxEntries());
        assertThrows(NullPointerException.class, () -> PersistentScheduler.builder(Schedulers.get("rr"))
                .keepTemplatesOf(null));
    }

    @Test
    void afterAPrefixChangeAKeptEntryIsFoundOnlyByClientsWhoseNewNetworkIsItsNetwork() throws UnknownHostException {
        UpstreamPool pool = pool(PersistentScheduler.wrap(Schedulers.get("rr"), Duration.ofSeconds(10)), 2);
        PersistentScheduler before = (PersistentScheduler) pool.scheduler();
        Member m0 = pool.pick(client("127.0.0.0"));
        assertNotSame(m0, pool.pick(client("127.0.0.5")), "rr: the other upstream");
        // ipvsadm -E -M 255.255.255.0
        PersistentScheduler after = PersistentScheduler.builder(Schedulers.get("rr")).timeout(Duration.ofSeconds(10))
                .ipv4PrefixLength(24).keepTemplatesOf(before).build();
        Picker picker = after.newPicker(pool.snapshot().members());
        for (int i = 1; i < 10; i++) {
            assertSame(m0, picker.pick(clientNow("127.0.0." + i)),
                    "127.0.0.x under /24 is 127.0.0.0, the network of the entry made for 127.0.0.0/32");
        }
        List<PersistentScheduler.Template> t = after.templates(now.get());
        assertEquals(2, t.size(), "the entry of 127.0.0.5/32 is kept, unmatched, until it expires");
        assertEquals(32, templateOf(after, "127.0.0.5", now.get()).prefixLength());
        assertEquals(32, templateOf(after, "127.0.0.0", now.get()).prefixLength(), "as it was made");
        picker.pick(clientNow("127.0.1.7"));
        assertEquals(24, templateOf(after, "127.0.1.0", now.get()).prefixLength());
    }

    @Test
    void theSchedulerOptionSetsExpireQuiescentTemplate() {
        PersistentScheduler on = (PersistentScheduler) Schedulers.parse("rr:persist=300,persist-expire-quiescent=1");
        assertTrue(on.expireQuiescentTemplate());
        PersistentScheduler off = (PersistentScheduler) Schedulers.parse("rr:persist=300,persist-expire-quiescent=0");
        assertTrue(!off.expireQuiescentTemplate());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Schedulers.parse("rr:persist=300,persist-expire-quiescent=2"));
        assertTrue(e.getMessage().contains("persist-expire-quiescent") && e.getMessage().contains("2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Schedulers.parse("rr:persist-expire-quiescent=1"),
                "persist (the timeout) is required");
    }
}
