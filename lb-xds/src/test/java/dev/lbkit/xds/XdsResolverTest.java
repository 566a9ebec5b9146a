package dev.lbkit.xds;

import static dev.lbkit.xds.ControlPlane.assignment;
import static dev.lbkit.xds.ControlPlane.endpoint;
import static dev.lbkit.xds.ControlPlane.healthy;
import static dev.lbkit.xds.ControlPlane.priority;
import static io.envoyproxy.envoy.config.core.v3.HealthStatus.DRAINING;
import static io.envoyproxy.envoy.config.core.v3.HealthStatus.HEALTHY;
import static io.envoyproxy.envoy.config.core.v3.HealthStatus.UNHEALTHY;
import static io.envoyproxy.envoy.config.core.v3.HealthStatus.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.testing.Await;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Against Envoy's java-control-plane serving ADS on loopback. */
class XdsResolverTest {

    private static XdsResolver resolver(ControlPlane cp, String cluster) {
        return XdsResolver.builder(cp.target(), cluster).nodeId("test-balancer").coalesceDelay(Duration.ofMillis(10))
                .retryInterval(Duration.ofMillis(200)).build();
    }

    /** Makes {@code pool} follow {@code r} and waits for the first membership, of {@code size} upstreams. */
    private static void followAndAwait(UpstreamPool pool, XdsResolver r, int size) throws Exception {
        pool.follow(r);
        r.whenReady().get(10, TimeUnit.SECONDS);
        Await.until(() -> pool.snapshot().size() == size);
    }

    private static Set<String> keys(UpstreamPool pool) {
        return pool.snapshot().members().stream().map(m -> m.upstream().key()).collect(Collectors.toSet());
    }

    @Test
    void followsWeightsHealthAndPrioritiesThroughUpdates() throws Exception {
        try (ControlPlane cp = new ControlPlane()) {
            cp.serve("web", assignment("web-eds",
                    priority(0, endpoint("127.0.0.1", 8081, 1, HEALTHY), endpoint("127.0.0.1", 8082, 3, UNKNOWN),
                            endpoint("127.0.0.1", 8083, 1, UNHEALTHY), endpoint("127.0.0.1", 8084, 1, DRAINING)),
                    priority(1, endpoint("127.0.0.1", 9001, 1, HEALTHY))));
            try (XdsResolver r = resolver(cp, "web"); UpstreamPool pool = UpstreamPool.builder().build()) {
                followAndAwait(pool, r, 5);
                assertEquals(3, pool.member("127.0.0.1:8082").orElseThrow().weight());
                assertEquals(0, pool.member("127.0.0.1:8083").orElseThrow().weight(), "unhealthy: no new traffic");
                assertEquals(0, pool.member("127.0.0.1:8084").orElseThrow().weight(), "draining: no new traffic");
                assertTrue(pool.member("127.0.0.1:9001").orElseThrow().upstream().isBackup(), "priority 1 is the backup tier");
                PickContext ctx = new PickContext();
                for (int i = 0; i < 20; i++) {
                    int port = pool.pick(ctx).upstream().port();
                    assertTrue(port == 8081 || port == 8082, "picked " + port);
                }

                Member kept = pool.member("127.0.0.1:8081").orElseThrow();
                kept.incrementActive();
                cp.serve("web", assignment("web-eds",
                        priority(0, endpoint("127.0.0.1", 8081, 7, HEALTHY), endpoint("127.0.0.1", 8085, 1, HEALTHY)),
                        priority(1, endpoint("127.0.0.1", 9001, 1, HEALTHY))));
                Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081", "127.0.0.1:8085", "127.0.0.1:9001")));
                assertSame(kept, pool.member("127.0.0.1:8081").orElseThrow(), "an edit keeps the member");
                assertEquals(7, kept.weight());
                assertEquals(1, kept.active());
                assertFalse(r.isStale());
            }
        }
    }

    @Test
    void followsAnXdsUri() throws Exception {
        try (ControlPlane cp = new ControlPlane()) {
            cp.serve("uri", assignment("uri", priority(0, endpoint("127.0.0.1", 8081, 1, HEALTHY))));
            try (XdsResolver r = XdsResolver.builder(URI.create("xds://" + cp.target() + "/uri")).build();
                    UpstreamPool pool = UpstreamPool.builder().build()) {
                assertEquals("uri", r.cluster());
                pool.follow(r);
                r.whenReady().get(10, TimeUnit.SECONDS);
                Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8081")));
            }
        }
        for (String bad : new String[] {"zk://127.0.0.1:1/c", "xds://127.0.0.1:1", "xds://127.0.0.1:1/a/b"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> XdsResolver.builder(URI.create(bad)));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void badEndpointsAreSkippedAndCounted() throws Exception {
        try (ControlPlane cp = new ControlPlane()) {
            cp.serve("api", assignment("api",
                    priority(0, endpoint("127.0.0.1", 8081, 1, HEALTHY), endpoint("127.0.0.1", 70000, 1, HEALTHY),
                            endpoint("127.0.0.1", 8082, 100000, HEALTHY), endpoint("", 8083, 1, HEALTHY))));
            try (XdsResolver r = resolver(cp, "api"); UpstreamPool pool = UpstreamPool.builder().build()) {
                followAndAwait(pool, r, 1);
                assertEquals(3, r.rejectedEntries());
                cp.serve("api", assignment("api",
                        priority(0, endpoint("127.0.0.1", 8081, 1, HEALTHY), endpoint("127.0.0.1", 8084, 2, HEALTHY))));
                Await.until(() -> pool.snapshot().size() == 2);
                assertEquals(3, r.rejectedEntries());
            }
        }
    }

    /**
     * A bad endpoint that leaves the assignment is forgotten, so that it is logged and counted again if
     * it comes back, whether its removal was seen in an update or happened while the control plane was
     * away (the first assignment after the reconnection replaces the whole).
     */
    @Test
    void aBadEndpointThatLeavesIsCountedAgainWhenItComesBack() throws Exception {
        try (ControlPlane cp = new ControlPlane()) {
            cp.serve("back", healthy(8081), healthy(70000));
            try (XdsResolver r = resolver(cp, "back"); UpstreamPool pool = UpstreamPool.builder().build()) {
                followAndAwait(pool, r, 1);
                assertEquals(1, r.rejectedEntries());

                cp.serve("back", healthy(8081), healthy(8082));
                Await.until(() -> pool.snapshot().size() == 2);
                cp.serve("back", healthy(8081), healthy(70000));
                Await.until(() -> pool.snapshot().size() == 1);
                assertEquals(2, r.rejectedEntries(), "removed in an update, then back");

                cp.stop();
                Await.until(r::isStale);
                cp.serve("back", healthy(8081));
                cp.start();
                Await.until(() -> !r.isStale());
                cp.serve("back", healthy(8081), healthy(70000), healthy(8083));
                Await.until(() -> pool.snapshot().size() == 2);
                assertEquals(3, r.rejectedEntries(), "removed while the control plane was away, then back");
            }
        }
    }

    @Test
    void controlPlaneGoingAwayKeepsThePoolStaleThenResynchronises() throws Exception {
        try (ControlPlane cp = new ControlPlane()) {
            cp.serve("web", assignment("web", priority(0, endpoint("127.0.0.1", 8081, 1, HEALTHY),
                    endpoint("127.0.0.1", 8082, 1, HEALTHY))));
            try (XdsResolver r = resolver(cp, "web"); UpstreamPool pool = UpstreamPool.builder().build()) {
                followAndAwait(pool, r, 2);
                cp.stop();
                Await.until(r::isStale);
                assertEquals(Set.of("127.0.0.1:8081", "127.0.0.1:8082"), keys(pool), "the pool keeps its members");
                assertTrue(r.current().orElseThrow().isStale());
                cp.serve("web", assignment("web", priority(0, endpoint("127.0.0.1", 8082, 1, HEALTHY),
                        endpoint("127.0.0.1", 8083, 1, HEALTHY))));
                cp.start();
                Await.until(() -> !r.isStale());
                Await.until(() -> keys(pool).equals(Set.of("127.0.0.1:8082", "127.0.0.1:8083")));
            }
        }
    }
}
