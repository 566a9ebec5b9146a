package dev.lbkit.l7;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.PassiveHealthPolicy;
import dev.lbkit.testing.FakeTicker;
import dev.lbkit.testing.RecordedRequest;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Task 4 of the seed, one-to-one, with real sockets and the seed's own 1 s timeouts:
 *
 * <pre>
 * upstream backend {
 *     server 127.0.0.1:8081 max_fails=7 fail_timeout=10s;
 *     server 127.0.0.1:8082 backup;
 * }
 * server {
 *     listen 127.0.0.1:8888;
 *     location / {
 *         proxy_pass http://backend;
 *         proxy_set_header X-high-load-test 123;
 *         proxy_connect_timeout 1s; proxy_send_timeout 1s; proxy_read_timeout 1s; send_timeout 1s;
 *     }
 * }
 * </pre>
 * (ephemeral ports instead of 8081, 8082, 8888). Only fail_timeout runs on a fake ticker, so that the
 * test need not wait 10 s for backend 1 to be tried again.
 */
class SeedTest {
    static final String PAGE1 = "<h1>Response from Backend Server 1</h1>\n";
    static final String PAGE2 = "<h2>*** Response from Backend Server 2 ***</h2>\n";

    @Test
    void sevenTimeoutsThenStraightToTheBackupUntilFailTimeout() throws Exception {
        FakeTicker ticker = new FakeTicker();
        try (TestBackend backend1 = TestBackend.start(Script.pythonHttpServer(PAGE1));
                TestBackend backend2 = TestBackend.start(Script.pythonHttpServer(PAGE2));
                UpstreamPool pool = UpstreamPool.builder().name("backend").ticker(ticker)
                        .healthPolicy(PassiveHealthPolicy.builder().maxFails(7).failTimeout(Duration.ofSeconds(10))
                                .build())
                        .add(Upstream.of("127.0.0.1", backend1.port()))
                        .add(Upstream.builder("127.0.0.1", backend2.port()).backup(true).build())
                        .build();
                HttpBalancer lb = HttpBalancer.builder()
                        .listen(new InetSocketAddress("127.0.0.1", 0))
                        .route(Route.builder("/")
                                .group(UpstreamGroup.builder(pool).keepAlive(UpstreamKeepAlive.OFF).build())
                                .hostHeader(HostHeader.groupName())
                                .setRequestHeader("X-high-load-test", "123")
                                .build())
                        .timeouts(ProxyTimeouts.builder()
                                .connect(Duration.ofSeconds(1))
                                .send(Duration.ofSeconds(1))
                                .read(Duration.ofSeconds(1))
                                .clientSend(Duration.ofSeconds(1))
                                .build())
                        .build()
                        .start()) {
            HttpResponse<String> first = Fixtures.get(lb, "/");
            assertEquals(200, first.statusCode());
            assertEquals(PAGE1, first.body());
            RecordedRequest seen = backend1.requests().get(0);
            assertEquals("123", seen.header("X-high-load-test").orElseThrow());
            assertEquals("backend", seen.header("Host").orElseThrow());
            assertEquals("close", seen.header("Connection").orElseThrow());

            // Backend 1 now never answers (the seed's "sleep 1000").
            backend1.script(Script.builder().mode(Script.Mode.NEVER_ANSWER).build());
            for (int i = 1; i <= 10; i++) {
                HttpResponse<String> r = Fixtures.get(lb, "/");
                assertEquals(200, r.statusCode(), "request " + i);
                assertEquals(PAGE2, r.body(), "request " + i);
                assertEquals(1 + Math.min(i, 7), backend1.requestCount(), "backend 1 contacts after request " + i);
            }
            assertEquals(10, backend2.requestCount());
            TrafficStats s1 = lb.stats().upstream("backend", "127.0.0.1:" + backend1.port());
            assertEquals(8, s1.requests());
            assertEquals(7, s1.failures());

            // Once fail_timeout has passed, backend 1 gets one request again.
            backend1.script(Script.pythonHttpServer(PAGE1));
            ticker.advance(Duration.ofSeconds(11));
            HttpResponse<String> again = Fixtures.get(lb, "/");
            assertEquals(PAGE1, again.body());
            assertEquals(9, backend1.requestCount());
        }
    }
}
