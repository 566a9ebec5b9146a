package dev.lbkit.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.resolve.UpstreamEntry;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.ChildJvm;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against a real etcd daemon: every test uses its own prefix. */
class EtcdResolverTest {
    private static EtcdProcess etcd;
    private static Client client;

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = new EtcdProcess();
        client = Client.builder().endpoints(etcd.endpoint()).build();
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        client.close();
        etcd.close();
    }

    private static EtcdResolver resolver(String prefix) {
        return EtcdResolver.builder(client, prefix).coalesceDelay(Duration.ofMillis(10))
                .checkInterval(Duration.ofMillis(200)).requestTimeout(Duration.ofMillis(500)).build();
    }

    private static void put(String key, String value) throws Exception {
        client.getKVClient().put(ByteSequence.from(key, UTF_8), ByteSequence.from(value, UTF_8)).get(5, TimeUnit.SECONDS);
    }

    private static void put(String key, Upstream u) throws Exception {
        put(key, UpstreamEntry.toJson(u));
    }

    private static void delete(String key) throws Exception {
        client.getKVClient().delete(ByteSequence.from(key, UTF_8)).get(5, TimeUnit.SECONDS);
    }

    private static Set<String> keys(UpstreamPool pool) {
        return pool.snapshot().members().stream().map(m -> m.upstream().key()).collect(Collectors.toSet());
    }

    @Test
    void followsAddsEditsAndRemovalsKeepingMembers() throws Exception {
        put("/t1/a", Upstream.of("127.0.0.1", 8081));
        put("/t1/b", "{\"host\":\"127.0.0.1\",\"port\":8082}");
        put("/t1x/other", Upstream.of("127.0.0.1", 9999));
        try (EtcdResolver r = resolver("/t1"); UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081", "127.0.0.1:8082")));
            Member a = pool.member("127.0.0.1:8081").orElseThrow();
            a.incrementActive();

            put("/t1/c", Upstream.builder("127.0.0.1", 8083).backup(true).metadata("zone", "b").build());
            Await.until(() -> pool.snapshot().backups().size() == 1);
            assertEquals("b", pool.member("127.0.0.1:8083").orElseThrow().upstream().metadata().get("zone"));

            put("/t1/a", Upstream.builder("127.0.0.1", 8081).weight(5).build());
            Await.until(() -> a.weight() == 5);
            assertSame(a, pool.member("127.0.0.1:8081").orElseThrow(), "an edit keeps the member");
            assertEquals(1, a.active(), "and the work in flight on it");

            delete("/t1/b");
            Await.until(() -> !keys(pool).contains("127.0.0.1:8082"));
            assertEquals(Set.of("127.0.0.1:8081", "127.0.0.1:8083"), keys(pool));
            assertFalse(r.isStale());
        }
    }

    @Test
    void badEntriesAreSkippedCountedAndNeverStopTheWatch() throws Exception {
        put("/t2/good", Upstream.of("127.0.0.1", 8081));
        put("/t2/garbage", "host=127.0.0.1 port=8082");
        try (EtcdResolver r = resolver("/t2"); UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> pool.snapshot().size() == 1);
            assertEquals(1, r.rejectedEntries(), "the bad entry of the first read");
            put("/t2/port", "{\"host\":\"127.0.0.1\",\"port\":70000}");
            put("/t2/weight", "{\"host\":\"127.0.0.1\",\"port\":8083,\"weight\":-1}");
            put("/t2/next", Upstream.of("127.0.0.1", 8084));
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081", "127.0.0.1:8084")));
            assertEquals(3, r.rejectedEntries());
            put("/t2/weight", "{\"host\":\"127.0.0.1\",\"port\":8083,\"weight\":2}");
            Await.until(() -> pool.snapshot().size() == 3);
        }
    }

    /**
     * A watch that fails (here its connection is reset while etcd stays up, and a compaction keeps it
     * from resuming where it stopped) makes the resolver read the prefix again; a bad entry deleted in
     * the changes the watch missed is forgotten by that read, so the same bad value written again is
     * logged and counted again.
     */
    @Test
    void aBadEntryDeletedWhileTheWatchWasLostIsCountedAgainWhenWrittenAgain() throws Exception {
        put("/t9/a", Upstream.of("127.0.0.1", 8081));
        String garbage = "host=127.0.0.1 port=8082";
        try (Relay relay = new Relay(new InetSocketAddress("127.0.0.1", URI.create(etcd.endpoint()).getPort()));
                Client relayed = Client.builder().endpoints("http://127.0.0.1:" + relay.port()).build();
                // No periodic check: only the watch's failure can tell the resolver that it missed changes.
                EtcdResolver r = EtcdResolver.builder(relayed, "/t9").coalesceDelay(Duration.ofMillis(10))
                        .checkInterval(Duration.ofHours(1)).requestTimeout(Duration.ofSeconds(5)).build();
                UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            r.whenReady().get(10, TimeUnit.SECONDS);
            put("/t9/bad", garbage);
            Await.until(() -> r.rejectedEntries() == 1);

            relay.freeze();
            delete("/t9/bad");
            put("/t9/c", Upstream.of("127.0.0.1", 8083));
            long revision = client.getKVClient().get(ByteSequence.from("/t9/c", UTF_8)).get(5, TimeUnit.SECONDS)
                    .getHeader().getRevision();
            client.getKVClient().compact(revision).get(5, TimeUnit.SECONDS);
            relay.cut();
            // c can only be learned from a read: the watch cannot resume before the compaction.
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081", "127.0.0.1:8083")) && !r.isStale());

            put("/t9/bad", garbage);
            put("/t9/d", Upstream.of("127.0.0.1", 8084));
            Await.until(() -> keys(pool).contains("127.0.0.1:8084"));
            assertEquals(2, r.rejectedEntries(), "the bad value written again after its deletion counts again");
        }
    }

    @Test
    void coalescesABurstIntoFewResults() throws Exception {
        try (EtcdResolver r = EtcdResolver.builder(client, "/t3").coalesceDelay(Duration.ofMillis(300)).build();
                UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            long before = r.publishedResults();
            for (int i = 0; i < 50; i++) {
                put("/t3/" + i, Upstream.of("127.0.0.1", 10000 + i));
            }
            Await.until(() -> pool.snapshot().size() == 50);
            long results = r.publishedResults() - before;
            assertTrue(results <= 5, "50 changes told in " + results + " results");
        }
    }

    @Test
    void registrationDrainsThenLeaves() throws Exception {
        try (EtcdResolver r = resolver("/t4"); UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            EtcdRegistration reg = EtcdRegistration.builder(client, "/t4", Upstream.of("127.0.0.1", 8081))
                    .id("web-1").ttl(Duration.ofSeconds(2)).drainTime(Duration.ofMillis(500)).register();
            assertEquals("/t4/web-1", reg.key());
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> pool.snapshot().size() == 1);
            Member m = pool.member("127.0.0.1:8081").orElseThrow();
            Thread closer = new Thread(reg::close);
            closer.start();
            Await.until(() -> m.weight() == 0);
            assertFalse(m.isRemoved(), "drained first, still listed while work finishes");
            closer.join(5000);
            Await.until(m::isRemoved);
            // It was the last upstream under the prefix: etcd, up and answering, lists none, so the pool empties.
            assertEquals(0, pool.snapshot().size());
        }
    }

    @Test
    void followsAnEtcdUriWithItsOwnClient() throws Exception {
        put("/t8/a", Upstream.of("127.0.0.1", 8081));
        try (EtcdResolver r = EtcdResolver.builder(URI.create(etcd.endpoint().replace("http", "etcd") + "/t8")).build();
                UpstreamPool pool = UpstreamPool.builder().build()) {
            assertEquals("/t8", r.prefix());
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081")));
        }
        for (String bad : new String[] {"zk://127.0.0.1:2379/p", "etcd://127.0.0.1:2379", "etcd:///p"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EtcdResolver.builder(URI.create(bad)));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void aLostLeaseIsReplacedAndTheEntryWrittenAgain() throws Exception {
        EtcdRegistration reg = EtcdRegistration.builder(client, "/t7", Upstream.of("127.0.0.1", 8081))
                .ttl(Duration.ofSeconds(2)).drainTime(Duration.ZERO).retryInterval(Duration.ofMillis(100)).register();
        try {
            ByteSequence key = ByteSequence.from(reg.key(), UTF_8);
            long lease = client.getKVClient().get(key).get(5, TimeUnit.SECONDS).getKvs().get(0).getLease();
            // As if etcd had been away longer than the TTL: the lease and its key are gone.
            client.getLeaseClient().revoke(lease).get(5, TimeUnit.SECONDS);
            Await.until(() -> {
                try {
                    var kvs = client.getKVClient().get(key).get(5, TimeUnit.SECONDS).getKvs();
                    return kvs.size() == 1 && kvs.get(0).getLease() != lease;
                } catch (Exception e) {
                    return false;
                }
            });
        } finally {
            reg.close();
        }
        assertEquals(0, client.getKVClient().get(ByteSequence.from(reg.key(), UTF_8)).get(5, TimeUnit.SECONDS).getCount(),
                "close deletes the key");
    }

    @Test
    void aKilledProcessDisappearsAfterItsLeaseTtl() throws Exception {
        put("/t5/anchor", Upstream.of("127.0.0.1", 9000));
        try (EtcdResolver r = resolver("/t5"); UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            try (ChildJvm child = ChildJvm.start(RegisterMain.class, etcd.endpoint(), "/t5", "8091")) {
                child.awaitLine("registered");
                Await.until(() -> pool.snapshot().size() == 2);
                child.kill();
                long killed = System.nanoTime();
                Await.until(() -> pool.member("127.0.0.1:8091").isEmpty());
                long millis = (System.nanoTime() - killed) / 1_000_000;
                assertTrue(millis >= 500, "gone only after the lease expired, not at once: " + millis + " ms");
            }
        }
    }

    @Test
    void storeGoingAwayKeepsThePoolStaleThenResynchronises() throws Exception {
        put("/t6/a", Upstream.of("127.0.0.1", 8081));
        put("/t6/b", Upstream.of("127.0.0.1", 8082));
        try (EtcdResolver r = resolver("/t6"); UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> pool.snapshot().size() == 2);
            etcd.stop();
            Await.until(r::isStale);
            assertEquals(Set.of("127.0.0.1:8081", "127.0.0.1:8082"), keys(pool), "the pool keeps its members");
            assertTrue(r.current().orElseThrow().isStale());
            etcd.start();
            put("/t6/c", Upstream.of("127.0.0.1", 8083));
            delete("/t6/a");
            Await.until(() -> !r.isStale());
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8082", "127.0.0.1:8083")));
        }
    }
}
