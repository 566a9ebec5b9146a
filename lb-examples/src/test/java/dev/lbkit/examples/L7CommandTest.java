package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Running;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.TestBackend;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class L7CommandTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private static HttpResponse<String> get(InetSocketAddress a, String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://" + Addresses.format(a) + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theSeedsSlowBackendExperiment() throws Exception {
        try (Running backends = new BackendsCommand().start("--ports", "0,0")) {
            InetSocketAddress b1 = backends.address("backend-1");
            InetSocketAddress b2 = backends.address("backend-2");
            TestBackend backend1 = backends.part("backend-1", TestBackend.class);
            TestBackend backend2 = backends.part("backend-2", TestBackend.class);
            try (Running l7 = new L7Command().start("--listen", "127.0.0.1:0", "--upstream", Addresses.format(b1),
                    "--backup", Addresses.format(b2), "--admin", "127.0.0.1:0", "--threads", "1")) {
                InetSocketAddress lb = l7.address("l7");

                // A request reaches backend 1 with the extra header; the client gets backend 1's page.
                HttpResponse<String> first = get(lb, "/");
                assertEquals(200, first.statusCode());
                assertEquals(Seed.PAGE_1, first.body());
                assertEquals(1, backend1.requestCount());
                RecordedRequest seen = backend1.requests().get(0);
                assertEquals("123", seen.header("X-high-load-test").orElseThrow());
                assertEquals("backend", seen.header("Host").orElseThrow());
                assertEquals(0, backend2.requestCount());

                // Backend 1 is replaced by a server that sleeps 1000 s before answering.
                backend1.script(SlowBackendCommand.slowScript(Duration.ofSeconds(1000)));
                backend1.clear();
                int[] tried = new int[10];
                for (int i = 0; i < 10; i++) {
                    int before = backend1.requestCount();
                    HttpResponse<String> r = get(lb, "/");
                    assertEquals(200, r.statusCode(), "request " + (i + 1));
                    assertEquals(Seed.PAGE_2, r.body(), "request " + (i + 1));
                    tried[i] = backend1.requestCount() - before;
                }
                // The first seven go to backend 1, time out after 1 s and are retried on the backup;
                // from the eighth on backend 1 (7 failures within fail_timeout) is not contacted at all.
                assertEquals("[1, 1, 1, 1, 1, 1, 1, 0, 0, 0]", java.util.Arrays.toString(tried));
                assertEquals(7, backend1.requestCount());
                assertEquals(10, backend2.requestCount());
                assertEquals("123", backend2.requests().get(9).header("X-high-load-test").orElseThrow());

                String json = AdminClient.get(l7, "/stats");
                assertTrue(json.contains("\"upstream\":\"" + Addresses.format(b1) + "\""), json);
                assertTrue(json.contains("\"backup\":true"), json);
                assertTrue(json.contains("\"available\":false"), json);
            }
        }
    }

    @Test
    void servesTheStatsPageAndTheRuntimeApiWithAToken() throws Exception {
        try (Running backends = new BackendsCommand().start("--ports", "0,0")) {
            InetSocketAddress b1 = backends.address("backend-1");
            InetSocketAddress b2 = backends.address("backend-2");
            try (Running l7 = new L7Command().start("--listen", "127.0.0.1:0", "--upstream", Addresses.format(b1),
                    "--upstream", Addresses.format(b2), "--backup", "none", "--admin", "127.0.0.1:0",
                    "--admin-token", "s3cret", "--threads", "1");
                    Running readOnly = new L7Command().start("--listen", "127.0.0.1:0", "--upstream", Addresses.format(b1),
                            "--admin", "127.0.0.1:0", "--threads", "1")) {
                InetSocketAddress lb = l7.address("l7");
                for (int i = 0; i < 4; i++) {
                    assertEquals(200, get(lb, "/").statusCode());
                }
                assertTrue(AdminClient.get(l7, "/").contains("lbkit stats"), "the stats page");
                String state = AdminClient.get(l7, "/api/v1/pools/backend");
                assertTrue(state.contains("\"requests\":2"), state);

                String drain = "http://" + Addresses.format(l7.address("admin")) + "/api/v1/pools/backend/upstreams/"
                        + Addresses.format(b1) + "/drain";
                HttpResponse<String> noToken = CLIENT.send(HttpRequest.newBuilder(URI.create(drain))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(401, noToken.statusCode());
                HttpResponse<String> drained = CLIENT.send(HttpRequest.newBuilder(URI.create(drain))
                        .header("Authorization", "Bearer s3cret").POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, drained.statusCode(), drained.body());
                assertTrue(drained.body().contains("\"state\":\"draining\""), drained.body());
                for (int i = 0; i < 4; i++) {
                    assertEquals(Seed.PAGE_2, get(lb, "/").body(), "the drained backend gets no new request");
                }

                String readOnlyDrain = "http://" + Addresses.format(readOnly.address("admin"))
                        + "/api/v1/pools/backend/upstreams/" + Addresses.format(b1) + "/drain";
                assertEquals(403, CLIENT.send(HttpRequest.newBuilder(URI.create(readOnlyDrain))
                        .header("Authorization", "Bearer s3cret").POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode(), "without --admin-token the API is read-only");
            }
        }
    }

    @Test
    void optionsChangeTheConfigurationAndBadValuesAreUsageErrors() throws Exception {
        try (TestBackend b = TestBackend.start(dev.lbkit.testing.Script.ok("ok"));
                Running l7 = new L7Command().start("--listen", "127.0.0.1:0", "--upstream", Addresses.format(b.address()),
                        "--backup", "none", "--set-header", "X-One: 1", "--set-header", "X-Two: two words",
                        "--admin", "none", "--threads", "1")) {
            HttpResponse<String> r = get(l7.address("l7"), "/path?q=1");
            assertEquals(200, r.statusCode());
            assertEquals("ok", r.body());
            RecordedRequest seen = b.requests().get(0);
            assertEquals("1", seen.header("X-One").orElseThrow());
            assertEquals("two words", seen.header("X-Two").orElseThrow());
            assertTrue(seen.header("X-high-load-test").isEmpty());
            assertEquals("/path?q=1", seen.target());
            assertEquals(1, l7.addresses().size(), "--admin none starts no admin endpoint");
        }
        org.junit.jupiter.api.Assertions.assertThrows(dev.lbkit.examples.support.Cli.UsageException.class,
                () -> new L7Command().start("--set-header", "no-colon"));
        org.junit.jupiter.api.Assertions.assertThrows(dev.lbkit.examples.support.Cli.UsageException.class,
                () -> new L7Command().start("--read-timeout", "0s", "--listen", "127.0.0.1:0", "--admin", "none"));
        org.junit.jupiter.api.Assertions.assertThrows(dev.lbkit.examples.support.Cli.UsageException.class,
                () -> new L7Command().start("--max-fails", "-1"));
    }
}
