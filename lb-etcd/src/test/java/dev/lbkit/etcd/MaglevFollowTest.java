package dev.lbkit.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.resolve.UpstreamEntry;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.testing.Await;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Three balancers following one etcd prefix with the {@code mh} (Maglev) scheduler agree on the upstream
 * of every key, whatever order each saw the upstreams arrive in; when one of N upstreams leaves, the share
 * of keys that move stays close to Maglev's bound, a little more than 1/N.
 */
class MaglevFollowTest {
    private static final int UPSTREAMS = 10;
    private static final int KEYS = 10_000;

    @Test
    void threeBalancersPickTheSameUpstreamForEveryKey() throws Exception {
        try (EtcdProcess etcd = new EtcdProcess(); Client client = Client.builder().endpoints(etcd.endpoint()).build()) {
            List<EtcdResolver> resolvers = new ArrayList<>();
            List<UpstreamPool> pools = new ArrayList<>();
            try {
                // Balancer A sees the upstreams arrive one by one, in reverse order.
                follow(client, resolvers, pools);
                for (int i = UPSTREAMS - 1; i >= 0; i--) {
                    put(client, i);
                }
                // Balancer B starts once all are there; C sees one more come and go.
                follow(client, resolvers, pools);
                put(client, 99);
                follow(client, resolvers, pools);
                delete(client, 99);
                for (UpstreamPool pool : pools) {
                    Await.until(() -> pool.snapshot().size() == UPSTREAMS);
                }

                String[] before = agreedPicks(pools);

                delete(client, 3);
                for (UpstreamPool pool : pools) {
                    Await.until(() -> pool.snapshot().size() == UPSTREAMS - 1);
                }
                String[] after = agreedPicks(pools);

                int moved = 0;
                int orphaned = 0;
                for (int k = 0; k < KEYS; k++) {
                    if (!before[k].equals(after[k])) {
                        moved++;
                    }
                    if (before[k].equals(key(3))) {
                        orphaned++;
                    }
                }
                double share = (double) moved / KEYS;
                System.out.printf("mh: %d of %d keys moved (%.2f%%) when 1 of %d upstreams left; %d had to%n",
                        moved, KEYS, share * 100, UPSTREAMS, orphaned);
                assertTrue(moved >= orphaned, "every key of the removed upstream moves");
                // Maglev's bound: a little more than 1/N. Measured: 10.34% moved, 10.07% had to, for
                // 1/N = 10%; keys of the remaining upstreams barely move.
                assertTrue(share <= 1.0 / UPSTREAMS + 0.02, "moved share " + share + " above 1/N + 2 points");
                assertTrue(moved - orphaned <= KEYS / 50, (moved - orphaned) + " keys of staying upstreams moved");
            } finally {
                for (EtcdResolver r : resolvers) {
                    r.close();
                }
            }
        }
    }

    /** Picks every key on every pool and checks that they agree; returns the agreed upstream per key. */
    private static String[] agreedPicks(List<UpstreamPool> pools) {
        String[] picks = new String[KEYS];
        PickContext ctx = new PickContext();
        for (int k = 0; k < KEYS; k++) {
            String first = null;
            for (UpstreamPool pool : pools) {
                ctx.reset();
                Member m = pool.pick(ctx.hashKey("client-" + k));
                String chosen = m.upstream().key();
                if (first == null) {
                    first = chosen;
                } else {
                    assertEquals(first, chosen, "key client-" + k + " picked differently by " + pool.name());
                }
            }
            picks[k] = first;
        }
        return picks;
    }

    private static void follow(Client client, List<EtcdResolver> resolvers, List<UpstreamPool> pools) throws Exception {
        EtcdResolver r = EtcdResolver.builder(client, "/mh").coalesceDelay(Duration.ofMillis(10)).build();
        UpstreamPool pool = UpstreamPool.builder().name("balancer-" + (char) ('A' + pools.size())).scheduler("mh").build();
        pool.follow(r);
        r.whenReady().get(5, TimeUnit.SECONDS);
        resolvers.add(r);
        pools.add(pool);
    }

    private static String key(int i) {
        return "127.0.0.1:" + (8000 + i);
    }

    private static void put(Client client, int i) throws Exception {
        client.getKVClient().put(ByteSequence.from("/mh/backend-" + i, UTF_8),
                ByteSequence.from(UpstreamEntry.toJson(Upstream.of("127.0.0.1", 8000 + i)), UTF_8)).get(5, TimeUnit.SECONDS);
        Thread.sleep(30);
    }

    private static void delete(Client client, int i) throws Exception {
        client.getKVClient().delete(ByteSequence.from("/mh/backend-" + i, UTF_8)).get(5, TimeUnit.SECONDS);
    }
}
