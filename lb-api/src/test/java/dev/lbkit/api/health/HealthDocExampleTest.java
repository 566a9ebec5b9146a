package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.resolve.SystemResolver;
import dev.lbkit.api.scheduler.PickContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The example of the README section "Health policies and resolvers", on ephemeral loopback ports, with the seed's timeouts replayed. */
class HealthDocExampleTest {

    @Test
    void theDocumentedPoolBehavesAsDocumented() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        ManualTicker ticker = new ManualTicker(0);
        try (ServerSocket b1 = new ServerSocket(0, 50, loopback); ServerSocket b2 = new ServerSocket(0, 50, loopback)) {
            Upstream backend1 = Upstream.of(new InetSocketAddress(loopback, b1.getLocalPort()));
            Upstream backend2 = Upstream.builder(new InetSocketAddress(loopback, b2.getLocalPort())).backup(true).build();
            PassiveHealthPolicy passive = PassiveHealthPolicy.builder()
                    .maxFails(7)
                    .failTimeout(Duration.ofSeconds(10))
                    .build();
            ActiveHealthPolicy active = ActiveHealthPolicy.builder(TcpConnectProbe.create())
                    .interval(Duration.ofSeconds(2))
                    .timeout(Duration.ofSeconds(1))
                    .rise(2)
                    .fall(3)
                    .build();
            UpstreamPool pool = UpstreamPool.builder()
                    .name("backend")
                    .ticker(ticker)
                    .add(backend1)
                    .add(backend2)
                    .healthPolicy(HealthPolicies.compose(active, passive))
                    .build();
            List<HealthEvent> events = new CopyOnWriteArrayList<>();
            pool.addListener(new PoolListener() {
                @Override
                public void onHealthChange(HealthEvent e) {
                    events.add(e);
                }
            });
            try {
                active.checkNow().toCompletableFuture().get(10, TimeUnit.SECONDS);
                assertTrue(active.status(backend1).orElseThrow().up());
                assertTrue(active.status(backend1).orElseThrow().lastResult().healthy());

                // Backend 1 hangs: seven requests time out after 1 s each, the eighth goes to the backup.
                PickContext ctx = new PickContext();
                for (int i = 0; i < 7; i++) {
                    Member member = pool.pick(ctx.reset());
                    assertEquals(backend1, member.upstream());
                    member.incrementActive();
                    ticker.advance(Duration.ofSeconds(1));
                    pool.report(member, Outcome.TIMEOUT);
                    member.decrementActive();
                }
                assertEquals(backend2, pool.pick(ctx.reset()).upstream());
                assertEquals(1, events.size());
                assertFalse(events.get(0).available());
                assertEquals("passive", events.get(0).source());
            } finally {
                pool.close();
            }
        }
        try (SystemResolver resolver = SystemResolver.builder("localhost", 8081).build()) {
            UpstreamPool followed = UpstreamPool.builder().name("by-name").build();
            AutoCloseable following = followed.follow(resolver);
            resolver.refresh().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertFalse(followed.snapshot().members().isEmpty());
            following.close();
        }
    }
}
