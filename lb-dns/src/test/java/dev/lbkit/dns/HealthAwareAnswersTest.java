package dev.lbkit.dns;

import static dev.lbkit.dns.DnsBalancerTest.SEED;
import static dev.lbkit.dns.DnsBalancerTest.loopback0;
import static dev.lbkit.dns.DnsBalancerTest.seedPool;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

class HealthAwareAnswersTest {
    private DnsBalancer dns;

    @AfterEach
    void stop() {
        if (dns != null) {
            dns.close();
        }
    }

    @Test
    void unavailableUpstreamsLeaveTheAnswerAndComeBack() throws Exception {
        UpstreamPool pool = seedPool();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, pool).start();
        Dig dig = Dig.udp(dns);
        pool.member("127.0.0.2:8081").orElseThrow().checkDown(true, "connect refused");
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of("127.0.0.1"), Dig.addresses(dig.a(SEED)));
        }
        pool.member("127.0.0.2:8081").orElseThrow().checkDown(false, "connected");
        assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(dig.a(SEED))));
    }

    @Test
    void ejectedAndDrainedUpstreamsAreLeftOutToo() throws Exception {
        UpstreamPool pool = seedPool();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, pool).start();
        pool.member("127.0.0.1:8081").orElseThrow().eject(pool.ticker().nanoTime() + Duration.ofMinutes(1).toNanos(),
                "passive", "7 failures");
        assertEquals(List.of("127.0.0.2"), Dig.addresses(Dig.udp(dns).a(SEED)));
        pool.member("127.0.0.1:8081").orElseThrow().clearEjection("passive", "ok");
        pool.drain("127.0.0.2:8081");
        assertEquals(List.of("127.0.0.1"), Dig.addresses(Dig.udp(dns).a(SEED)));
    }

    @Test
    void anEjectionEndsOnThePoolsOwnTicker() throws Exception {
        dev.lbkit.testing.FakeTicker ticker = new dev.lbkit.testing.FakeTicker();
        UpstreamPool pool = UpstreamPool.builder().ticker(ticker).add("127.0.0.1", 80).add("127.0.0.2", 80).build();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("t.local", pool).start();
        pool.member("127.0.0.2:80").orElseThrow().eject(ticker.nanoTime() + Duration.ofSeconds(10).toNanos(),
                "passive", "failures");
        assertEquals(List.of("127.0.0.1"), Dig.addresses(Dig.udp(dns).a("t.local")));
        ticker.advance(Duration.ofSeconds(10));
        assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(Dig.udp(dns).a("t.local"))));
    }

    @Test
    void backupsAnswerOnlyWhenNoPrimaryIsAvailable() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", 80)
                .add(Upstream.builder("127.0.0.2", 80).backup(true).build()).build();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("b.local", pool).start();
        Dig dig = Dig.udp(dns);
        assertEquals(List.of("127.0.0.1"), Dig.addresses(dig.a("b.local")));
        pool.markDown("127.0.0.1:80", true);
        assertEquals(List.of("127.0.0.2"), Dig.addresses(dig.a("b.local")));
    }

    @Test
    void failOpenAnswersEveryUpstreamWhenNoneIsAvailable() throws Exception {
        UpstreamPool pool = seedPool();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, pool).start();
        pool.snapshot().members().forEach(m -> m.checkDown(true, "down"));
        assertEquals(Set.of("127.0.0.1", "127.0.0.2"), new TreeSet<>(Dig.addresses(Dig.udp(dns).a(SEED))));
    }

    @Test
    void failOpenAnswersThePrimariesAsIfAllWereHealthyAndTheBackupsOnlyWithoutPrimaries() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", 80).add("127.0.0.3", 80)
                .add(Upstream.builder("127.0.0.2", 80).backup(true).build()).build();
        UpstreamPool backupsOnly = UpstreamPool.builder()
                .add(Upstream.builder("127.0.0.4", 80).backup(true).build())
                .add(Upstream.builder("127.0.0.5", 80).backup(true).build()).build();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("b.local", pool)
                .name("c.local", backupsOnly).start();
        pool.snapshot().members().forEach(m -> m.checkDown(true, "down"));
        backupsOnly.snapshot().members().forEach(m -> m.checkDown(true, "down"));
        Dig dig = Dig.udp(dns);
        assertEquals(Set.of("127.0.0.1", "127.0.0.3"), new TreeSet<>(Dig.addresses(dig.a("b.local"))));
        assertEquals(Set.of("127.0.0.4", "127.0.0.5"), new TreeSet<>(Dig.addresses(dig.a("c.local"))));
    }

    @Test
    void failClosedAnswersNoneWhenNoneIsAvailable() throws Exception {
        UpstreamPool pool = seedPool();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1)
                .name(ServedName.builder(SEED, pool).failOpen(false).build()).start();
        pool.snapshot().members().forEach(m -> m.checkDown(true, "down"));
        Message m = Dig.udp(dns).a(SEED);
        assertEquals(Rcode.NOERROR, m.getRcode());
        assertEquals(0, m.getSection(Section.ANSWER).size());
        assertEquals(Type.SOA, m.getSection(Section.AUTHORITY).get(0).getType());
    }

    @Test
    void followsPoolMembershipChanges() throws Exception {
        UpstreamPool pool = seedPool();
        dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).name(SEED, pool).start();
        pool.add(Upstream.of("127.0.0.3", 8081));
        pool.remove("127.0.0.1:8081");
        assertEquals(Set.of("127.0.0.2", "127.0.0.3"), new TreeSet<>(Dig.addresses(Dig.udp(dns).a(SEED))));
    }
}
