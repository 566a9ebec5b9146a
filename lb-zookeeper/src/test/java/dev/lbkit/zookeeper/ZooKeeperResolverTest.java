package dev.lbkit.zookeeper;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.ChildJvm;
import dev.lbkit.zookeeper.internal.Instances;
import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/** Against a real ZooKeeper server (Curator's TestingServer) on loopback; every test uses its own service path. */
class ZooKeeperResolverTest {
    private static TestingServer server;
    private static CuratorFramework client;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        // Loopback only, and a short tick so that 2 s sessions are allowed.
        InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1,
                Map.of("clientPortAddress", "127.0.0.1"), "127.0.0.1");
        server = new TestingServer(spec, true);
        client = newClient();
        client.start();
        client.blockUntilConnected(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        client.close();
        server.close();
    }

    static CuratorFramework newClient() {
        return CuratorFrameworkFactory.builder().connectString(server.getConnectString()).sessionTimeoutMs(3000)
                .connectionTimeoutMs(2000).retryPolicy(new RetryOneTime(100)).build();
    }

    private static ZooKeeperResolver resolver(String path) {
        return ZooKeeperResolver.builder(client, path).coalesceDelay(Duration.ofMillis(10)).build();
    }

    private static void write(String path, String json) throws Exception {
        if (client.checkExists().forPath(path) == null) {
            client.create().creatingParentsIfNeeded().forPath(path, json.getBytes(UTF_8));
        } else {
            client.setData().forPath(path, json.getBytes(UTF_8));
        }
    }

    private static void write(String path, Upstream u) throws Exception {
        String id = path.substring(path.lastIndexOf('/') + 1);
        write(path, Instances.toJson("svc", id, u, 0));
    }

    private static Set<String> keys(UpstreamPool pool) {
        return pool.snapshot().members().stream().map(m -> m.upstream().key()).collect(Collectors.toSet());
    }

    @Test
    void followsAddsEditsAndRemovalsKeepingMembers() throws Exception {
        write("/s1/web/a", Upstream.of("127.0.0.1", 8081));
        write("/s1/web/b", Upstream.of("127.0.0.1", 8082));
        write("/s1/other/x", Upstream.of("127.0.0.1", 9999));
        try (ZooKeeperResolver r = resolver("/s1/web"); UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081", "127.0.0.1:8082")));
            Member a = pool.member("127.0.0.1:8081").orElseThrow();
            a.incrementActive();

            write("/s1/web/c", Upstream.builder("127.0.0.1", 8083).backup(true).metadata("zone", "b").build());
            Await.until(() -> pool.snapshot().backups().size() == 1);
            assertEquals("b", pool.member("127.0.0.1:8083").orElseThrow().upstream().metadata().get("zone"));

            write("/s1/web/a", Upstream.builder("127.0.0.1", 8081).weight(5).build());
            Await.until(() -> a.weight() == 5);
            assertSame(a, pool.member("127.0.0.1:8081").orElseThrow(), "an edit keeps the member");
            assertEquals(1, a.active());

            client.delete().forPath("/s1/web/b");
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081", "127.0.0.1:8083")));
            assertFalse(r.isStale());
        }
    }

    @Test
    void aServiceThatDoesNotExistYetIsReadyEmptyAndFollowedOnceCreated() throws Exception {
        try (ZooKeeperResolver r = resolver("/s9/web"); UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            assertTrue(r.current().orElseThrow().upstreams().isEmpty());
            write("/s9/web/a", Upstream.of("127.0.0.1", 8081));
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081")));
        }
    }

    @Test
    void findsInstancesThatCuratorAndSpringCloudRegister() throws Exception {
        ServiceInstance<Void> instance = ServiceInstance.<Void>builder().name("web").address("127.0.0.1").port(8085).build();
        try (ServiceDiscovery<Void> curator = ServiceDiscoveryBuilder.builder(Void.class).client(client)
                        .basePath("/s2").thisInstance(instance).build();
                ZooKeeperResolver r = resolver("/s2/web"); UpstreamPool pool = UpstreamPool.builder().build()) {
            curator.start();
            // Spring Cloud Zookeeper's instance: its payload carries the metadata.
            write("/s2/web/spring-1", "{\"name\":\"web\",\"id\":\"spring-1\",\"address\":\"127.0.0.1\",\"port\":8086,"
                    + "\"sslPort\":null,\"payload\":{\"@class\":\"org.springframework.cloud.zookeeper.discovery."
                    + "ZookeeperInstance\",\"id\":\"web-1\",\"name\":\"web\",\"metadata\":{\"instance_status\":\"UP\"}},"
                    + "\"registrationTimeUTC\":1700000000000,\"serviceType\":\"DYNAMIC\",\"uriSpec\":{\"parts\":[]}}");
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8085", "127.0.0.1:8086")));
            assertEquals("UP", pool.member("127.0.0.1:8086").orElseThrow().upstream().metadata().get("instance_status"));
            assertEquals(1, pool.member("127.0.0.1:8085").orElseThrow().weight());
        }
    }

    @Test
    void curatorReadsWhatARegistrationWritesAndDrainThenLeave() throws Exception {
        write("/s3/web/anchor", Upstream.of("127.0.0.1", 9000));
        // Curator reads a payload without a "@class" member as a map.
        try (ServiceDiscovery<Object> curator = ServiceDiscoveryBuilder.builder(Object.class).client(client)
                        .basePath("/s3").serializer(new JsonInstanceSerializer<>(Object.class)).build();
                ZooKeeperResolver r = resolver("/s3/web"); UpstreamPool pool = UpstreamPool.builder().build()) {
            curator.start();
            pool.follow(r);
            ZooKeeperRegistration reg = ZooKeeperRegistration.builder(client, "/s3/web",
                    Upstream.builder("127.0.0.1", 8081).weight(3).metadata("zone", "a").build())
                    .id("web-1").drainTime(Duration.ofMillis(500)).register();
            Collection<ServiceInstance<Object>> seen = curator.queryForInstances("web");
            ServiceInstance<Object> mine = seen.stream().filter(i -> i.getId().equals("web-1")).findFirst().orElseThrow();
            assertEquals("127.0.0.1", mine.getAddress());
            assertEquals(8081, mine.getPort());
            Map<?, ?> payload = (Map<?, ?>) mine.getPayload();
            assertEquals(3, payload.get("weight"));
            assertEquals(Map.of("zone", "a"), payload.get("metadata"));

            Await.until(() -> pool.snapshot().size() == 2);
            Member m = pool.member("127.0.0.1:8081").orElseThrow();
            assertEquals(3, m.weight());
            Thread closer = new Thread(reg::close);
            closer.start();
            Await.until(() -> m.weight() == 0);
            assertFalse(m.isRemoved(), "drained first, still listed while work finishes");
            closer.join(5000);
            Await.until(m::isRemoved);
        }
    }

    @Test
    void followsAZooKeeperUriWithItsOwnClient() throws Exception {
        write("/s8/web/a", Upstream.of("127.0.0.1", 8081));
        try (ZooKeeperResolver r = ZooKeeperResolver.builder(URI.create("zk://" + server.getConnectString() + "/s8/web"))
                        .sessionTimeout(Duration.ofSeconds(3)).connectionTimeout(Duration.ofSeconds(2)).build();
                UpstreamPool pool = UpstreamPool.builder().build()) {
            assertEquals("/s8/web", r.path());
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081")));
        }
        for (String bad : new String[] {"etcd://127.0.0.1:2181/p", "zk://127.0.0.1:2181", "zk:///p"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ZooKeeperResolver.builder(URI.create(bad)));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void aRegistrationWritesItsNodeAgainWhenItIsLost() throws Exception {
        ZooKeeperRegistration reg = ZooKeeperRegistration.builder(client, "/s7/web", Upstream.of("127.0.0.1", 8081))
                .drainTime(Duration.ZERO).register();
        try {
            // As after a session expiry: the ephemeral node is gone while the process lives.
            client.delete().forPath(reg.path());
            Await.until(() -> {
                try {
                    return client.checkExists().forPath(reg.path()) != null;
                } catch (Exception e) {
                    return false;
                }
            });
        } finally {
            reg.close();
        }
        assertEquals(null, client.checkExists().forPath(reg.path()), "close deletes the node");
    }

    @Test
    void badInstancesAreSkippedCountedAndNeverStopTheWatch() throws Exception {
        write("/s4/web/good", Upstream.of("127.0.0.1", 8081));
        write("/s4/web/garbage", "address=127.0.0.1");
        try (ZooKeeperResolver r = resolver("/s4/web"); UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> pool.snapshot().size() == 1);
            assertEquals(1, r.rejectedEntries());
            write("/s4/web/port", "{\"address\":\"127.0.0.1\",\"port\":0}");
            write("/s4/web/weight", "{\"address\":\"127.0.0.1\",\"port\":8083,\"payload\":{\"weight\":-4}}");
            write("/s4/web/disabled", "{\"address\":\"127.0.0.1\",\"port\":8084,\"enabled\":false}");
            write("/s4/web/next", Upstream.of("127.0.0.1", 8085));
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081", "127.0.0.1:8085")));
            assertEquals(3, r.rejectedEntries());
        }
    }

    @Test
    void aBadPortIsRejectedNotReplacedBySslPort() {
        // sslPort is used only when port is null (README lb-zookeeper); a bad port is a bad instance.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Instances.parse("{\"address\":\"127.0.0.1\",\"port\":\"8081\",\"sslPort\":8443}"));
        assertTrue(e.getMessage().contains("got port a string"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Instances.parse("{\"address\":\"127.0.0.1\",\"port\":true,\"sslPort\":8443}"));
        assertEquals("127.0.0.1:8443",
                Instances.parse("{\"address\":\"127.0.0.1\",\"port\":null,\"sslPort\":8443}").orElseThrow().key());
        assertEquals("127.0.0.1:8443", Instances.parse("{\"address\":\"127.0.0.1\",\"sslPort\":8443}").orElseThrow().key());
        assertEquals("127.0.0.1:8081",
                Instances.parse("{\"address\":\"127.0.0.1\",\"port\":8081,\"sslPort\":8443}").orElseThrow().key());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> Instances.parse("{\"address\":\"127.0.0.1\",\"port\":null,\"sslPort\":null}"));
        assertTrue(none.getMessage().contains("got sslPort null"), none.getMessage());
    }

    @Test
    void aKilledProcessDisappearsAfterItsSessionTimeout() throws Exception {
        write("/s5/web/anchor", Upstream.of("127.0.0.1", 9000));
        try (ZooKeeperResolver r = resolver("/s5/web"); UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            try (ChildJvm child = ChildJvm.start(RegisterMain.class, server.getConnectString(), "/s5/web", "8091")) {
                child.awaitLine("registered");
                Await.until(() -> pool.snapshot().size() == 2);
                child.kill();
                long killed = System.nanoTime();
                Await.until(() -> pool.member("127.0.0.1:8091").isEmpty());
                long millis = (System.nanoTime() - killed) / 1_000_000;
                assertTrue(millis >= 1000, "gone when the 2 s session expired, not at once: " + millis + " ms");
            }
        }
    }

    @Test
    void zooKeeperGoingAwayKeepsThePoolStaleThenResynchronises() throws Exception {
        write("/s6/web/a", Upstream.of("127.0.0.1", 8081));
        write("/s6/web/b", Upstream.of("127.0.0.1", 8082));
        withOwnClient("/s6/web", 2, (r, pool) -> {
            server.stop();
            Await.until(r::isStale);
            assertEquals(Set.of("127.0.0.1:8081", "127.0.0.1:8082"), keys(pool), "the pool keeps its members");
            assertTrue(r.current().orElseThrow().isStale());
            server.restart();
            client.blockUntilConnected(10, TimeUnit.SECONDS);
            write("/s6/web/c", Upstream.of("127.0.0.1", 8083));
            client.delete().forPath("/s6/web/a");
            Await.until(() -> !r.isStale());
            Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8082", "127.0.0.1:8083")));
        });
    }

    @Test
    void aDrainAndTheWeightBeforeItSurviveTheStoresChangesAndResyncs() throws Exception {
        write("/s11/web/a", Upstream.builder("127.0.0.1", 8081).weight(3).build());
        withOwnClient("/s11/web", 1, (r, pool) -> {
            pool.weight("127.0.0.1:8081", 5);
            Member a = pool.drain("127.0.0.1:8081");
            // The instance is written again, then ZooKeeper goes away and comes back: a complete read.
            write("/s11/web/a", Upstream.builder("127.0.0.1", 8081).weight(4).metadata("zone", "b").build());
            Await.until(() -> "b".equals(a.upstream().metadata().get("zone")));
            server.stop();
            Await.until(r::isStale);
            server.restart();
            Await.until(() -> !r.isStale());
            assertSame(a, pool.member("127.0.0.1:8081").orElseThrow());
            assertEquals(0, a.weight(), "the drain stays");
            assertEquals(OptionalInt.of(5), a.weightBeforeDrain(), "and so does the weight before it");
            assertEquals(5, pool.undrain("127.0.0.1:8081").weight());
        });
    }

    @Test
    void eventsOfACacheTheConnectionLossRetiredAreIgnored() throws Exception {
        write("/s10/web/a", Upstream.of("127.0.0.1", 8081));
        write("/s10/web/b", Upstream.of("127.0.0.1", 8082));
        withOwnClient("/s10/web", 2, (r, pool) -> {
            long first = r.generation();
            CuratorCacheListener old = r.listener(first, null);
            server.stop();
            Await.until(r::isStale);
            // The first cache still delivers events after the loss: a bad instance and the deletion of "a".
            old.event(CuratorCacheListener.Type.NODE_CREATED, null, node("/s10/web/bad", "garbage"));
            old.event(CuratorCacheListener.Type.NODE_DELETED, node("/s10/web/a", ""), null);
            server.restart();
            client.blockUntilConnected(10, TimeUnit.SECONDS);
            Await.until(() -> !r.isStale());
            assertTrue(r.generation() > first, "a fresh cache after the reconnection");
            // And after the fresh cache started; the current cache's event behind them shows they were handled.
            old.event(CuratorCacheListener.Type.NODE_DELETED, node("/s10/web/b", ""), null);
            r.listener(r.generation(), null).event(CuratorCacheListener.Type.NODE_CREATED, null,
                    node("/s10/web/c", Instances.toJson("web", "c", Upstream.of("127.0.0.1", 8083), 0)));
            Set<String> all = Set.of("127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8083");
            // current() includes changes still waiting for the coalescing delay.
            Await.until(() -> r.current().orElseThrow().upstreams().stream().anyMatch(u -> u.port() == 8083));
            assertEquals(all, r.current().orElseThrow().upstreams().stream().map(Upstream::key).collect(Collectors.toSet()),
                    "the old cache deleted nothing");
            assertEquals(0, r.rejectedEntries(), "the old cache's bad instance is not counted");
            Await.until(() -> keys(pool).equals(all));
        });
    }

    /** What a test does with a resolver and the pool that follows it. */
    private interface Followed {
        void run(ZooKeeperResolver r, UpstreamPool pool) throws Exception;
    }

    /**
     * Runs {@code test} with a resolver on a client of its own (the shared client writes, and stays
     * connected when the test stops the server) and a pool following it, once it holds {@code size}
     * members.
     */
    private static void withOwnClient(String path, int size, Followed test) throws Exception {
        CuratorFramework own = newClient();
        own.start();
        try (ZooKeeperResolver r = ZooKeeperResolver.builder(own, path).coalesceDelay(Duration.ofMillis(10)).build();
                UpstreamPool pool = UpstreamPool.builder().build()) {
            pool.follow(r);
            r.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> pool.snapshot().size() == size);
            test.run(r, pool);
        } finally {
            own.close();
        }
    }

    private static ChildData node(String path, String data) {
        return new ChildData(path, new Stat(), data.getBytes(UTF_8));
    }
}
