package dev.lbkit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Json;
import dev.lbkit.api.resolve.CoalescingResolver;
import dev.lbkit.testing.Await;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin API on a pool that follows a store: what an operator changes stays across the store's
 * changes and resyncs until the operator clears it, and the state shows which value is whose.
 */
class FollowedPoolTest {
    private static final String TOKEN = "s3cret-token-for-tests";
    private static final String UPS = "/api/v1/pools/web/upstreams/";

    /** A membership store the test writes, told to the pool as ZooKeeper, etcd or xDS would be. */
    private static final class Store extends CoalescingResolver {
        Store() {
            super("test-store", Duration.ZERO);
        }

        /** A complete read: entries by id. */
        void read(Map<String, Upstream> entries) {
            resync(entries);
        }

        @Override
        protected void start() {}

        @Override
        protected void stop() {}
    }

    private final UpstreamPool pool = UpstreamPool.builder().name("web").build();
    private final Store store = new Store();
    private AdminServer server;
    private AdminClient c;

    @BeforeEach
    void start() throws Exception {
        pool.follow(store);
        read(Map.of("a", up(8081, 3), "b", up(8082, 1), "c", up(8083, 1)));
        server = AdminServer.builder().pool(pool).token(TOKEN)
                .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).build().start();
        c = new AdminClient(server);
    }

    @AfterEach
    void stop() {
        server.close();
        store.close();
    }

    private static Upstream up(int port, int weight) {
        return Upstream.builder("127.0.0.1", port).weight(weight).build();
    }

    /** The store's next complete read, and waits until the pool has it. */
    private void read(Map<String, Upstream> byId) throws InterruptedException {
        Map<String, Upstream> entries = new LinkedHashMap<>(byId);
        store.read(entries);
        Await.until(() -> {
            Map<String, Upstream> seen = pool.snapshot().store();
            if (seen.size() != entries.size()) {
                return false;
            }
            for (Upstream u : entries.values()) {
                if (!u.sameAs(seen.get(u.key()))) {
                    return false;
                }
            }
            return true;
        });
    }

    private Map<String, Object> upstream(int port) {
        HttpResponse<String> r = c.get(UPS + "127.0.0.1:" + port);
        assertEquals(200, r.statusCode(), r.body());
        return Json.parseSimpleObject(r.body());
    }

    private int weight(int port) {
        return pool.member("127.0.0.1:" + port).orElseThrow().weight();
    }

    private HttpResponse<String> post(int port, String action, String body) {
        HttpResponse<String> r = c.post(UPS + "127.0.0.1:" + port + "/" + action, TOKEN, body);
        assertEquals(200, r.statusCode(), r.body());
        return r;
    }

    private HttpResponse<String> clear(String key) {
        return c.method("DELETE", UPS + key + "/override", TOKEN);
    }

    @Test
    void operatorChangesSurviveTheStoresChangesAndResyncs() throws Exception {
        Member a = pool.member("127.0.0.1:8081").orElseThrow();
        post(8081, "drain", null);
        post(8082, "weight", "{\"weight\": 5}");
        assertEquals(200, c.method("DELETE", UPS + "127.0.0.1:8083", TOKEN).statusCode());
        assertEquals(201, c.post("/api/v1/pools/web/upstreams", TOKEN, "{\"host\":\"127.0.0.1\",\"port\":8090,\"weight\":2}")
                .statusCode());

        // The store changes every weight and gains an upstream: a full new membership reaches the pool.
        read(Map.of("a", up(8081, 4), "b", up(8082, 2), "c", up(8083, 1), "d", up(8084, 1)));
        assertSame(a, pool.member("127.0.0.1:8081").orElseThrow(), "the member keeps its identity");
        assertEquals(0, a.weight(), "the drain stays in force");
        assertEquals(5, weight(8082), "the operator's weight wins over the store's");
        assertTrue(pool.member("127.0.0.1:8083").isEmpty(), "the removed upstream does not come back");
        assertEquals(2, weight(8090), "the added upstream stays");
        assertEquals(1, weight(8084));

        // The state says which value is whose.
        Map<String, Object> p = Json.parseSimpleObject(c.get("/api/v1/pools/web").body());
        assertEquals(true, p.get("followsStore"));
        List<?> removed = (List<?>) p.get("removedByOperator");
        assertEquals(1, removed.size());
        assertEquals("127.0.0.1:8083", ((Map<?, ?>) removed.get(0)).get("key"));
        assertEquals(1L, ((Map<?, ?>) ((Map<?, ?>) removed.get(0)).get("store")).get("weight"));
        Map<String, Object> drained = upstream(8081);
        assertEquals("draining", drained.get("state"));
        assertEquals(Map.of("kind", "weight", "weight", 0L), drained.get("override"));
        assertEquals(4L, ((Map<?, ?>) drained.get("store")).get("weight"));
        assertFalse(drained.containsKey("savedWeight"), "the drain replaced the store's weight: nothing to save");
        Map<String, Object> added = upstream(8090);
        assertEquals(Map.of("kind", "added", "weight", 2L), added.get("override"));
        assertNull(added.get("store"));
        Map<String, Object> plain = upstream(8084);
        assertNull(plain.get("override"));
        assertEquals(1L, ((Map<?, ?>) plain.get("store")).get("weight"));

        // ready after that drain gives the store's weight back, and the store's weight then follows it.
        post(8081, "ready", null);
        assertEquals(4, a.weight());
        assertNull(upstream(8081).get("override"));
        read(Map.of("a", up(8081, 6), "b", up(8082, 2), "c", up(8083, 1), "d", up(8084, 1)));
        assertEquals(6, a.weight());
    }

    @Test
    void readyAfterADrainRestoresTheOperatorsWeightNotTheStores() throws Exception {
        post(8082, "weight", "{\"weight\": 5}");
        HttpResponse<String> d = post(8082, "drain", null);
        assertEquals(5L, Json.parseSimpleObject(d.body()).get("savedWeight"));
        read(Map.of("a", up(8081, 3), "b", up(8082, 7), "c", up(8083, 1)));
        assertEquals(0, weight(8082));
        post(8082, "ready", null);
        assertEquals(5, weight(8082));
        assertEquals(Map.of("kind", "weight", "weight", 5L), upstream(8082).get("override"));
    }

    @Test
    void aDrainThroughOneAdminServerIsUndoneThroughAnotherAfterTheStoresResyncs() throws Exception {
        post(8082, "weight", "{\"weight\": 5}");
        post(8082, "drain", null);
        server.close();
        read(Map.of("a", up(8081, 3), "b", up(8082, 7), "c", up(8083, 1)));
        read(Map.of("a", up(8081, 3), "b", up(8082, 7), "c", up(8083, 1)));
        assertEquals(0, weight(8082), "the drain stays");

        server = AdminServer.builder().pool(pool).token(TOKEN)
                .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).build().start();
        c = new AdminClient(server);
        assertEquals(5L, upstream(8082).get("savedWeight"));
        post(8082, "ready", null);
        assertEquals(5, weight(8082), "the operator's weight before the drain, not the store's");
    }

    @Test
    void clearingAnOverrideGivesTheUpstreamBackToTheStore() throws Exception {
        post(8082, "weight", "{\"weight\": 5}");
        assertEquals(200, c.method("DELETE", UPS + "127.0.0.1:8083", TOKEN).statusCode());
        assertEquals(201, c.post("/api/v1/pools/web/upstreams", TOKEN, "{\"host\":\"127.0.0.1\",\"port\":8090}").statusCode());

        HttpResponse<String> w = clear("127.0.0.1:8082");
        assertEquals(200, w.statusCode(), w.body());
        Map<String, Object> wj = Json.parseSimpleObject(w.body());
        assertEquals(true, wj.get("cleared"));
        assertEquals(1L, ((Map<?, ?>) wj.get("upstream")).get("weight"), "the store's weight");
        assertEquals(1, weight(8082));
        HttpResponse<String> again = clear("127.0.0.1:8082");
        assertEquals(200, again.statusCode());
        assertEquals(false, Json.parseSimpleObject(again.body()).get("cleared"));

        // A removed upstream is in no member, and is cleared all the same: it comes back.
        HttpResponse<String> r = clear("127.0.0.1:8083");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("127.0.0.1:8083", ((Map<?, ?>) Json.parseSimpleObject(r.body()).get("upstream")).get("key"));
        assertEquals(1, weight(8083));
        // An upstream only the operator added goes.
        HttpResponse<String> a = clear("127.0.0.1:8090");
        assertEquals(200, a.statusCode(), a.body());
        assertNull(Json.parseSimpleObject(a.body()).get("upstream"));
        assertTrue(pool.member("127.0.0.1:8090").isEmpty());
        assertTrue(pool.snapshot().overrides().isEmpty());

        assertEquals(404, clear("127.0.0.1:9999").statusCode(), "neither in the pool nor overridden");
        assertEquals(404, c.method("DELETE", "/api/v1/pools/nope/upstreams/127.0.0.1:8081/override", TOKEN).statusCode());
        HttpResponse<String> post = c.post(UPS + "127.0.0.1:8081/override", TOKEN, null);
        assertEquals(405, post.statusCode());
        assertEquals("DELETE", post.headers().firstValue("allow").orElse(""));
        assertEquals(403, c.method("DELETE", UPS + "127.0.0.1:8081/override", "wrong").statusCode());
    }

    @Test
    void theStoreRemovingADrainedUpstreamTakesItAndTheDrain() throws Exception {
        post(8083, "drain", null);
        post(8081, "maint", null);
        read(Map.of("a", up(8081, 3), "b", up(8082, 1)));
        assertTrue(pool.member("127.0.0.1:8083").isEmpty(), "the store removed it: it goes");
        assertTrue(pool.member("127.0.0.1:8081").orElseThrow().isAdminDown(), "maint stays on a member the store keeps");
        assertEquals(0, ((List<?>) Json.parseSimpleObject(c.get("/api/v1/pools/web").body()).get("removedByOperator")).size());
        read(Map.of("a", up(8081, 3), "b", up(8082, 1), "c", up(8083, 2)));
        assertEquals(2, weight(8083), "back as the store gives it, not drained");
        assertNull(upstream(8083).get("override"));
    }
}
