package dev.lbkit.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import io.etcd.jetcd.Client;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An lb-l7 balancer whose pool follows etcd while backends register, leave gracefully (drain, then
 * delete) and crash under load from four clients: no idempotent request fails.
 */
class EtcdL7EndToEndTest {
    private static final int BACKENDS = 5;

    @Test
    void noRequestFailsWhileBackendsRegisterAndLeaveUnderLoad() throws Exception {
        List<TestBackend> backends = new ArrayList<>();
        for (int i = 0; i < BACKENDS; i++) {
            backends.add(TestBackend.start(Script.ok("backend-" + i)));
        }
        EtcdRegistration[] registrations = new EtcdRegistration[BACKENDS];
        try (EtcdProcess etcd = new EtcdProcess(); Client client = Client.builder().endpoints(etcd.endpoint()).build();
                EtcdResolver resolver = EtcdResolver.builder(client, "/e2e").build();
                UpstreamPool pool = UpstreamPool.builder().name("e2e").build()) {
            for (int i = 0; i < 3; i++) {
                registrations[i] = register(client, backends.get(i));
            }
            pool.follow(resolver);
            resolver.whenReady().get(5, TimeUnit.SECONDS);
            Await.until(() -> pool.snapshot().size() == 3);

            HttpBalancer lb = HttpBalancer.builder()
                    .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .route(Route.builder("/").group(UpstreamGroup.of(pool)).build())
                    .build().start();
            try {
                URI uri = URI.create("http://127.0.0.1:" + lb.address().getPort() + "/");
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(2)).build();
                AtomicBoolean running = new AtomicBoolean(true);
                AtomicInteger ok = new AtomicInteger();
                ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
                Map<String, AtomicInteger> served = new ConcurrentHashMap<>();
                List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    Thread t = new Thread(() -> {
                        HttpRequest get = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).GET().build();
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                        while (running.get() && System.nanoTime() < deadline) {
                            try {
                                HttpResponse<String> r = http.send(get, HttpResponse.BodyHandlers.ofString());
                                if (r.statusCode() == 200) {
                                    ok.incrementAndGet();
                                    served.computeIfAbsent(r.body(), b -> new AtomicInteger()).incrementAndGet();
                                } else {
                                    failures.add("status " + r.statusCode());
                                }
                            } catch (Exception e) {
                                failures.add(e.toString());
                            }
                        }
                    }, "e2e-client-" + c);
                    t.start();
                    clients.add(t);
                }

                Thread.sleep(500);
                registrations[3] = register(client, backends.get(3));
                Thread.sleep(500);
                leave(registrations[0], backends.get(0), pool);
                Thread.sleep(300);
                registrations[4] = register(client, backends.get(4));
                Thread.sleep(500);
                leave(registrations[1], backends.get(1), pool);
                Thread.sleep(300);
                // A crash: backend 2 stops serving while still registered; GETs are retried elsewhere
                // (proxy_next_upstream error) until its entry goes.
                backends.get(2).close();
                registrations[2].close();
                Thread.sleep(500);
                running.set(false);
                for (Thread t : clients) {
                    t.join(10_000);
                }

                System.out.printf("e2e: %d requests served, %d failed, by backend %s%n", ok.get(), failures.size(), served);
                assertEquals(List.of(), new ArrayList<>(failures), "no request may fail");
                assertTrue(ok.get() >= 100, "under load: " + ok.get() + " requests");
                assertTrue(served.containsKey("backend-3") && served.containsKey("backend-4"),
                        "backends that registered during the run got traffic: " + served);
                assertEquals(2, pool.snapshot().size());
            } finally {
                lb.stop(Duration.ofSeconds(2));
            }
        } finally {
            for (int i = 3; i < BACKENDS; i++) {
                if (registrations[i] != null) {
                    registrations[i].close();
                }
            }
            for (TestBackend b : backends) {
                b.close();
            }
        }
    }

    private static EtcdRegistration register(Client client, TestBackend backend) {
        return EtcdRegistration.builder(client, "/e2e", Upstream.of("127.0.0.1", backend.port()))
                .ttl(Duration.ofSeconds(2)).drainTime(Duration.ofMillis(300)).register();
    }

    /** Leaves as a service stopping gracefully does: deregister (drain, then delete), then stop serving. */
    private static void leave(EtcdRegistration registration, TestBackend backend, UpstreamPool pool) throws Exception {
        registration.close();
        String key = "127.0.0.1:" + backend.port();
        Await.until(() -> pool.member(key).isEmpty());
        backend.close();
    }
}
