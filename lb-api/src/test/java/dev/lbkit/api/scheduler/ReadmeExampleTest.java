package dev.lbkit.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.Outcome;
import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The code of lb-api/README.md, so that the example keeps compiling and does what the text says. */
class ReadmeExampleTest {

    @Test
    void poolExample() throws Exception {
        UpstreamPool pool = UpstreamPool.builder()
                .name("web")
                .scheduler(PersistentScheduler.wrap(Schedulers.get("wlc"), Duration.ofMinutes(5), 24))
                .add(Upstream.parse("127.0.0.1:8081:3"))
                .add(Upstream.of("127.0.0.1", 8082))
                .add(Upstream.builder("127.0.0.1", 8083).backup(true).build())
                .build();

        PickContext ctx = new PickContext();
        Member firstPick = null;
        for (int i = 0; i < 4; i++) {
            ctx.reset().clientAddress(InetAddress.getByName("127.0.0." + (10 + i)));
            Member member = pool.pick(ctx);
            assertNotNull(member);
            // One /24: every client stays where the first went.
            if (firstPick == null) {
                firstPick = member;
            }
            assertSame(firstPick, member);
            member.incrementActive();
            try {
                pool.report(member, Outcome.SUCCESS);
            } finally {
                member.decrementActive();
            }
        }

        pool.weight("127.0.0.1:8082", 2);
        pool.markDown("127.0.0.1:8081", true);
        pool.drain("127.0.0.1:8082");
        assertEquals("127.0.0.1:8083", pool.pick(ctx.reset()).upstream().key());

        UpstreamPool cache = UpstreamPool.builder().scheduler("mh").add("127.0.0.1", 9001).add("127.0.0.1", 9002).build();
        Member m = cache.pick(new PickContext().hashKey("/images/logo.png"));
        for (int i = 0; i < 10; i++) {
            assertSame(m, cache.pick(new PickContext().hashKey("/images/logo.png")));
        }

        Scheduler s = PersistentScheduler.builder(Schedulers.get("rr"))
                .timeout(Duration.ofSeconds(300))
                .ipv4PrefixLength(24)
                .ipv6PrefixLength(64)
                .maxEntries(100_000)
                .expireQuiescentTemplate(false)
                .build();
        assertEquals("rr", s.name());

        UpstreamPool persistent = UpstreamPool.builder().scheduler(s).add("127.0.0.1", 9001).build();
        PickContext held = new PickContext().clientAddress(InetAddress.getByName("127.0.0.10"));
        Member placed = persistent.pick(held);
        Lease lease = held.lease();
        assertNotNull(lease, "a persistent pick is placed by an entry");
        persistent.drain("127.0.0.1:9001");
        assertSame(placed, persistent.pick(new PickContext().clientAddress(InetAddress.getByName("127.0.0.11"))),
                "a drained upstream keeps the clients of its /24");
        if (lease != null) {
            lease.release(persistent.ticker().nanoTime());
        }
        assertEquals("wlc", UpstreamPool.builder().scheduler("wlc:persist=300,persist-v4-prefix=24").build().scheduler().name());
    }
}
