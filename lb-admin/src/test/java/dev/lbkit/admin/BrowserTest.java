package dev.lbkit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.ActiveHealthPolicy;
import dev.lbkit.api.health.TcpConnectProbe;
import dev.lbkit.api.resolve.StaticResolver;
import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The stats page in a real browser: headless Chromium loads it and the rendered DOM is checked. */
class BrowserTest {
    private static final Pattern ROW = Pattern.compile("<tr class=\"upstream\" data-key=\"([^\"]+)\" data-state=\"([^\"]+)\"");

    static List<String[]> rows(String dom) {
        List<String[]> out = new ArrayList<>();
        Matcher m = ROW.matcher(dom);
        while (m.find()) {
            out.add(new String[] {m.group(1), m.group(2)});
        }
        return out;
    }

    private static long requests(String dom) {
        Matcher m = Pattern.compile("data-requests=\"(\\d+)\"").matcher(dom);
        long n = 0;
        while (m.find()) {
            n += Long.parseLong(m.group(1));
        }
        return n;
    }

    private static String stateOf(String dom, String key) {
        for (String[] r : rows(dom)) {
            if (r[0].equals(key)) {
                return r[1];
            }
        }
        throw new AssertionError("no row for " + key);
    }

    @Test
    void showsEveryUpstreamGrowingCountersAndADrainWhileTrafficFlows() throws Exception {
        Chromium.requireInstalled();
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        ActiveHealthPolicy checks = ActiveHealthPolicy.builder(TcpConnectProbe.create()).interval(Duration.ofHours(1))
                .fall(1).build();
        try (TestBackend a = TestBackend.start(Script.ok("<h1>Response from Backend Server 1</h1>\n"));
                TestBackend b = TestBackend.start(Script.ok("<h2>*** Response from Backend Server 2 ***</h2>\n"));
                TestBackend c = TestBackend.start(Script.ok("backend 3"));
                TestBackend spare = TestBackend.start(Script.ok("backup"));
                ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int deadPort = closed.getLocalPort();
            closed.close();
            try (UpstreamPool pool = UpstreamPool.builder().name("web").scheduler("wrr").healthPolicy(checks)
                            .add(Upstream.builder("127.0.0.1", a.port()).weight(3).name("backend-1").build())
                            .add(Upstream.builder("127.0.0.1", b.port()).weight(2).name("backend-2").build())
                            .add(Upstream.builder("127.0.0.1", c.port()).name("backend-3").build())
                            .add(Upstream.builder("127.0.0.1", deadPort).name("backend-4").build())
                            .add(Upstream.builder("127.0.0.1", spare.port()).backup(true).name("spare").build()).build();
                    HttpBalancer lb = HttpBalancer.builder().listen(loopback).eventLoops(1)
                            .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start();
                    AdminServer admin = AdminServer.builder().listen(loopback).token("browser-test-token")
                            .http("edge", lb).build().start()) {
                checks.checkNow().toCompletableFuture().get();
                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger sent = new AtomicInteger();
                CompletableFuture<Void> traffic = CompletableFuture.runAsync(() -> {
                    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (!stop.get() && System.nanoTime() - end < 0) {
                        try {
                            client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lb.address().getPort() + "/"))
                                    .build(), HttpResponse.BodyHandlers.discarding());
                            sent.incrementAndGet();
                            Thread.sleep(2);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                });
                try {
                    while (sent.get() < 20) {
                        Thread.sleep(10);
                    }
                    String first = Chromium.dumpDom(admin.url());
                    List<String[]> rows = rows(first);
                    assertEquals(5, rows.size(), "one row per upstream");
                    assertEquals("down", stateOf(first, "127.0.0.1:" + deadPort), "the failed check shows");
                    assertEquals("backup", stateOf(first, "127.0.0.1:" + spare.port()));
                    assertTrue(first.contains("L4OK") && first.contains("L4FAIL"), "last check results");
                    long before = requests(first);
                    assertTrue(before >= 20, "requests counted: " + before);
                    int target = sent.get() + 50;
                    while (sent.get() < target) {
                        Thread.sleep(10);
                    }
                    String second = Chromium.dumpDom(admin.url());
                    long after = requests(second);
                    assertTrue(after > before, "counters grow between two loads: " + before + " then " + after);

                    String key = "127.0.0.1:" + b.port();
                    assertEquals(200, new AdminClient(admin).post("/api/v1/pools/web/upstreams/" + key + "/drain",
                            "browser-test-token", null).statusCode());
                    String third = Chromium.dumpDom(admin.url());
                    assertEquals("draining", stateOf(third, key), "the drained upstream shows as draining");
                    Path png = Path.of("target", "stats-page.png");
                    Chromium.screenshot(admin.url(), png, 1400, 420);
                    assertTrue(Files.size(png) > 10_000, "a real picture");
                } finally {
                    stop.set(true);
                    traffic.get();
                }
            }
        }
    }

    @Test
    void showsWhatTheOperatorOverridesOnAPoolThatFollowsAStore() {
        Chromium.requireInstalled();
        UpstreamPool followed = UpstreamPool.builder().name("followed").build();
        followed.follow(StaticResolver.of(Upstream.builder("127.0.0.1", 8081).weight(3).build(), Upstream.of("127.0.0.1", 8082),
                Upstream.of("127.0.0.1", 8083)));
        followed.drain("127.0.0.1:8081");
        followed.remove("127.0.0.1:8083");
        followed.add(Upstream.of("127.0.0.1", 8090));
        try (AdminServer admin = AdminServer.builder().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .pool(followed).build().start()) {
            String dom = Chromium.dumpDom(admin.url());
            assertEquals(3, rows(dom).size());
            assertTrue(dom.contains("follows a store"), "the pool says it follows a store");
            assertTrue(dom.contains("title=\"operator override; store weight 3\">weight set by operator"), dom);
            assertTrue(dom.contains("title=\"operator override; not in the store\">added by operator"), dom);
            assertTrue(dom.contains("removed by operator: 127.0.0.1:8083"), "the upstream kept out is named");
        }
    }

    @Test
    void rendersAThousandUpstreamRows() {
        Chromium.requireInstalled();
        UpstreamPool big = UpstreamPool.builder().name("big").build();
        for (int i = 0; i < 1000; i++) {
            big.add(Upstream.of("127.0." + (i / 250) + "." + (1 + i % 250), 8000 + i));
        }
        try (AdminServer admin = AdminServer.builder().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .pool(big).build().start()) {
            long t0 = System.nanoTime();
            String dom = Chromium.dumpDom(admin.url());
            long millis = (System.nanoTime() - t0) / 1_000_000;
            List<String[]> rows = rows(dom);
            assertEquals(1000, rows.size(), "rendered rows");
            assertEquals("127.0.0.1:8000", rows.get(0)[0]);
            assertEquals("127.0.3.250:8999", rows.get(999)[0]);
            assertTrue(dom.contains("1000/1000 upstreams available"), "header totals");
            System.out.println("chromium rendered 1,000 upstream rows in " + millis + " ms (process included)");
            Chromium.screenshot(admin.url(), Path.of("target", "stats-page-1000.png"), 1400, 900);
        }
    }
}
