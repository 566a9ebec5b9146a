package dev.lbkit.dns;

import static dev.lbkit.dns.DnsBalancerTest.SEED;
import static dev.lbkit.dns.DnsBalancerTest.loopback0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.ProbeResult;
import dev.lbkit.api.health.TcpConnectProbe;
import dev.lbkit.testing.EchoServer;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HealthIntegrationTest {

    @Test
    void aStoppedBackendLeavesTheAnswerAndComesBackWhenItReturns() throws Exception {
        EchoServer one = EchoServer.start(new InetSocketAddress("127.0.0.1", 0), EchoServer.Mode.ECHO, "");
        EchoServer two = EchoServer.start(new InetSocketAddress("127.0.0.2", 0), EchoServer.Mode.ECHO, "");
        int twoPort = two.port();
        ActiveHealthPolicy health = ActiveHealthPolicy.builder(TcpConnectProbe.create()).interval(Duration.ofHours(1))
                .timeout(Duration.ofSeconds(1)).rise(1).fall(1).build();
        try (UpstreamPool pool = UpstreamPool.builder().name("app").healthPolicy(health)
                .add("127.0.0.1", one.port()).add("127.0.0.2", twoPort).build();
                DnsBalancer dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, pool).start()) {
            Dig dig = Dig.udp(dns);
            health.checkNow().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(dig.a(SEED))));

            two.close();
            health.checkNow().toCompletableFuture().get(5, TimeUnit.SECONDS);
            for (int i = 0; i < 3; i++) {
                assertEquals(List.of("127.0.0.1"), Dig.addresses(dig.a(SEED)), "dnsmasq would still say 127.0.0.2");
            }

            two = EchoServer.start(new InetSocketAddress("127.0.0.2", twoPort), EchoServer.Mode.ECHO, "");
            health.checkNow().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(dig.a(SEED))));
        } finally {
            one.close();
            two.close();
        }
    }

    @Test
    void dnsProbePassesOnTheExpectedRcodeAndFailsOtherwise() throws Exception {
        UpstreamPool served = DnsBalancerTest.seedPool();
        try (DnsBalancer resolver = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, served).start();
                DatagramSocket silent = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Upstream up = Upstream.of(resolver.localAddress());
            ProbeResult ok = DnsHealthProbe.of(SEED).probe(up, Duration.ofSeconds(2)).toCompletableFuture().get(3, TimeUnit.SECONDS);
            assertTrue(ok.healthy(), ok.detail());
            ProbeResult tcp = DnsHealthProbe.builder(SEED).tcp(true).build().probe(up, Duration.ofSeconds(2))
                    .toCompletableFuture().get(3, TimeUnit.SECONDS);
            assertTrue(tcp.healthy(), tcp.detail());
            ProbeResult nx = DnsHealthProbe.of("nope." + SEED).probe(up, Duration.ofSeconds(2)).toCompletableFuture()
                    .get(3, TimeUnit.SECONDS);
            assertFalse(nx.healthy());
            assertTrue(nx.detail().contains("NXDOMAIN"), nx.detail());
            assertTrue(DnsHealthProbe.builder("nope." + SEED).expectRcode("NXDOMAIN").build().probe(up, Duration.ofSeconds(2))
                    .toCompletableFuture().get(3, TimeUnit.SECONDS).healthy());

            long t0 = System.nanoTime();
            ProbeResult timeout = DnsHealthProbe.of(SEED).probe(Upstream.of((InetSocketAddress) silent.getLocalSocketAddress()),
                    Duration.ofMillis(300)).toCompletableFuture().get(3, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertFalse(timeout.healthy());
            assertTrue(ms >= 250 && ms < 2000, "timed out after " + ms + " ms");
        }
    }

    @Test
    void anActivePolicyWithTheDnsProbeTakesADeadResolverOutOfAForwarderPool() throws Exception {
        UpstreamPool served = DnsBalancerTest.seedPool();
        DnsBalancer a = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, served).start();
        DnsBalancer b = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, served).start();
        ActiveHealthPolicy health = ActiveHealthPolicy.builder(DnsHealthProbe.of(SEED)).interval(Duration.ofHours(1))
                .timeout(Duration.ofMillis(500)).rise(1).fall(1).build();
        try (UpstreamPool resolvers = UpstreamPool.builder().healthPolicy(health).add(Upstream.of(a.localAddress()))
                .add(Upstream.of(b.localAddress())).build()) {
            health.checkNow().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertEquals(2, resolvers.snapshot().available(resolvers.ticker().nanoTime()).size());
            b.close();
            health.checkNow().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertEquals(List.of(a.localAddress()), resolvers.snapshot().available(resolvers.ticker().nanoTime()).stream()
                    .map(m -> m.upstream().address()).toList());
        } finally {
            a.close();
            b.close();
        }
    }
}
