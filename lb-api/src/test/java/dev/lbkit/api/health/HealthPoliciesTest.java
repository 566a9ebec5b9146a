package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HealthPoliciesTest {
    private final ManualTicker ticker = new ManualTicker(0);

    /** Records what it is told and refuses the upstreams it is told to. */
    private static final class Recording implements HealthPolicy {
        final List<String> calls;
        final String name;
        final int refusePort;

        Recording(String name, List<String> calls, int refusePort) {
            this.name = name;
            this.calls = calls;
            this.refusePort = refusePort;
        }

        @Override
        public boolean admit(Member member, PoolSnapshot snapshot, long nanoTime) {
            calls.add(name + ".admit" + member.upstream().port());
            return member.upstream().port() != refusePort;
        }

        @Override
        public void onOutcome(Member member, Outcome outcome, PoolSnapshot snapshot, long nanoTime) {
            calls.add(name + ".outcome");
        }

        @Override
        public void onExhausted(PoolSnapshot snapshot, long nanoTime) {
            calls.add(name + ".exhausted");
        }

        @Override
        public void onMembershipChange(PoolSnapshot snapshot) {
            calls.add(name + ".members" + snapshot.size());
        }

        @Override
        public void close() {
            calls.add(name + ".close");
            throw new IllegalStateException(name);
        }
    }

    @Test
    void everyPartIsToldEverythingAndAllMustAdmit() {
        List<String> calls = new ArrayList<>();
        HealthPolicy composed = HealthPolicies.compose(new Recording("a", calls, 1), new Recording("b", calls, 2));
        UpstreamPool pool = UpstreamPool.builder().ticker(ticker).healthPolicy(composed)
                .add("127.0.0.1", 1).add("127.0.0.1", 2).build();
        assertEquals(List.of("a.members2", "b.members2"), calls);
        calls.clear();
        assertEquals(null, pool.pick(new PickContext()), "a refuses 1, b refuses 2");
        assertTrue(calls.contains("a.admit1") && calls.contains("b.admit2"), calls.toString());
        assertFalse(calls.contains("b.admit1"), "the first refusal wins: " + calls);
        assertEquals(List.of("a.exhausted", "b.exhausted"), calls.subList(calls.size() - 2, calls.size()));
        calls.clear();
        pool.report(pool.snapshot().members().get(0), Outcome.SUCCESS);
        assertEquals(List.of("a.outcome", "b.outcome"), calls);
        calls.clear();
        IllegalStateException e = assertThrows(IllegalStateException.class, pool::close);
        assertEquals(List.of("a.close", "b.close"), calls, "b is closed although a threw");
        assertEquals("a", e.getMessage());
        assertEquals("b", e.getSuppressed()[0].getMessage());
    }

    @Test
    void compositionsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> HealthPolicies.compose());
        PassiveHealthPolicy passive = PassiveHealthPolicy.nginxDefaults();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HealthPolicies.compose(passive, OutlierDetectionPolicy.envoyDefaults()));
        assertTrue(e.getMessage().contains("at most one"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HealthPolicies.compose(passive, passive));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        assertSame(passive, HealthPolicies.compose(passive));
        SlowStartPolicy slow = SlowStartPolicy.of(Duration.ofSeconds(1));
        HealthPolicy nested = HealthPolicies.compose(HealthPolicies.compose(slow, HealthPolicy.none()), passive);
        assertThrows(IllegalArgumentException.class, () -> HealthPolicies.compose(nested, slow));
    }

    /** Active and passive checks on one pool: both take an upstream out, listeners see both sources. */
    @Test
    void activeAndPassiveShareOnePool() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket a = new ServerSocket(0, 50, loopback); ServerSocket b = new ServerSocket(0, 50, loopback)) {
            Upstream ua = Upstream.of(new InetSocketAddress(loopback, a.getLocalPort()));
            Upstream ub = Upstream.of(new InetSocketAddress(loopback, b.getLocalPort()));
            int cPort;
            try (ServerSocket c = new ServerSocket(0, 50, loopback)) {
                cPort = c.getLocalPort();
            }
            Upstream uc = Upstream.of(new InetSocketAddress(loopback, cPort));
            ActiveHealthPolicy active = ActiveHealthPolicy.builder(TcpConnectProbe.create())
                    .interval(Duration.ofHours(1)).build();
            PassiveHealthPolicy passive = PassiveHealthPolicy.builder().maxFails(1).failTimeout(Duration.ofSeconds(10)).build();
            UpstreamPool pool = UpstreamPool.builder().ticker(ticker)
                    .healthPolicy(HealthPolicies.compose(active, passive)).add(ua).add(ub).add(uc).build();
            List<HealthEvent> events = new CopyOnWriteArrayList<>();
            pool.addListener(new PoolListener() {
                @Override
                public void onHealthChange(HealthEvent event) {
                    events.add(event);
                }
            });
            try {
                active.checkNow().toCompletableFuture().get(10, TimeUnit.SECONDS);
                pool.report(pool.member(ub).orElseThrow(), Outcome.CONNECT_FAILURE);
                PickContext ctx = new PickContext();
                for (int i = 0; i < 5; i++) {
                    assertEquals(ua, pool.pick(ctx.reset()).upstream());
                }
                assertEquals(2, events.size());
                assertTrue(events.stream().anyMatch(e -> e.upstream().equals(uc) && e.source().equals("active")));
                assertTrue(events.stream().anyMatch(e -> e.upstream().equals(ub) && e.source().equals("passive")));
            } finally {
                pool.close();
            }
        }
    }
}
