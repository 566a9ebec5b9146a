package dev.lbkit.dns;

import static dev.lbkit.dns.DnsBalancerTest.SEED;
import static dev.lbkit.dns.DnsBalancerTest.loopback0;
import static dev.lbkit.dns.DnsBalancerTest.seedPool;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.resolve.ResolutionResult;
import dev.lbkit.testing.Await;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

class DnsResolverTest {
    private final List<AutoCloseable> closeables = new java.util.ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T keep(T c) {
        closeables.add(c);
        return c;
    }

    private static List<String> keys(ResolutionResult r) {
        return r.upstreams().stream().map(Upstream::key).collect(Collectors.toList());
    }

    private static ResolutionResult next(LinkedBlockingQueue<ResolutionResult> q, long ms) throws InterruptedException {
        return q.poll(ms, TimeUnit.MILLISECONDS);
    }

    @Test
    void followsTheAnswerAndTellsOnlyChanges() throws Exception {
        UpstreamPool pool = seedPool();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, pool).start());
        DnsResolver resolver = keep(DnsResolver.builder(SEED).server(dns.localAddress()).port(8080)
                .minRefresh(Duration.ofMillis(100)).build());
        LinkedBlockingQueue<ResolutionResult> results = new LinkedBlockingQueue<>();
        resolver.subscribe(results::add);
        assertEquals(List.of("127.0.0.1:8080", "127.0.0.2:8080"), keys(next(results, 3000)));
        // TTL 0 → a lookup every 100 ms; the rotating order is not a change.
        assertEquals(null, next(results, 500));
        assertTrue(dns.stats().count(SEED, "NOERROR") >= 3, "looked up again: " + dns.stats());
        pool.member("127.0.0.2:8081").orElseThrow().checkDown(true, "down");
        assertEquals(List.of("127.0.0.1:8080"), keys(next(results, 3000)));
        pool.member("127.0.0.2:8081").orElseThrow().checkDown(false, "up");
        assertEquals(List.of("127.0.0.1:8080", "127.0.0.2:8080"), keys(next(results, 3000)));
    }

    @Test
    void aLaterSubscriberGetsTheLatestResultAtOnce() throws Exception {
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, seedPool()).start());
        DnsResolver resolver = keep(DnsResolver.builder(SEED).server(dns.localAddress()).build());
        LinkedBlockingQueue<ResolutionResult> first = new LinkedBlockingQueue<>();
        resolver.subscribe(first::add);
        next(first, 3000);
        LinkedBlockingQueue<ResolutionResult> second = new LinkedBlockingQueue<>();
        resolver.subscribe(second::add);
        assertEquals(2, next(second, 1000).upstreams().size());
    }

    @Test
    void refreshHonoursTheTtlClampedToMinAndMaxRefresh() throws Exception {
        UpstreamPool pool = seedPool();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .name(ServedName.builder(SEED, pool).ttl(Duration.ofSeconds(3600)).build()).start());
        DnsResolver resolver = keep(DnsResolver.builder(SEED).server(dns.localAddress())
                .minRefresh(Duration.ofMillis(50)).maxRefresh(Duration.ofMillis(300)).build());
        LinkedBlockingQueue<ResolutionResult> results = new LinkedBlockingQueue<>();
        resolver.subscribe(results::add);
        next(results, 3000);
        pool.add(Upstream.of("127.0.0.3", 8081));
        // The TTL says an hour; maxRefresh makes it 300 ms.
        assertEquals(3, next(results, 2000).upstreams().size());

        DnsBalancer zeroTtl = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, seedPool()).start());
        DnsResolver slow = keep(DnsResolver.builder(SEED).server(zeroTtl.localAddress())
                .minRefresh(Duration.ofMillis(400)).build());
        slow.subscribe(r -> { });
        Thread.sleep(1000);
        long lookups = zeroTtl.stats().count(SEED, "NOERROR");
        // TTL 0, but at most one lookup per 400 ms: 3 in 1 s (at 0, 400, 800 ms), allowing for scheduling.
        assertTrue(lookups >= 2 && lookups <= 4, "lookups: " + lookups);
    }

    @Test
    void followsSrvRecordsWithPortsWeightsAndBackups() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add(Upstream.builder("127.0.0.1", 8081).weight(3).build())
                .add(Upstream.builder("127.0.0.2", 8082).build())
                .add(Upstream.builder("127.0.0.3", 8083).backup(true).build()).build();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("web.svc.local", pool).start());
        DnsResolver resolver = keep(DnsResolver.builder("_http._tcp.web.svc.local").srv().server(dns.localAddress()).build());
        LinkedBlockingQueue<ResolutionResult> results = new LinkedBlockingQueue<>();
        resolver.subscribe(results::add);
        ResolutionResult r = next(results, 3000);
        assertEquals(List.of("127.0.0.1:8081", "127.0.0.2:8082"), keys(r));
        assertEquals(3, r.upstreams().get(0).weight());

        // A pool follows the name, as it would a Kubernetes headless service.
        UpstreamPool follower = UpstreamPool.builder().name("follower").build();
        keep(follower.follow(resolver));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (follower.snapshot().size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(2, follower.snapshot().size());
    }

    /**
     * RFC 2782: a target of "." means the service is decidedly not available at this domain. A single
     * such record is an answer with no upstreams, kept for the record's TTL; "." is never looked up.
     */
    @Test
    void anSrvTargetOfDotMeansNoUpstreamsAndIsNotLookedUp() throws Exception {
        List<Name> asked = new CopyOnWriteArrayList<>();
        FakeDnsServer server = keep(FakeDnsServer.messages((q, r) -> {
            Name n = q.getQuestion().getName();
            asked.add(n);
            try {
                if (q.getQuestion().getType() == Type.SRV) {
                    r.addRecord(new SRVRecord(n, DClass.IN, 300, 0, 0, 0, Name.root), Section.ANSWER);
                    if (n.toString().startsWith("_mixed.")) {
                        Name target = Name.fromString("a.test.");
                        r.addRecord(new SRVRecord(n, DClass.IN, 300, 0, 0, 8081, target), Section.ANSWER);
                        r.addRecord(new ARecord(target, DClass.IN, 300, InetAddress.getByName("127.0.0.5")),
                                Section.ADDITIONAL);
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }));
        DnsResolver gone = keep(DnsResolver.builder("_http._tcp.gone.test").srv().server(server.address()).build());
        DnsResolver.Lookup l = gone.lookup().get(3, TimeUnit.SECONDS);
        assertTrue(l.result().error().isEmpty(), "an answer, not a failure: " + l.result());
        assertEquals(List.of(), l.result().upstreams());
        assertEquals(300, l.ttlSeconds(), "kept for the SRV record's TTL");
        assertEquals(List.of(Name.fromString("_http._tcp.gone.test.")), asked, "'.' is not looked up");

        // A following pool is emptied: the service is not available.
        UpstreamPool follower = UpstreamPool.builder().add(Upstream.of("127.0.0.1", 8081)).build();
        keep(follower.follow(gone));
        Await.until(() -> follower.snapshot().size() == 0);

        // Among other records (not an RFC 2782 form), a "." target is skipped, never looked up either.
        asked.clear();
        DnsResolver mixed = keep(DnsResolver.builder("_mixed._tcp.test").srv().server(server.address()).build());
        assertEquals(List.of("127.0.0.5:8081"), keys(mixed.lookup().get(3, TimeUnit.SECONDS).result()));
        assertEquals(List.of(Name.fromString("_mixed._tcp.test.")), asked);
    }

    @Test
    void failuresAreToldOnceAndRetried() throws Exception {
        DatagramSocket silent = keep(new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
        DnsResolver resolver = keep(DnsResolver.builder("x.test").server((InetSocketAddress) silent.getLocalSocketAddress())
                .timeout(Duration.ofMillis(200)).minRefresh(Duration.ofMillis(100)).build());
        LinkedBlockingQueue<ResolutionResult> results = new LinkedBlockingQueue<>();
        resolver.subscribe(results::add);
        ResolutionResult r = next(results, 3000);
        assertTrue(r.error().isPresent());
        assertEquals(null, next(results, 700), "the same failure is not told again");
    }

    @Test
    void timeoutsOfBothFamiliesGiveAFailedResult() throws Exception {
        DatagramSocket silent = keep(new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
        DnsResolver resolver = keep(DnsResolver.builder("x.test").mode(DnsResolver.Mode.A_AND_AAAA)
                .server((InetSocketAddress) silent.getLocalSocketAddress()).timeout(Duration.ofMillis(200)).build());
        ResolutionResult r = resolver.lookup().get(3, TimeUnit.SECONDS).result();
        assertTrue(r.error().isPresent(), "both failed: a failure, not an exception");
    }

    @Test
    void nxdomainIsAFailure() throws Exception {
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, seedPool()).start());
        DnsResolver resolver = keep(DnsResolver.builder("nope." + SEED).server(dns.localAddress()).build());
        LinkedBlockingQueue<ResolutionResult> results = new LinkedBlockingQueue<>();
        resolver.subscribe(results::add);
        assertTrue(next(results, 3000).error().orElseThrow().getMessage().contains("NXDOMAIN"));
    }

    @Test
    void bothFamiliesWhenAsked() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", 1).add("::1", 1).build();
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("dual.local", pool).start());
        DnsResolver resolver = keep(DnsResolver.builder("dual.local").mode(DnsResolver.Mode.A_AND_AAAA).port(443)
                .server(dns.localAddress()).build());
        ResolutionResult r = resolver.lookup().get(3, TimeUnit.SECONDS).result();
        assertEquals(List.of("127.0.0.1:443", "[0:0:0:0:0:0:0:1]:443"), keys(r));
    }

    @Test
    void aFamilyWithNoRecordsIsCachedForTheSoaNegativeTtlNotRetriedAtMinRefresh() throws Exception {
        // IPv4 only: AAAA is NODATA with the zone's SOA (RFC 2308), which may be cached for an hour too.
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).negativeTtl(Duration.ofSeconds(3600))
                .name(ServedName.builder(SEED, seedPool()).ttl(Duration.ofSeconds(3600)).build()).start());
        DnsResolver resolver = keep(DnsResolver.builder(SEED).mode(DnsResolver.Mode.A_AND_AAAA).server(dns.localAddress())
                .minRefresh(Duration.ofMillis(50)).build());
        assertEquals(3600, resolver.lookup().get(3, TimeUnit.SECONDS).ttlSeconds());
        LinkedBlockingQueue<ResolutionResult> results = new LinkedBlockingQueue<>();
        resolver.subscribe(results::add);
        assertEquals(2, next(results, 3000).upstreams().size());
        Thread.sleep(1000);
        // The lookup above and the first refresh, each an A and an AAAA query; none 50 ms later.
        long lookups = dns.stats().count(SEED, "NOERROR");
        assertTrue(lookups <= 4, "lookups: " + lookups);
    }

    @Test
    void aFailureAfterAnAnswerKeepsTheLastUpstreamsAsStaleForLaterSubscribersToo() throws Exception {
        DnsBalancer dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, seedPool()).start();
        DnsResolver resolver = keep(DnsResolver.builder(SEED).server(dns.localAddress()).port(8080)
                .timeout(Duration.ofMillis(200)).minRefresh(Duration.ofMillis(100)).build());
        LinkedBlockingQueue<ResolutionResult> results = new LinkedBlockingQueue<>();
        resolver.subscribe(results::add);
        assertEquals(List.of("127.0.0.1:8080", "127.0.0.2:8080"), keys(next(results, 3000)));
        dns.close();
        ResolutionResult outage = next(results, 3000);
        assertTrue(outage.isStale() && outage.error().isEmpty(), "stale, not failed: " + outage);
        assertEquals(List.of("127.0.0.1:8080", "127.0.0.2:8080"), keys(outage));
        assertEquals(null, next(results, 500), "the outage is told once");
        // A pool that starts following during the outage still gets the last known upstreams.
        LinkedBlockingQueue<ResolutionResult> late = new LinkedBlockingQueue<>();
        resolver.subscribe(late::add);
        assertEquals(List.of("127.0.0.1:8080", "127.0.0.2:8080"), keys(next(late, 1000)));
    }
}
