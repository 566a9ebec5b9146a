package dev.lbkit.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Running;
import dev.lbkit.l4.VirtualServer;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/** {@code --discovery} on the l4 and l7 commands, against a real ZooKeeper server on loopback. */
class DiscoveryOptionTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private static String get(InetSocketAddress a) throws Exception {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://" + Addresses.format(a) + "/"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    @Test
    void l7AndL4FollowTheUpstreamsThatZooKeeperLists() throws Exception {
        InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1,
                Map.of("clientPortAddress", "127.0.0.1"), "127.0.0.1");
        try (TestingServer zk = new TestingServer(spec, true);
                CuratorFramework client = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100));
                TestBackend fixed = TestBackend.start(Script.ok("static"));
                TestBackend discovered = TestBackend.start(Script.ok("discovered"))) {
            client.start();
            client.create().creatingParentsIfNeeded().forPath("/services/web/one", ("{\"name\":\"web\",\"id\":\"one\","
                    + "\"address\":\"127.0.0.1\",\"port\":" + discovered.port() + "}").getBytes(UTF_8));
            String uri = "zk://" + zk.getConnectString() + "/services/web";

            try (Running l7 = new L7Command().start("--listen", "127.0.0.1:0", "--upstream", Addresses.format(fixed.address()),
                    "--backup", "none", "--admin", "none", "--threads", "1", "--discovery", uri)) {
                UpstreamPool pool = l7.part("pool", UpstreamPool.class);
                Await.until(() -> pool.snapshot().size() == 1 && pool.member("127.0.0.1:" + discovered.port()).isPresent());
                assertEquals("discovered", get(l7.address("l7")));
            }

            try (Running l4 = new L4Command().start("--listen", "127.0.0.1:0", "--real", Addresses.format(fixed.address()),
                    "--admin", "none", "--threads", "1", "--discovery", uri)) {
                UpstreamPool pool = l4.part("service", VirtualServer.class).pool();
                Await.until(() -> pool.snapshot().size() == 1 && pool.member("127.0.0.1:" + discovered.port()).isPresent());
                assertEquals("discovered", get(l4.address("l4")));
            }
            assertEquals(0, fixed.requestCount(), "the static upstream was replaced before any request");
        }
    }

    @Test
    void aDiscoveryUriOfAnotherKindIsAUsageError() {
        Cli.UsageException e = assertThrows(Cli.UsageException.class, () -> new L7Command().start("--listen",
                "127.0.0.1:0", "--admin", "none", "--discovery", "http://127.0.0.1:1/web"));
        assertTrue(e.getMessage().contains("--discovery") && e.getMessage().contains("http://127.0.0.1:1/web"), e.getMessage());
        Cli.UsageException e2 = assertThrows(Cli.UsageException.class, () -> new L4Command().start("--listen",
                "127.0.0.1:0", "--admin", "none", "--discovery", "etcd://127.0.0.1:1"));
        assertTrue(e2.getMessage().contains("etcd://127.0.0.1:1"), e2.getMessage());
    }
}
