package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.scheduler.PickContext;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ActiveHealthPolicyTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** Long enough that only checkNow() runs rounds. */
    private static final Duration MANUAL = Duration.ofHours(1);

    private final ManualTicker ticker = new ManualTicker(1_000);

    private static void round(ActiveHealthPolicy policy) throws Exception {
        policy.checkNow().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, LOOPBACK)) {
            return s.getLocalPort();
        }
    }

    @Test
    void defaultsAreHaproxys() {
        ActiveHealthPolicy p = ActiveHealthPolicy.builder(TcpConnectProbe.create()).build();
        try {
            assertEquals(Duration.ofSeconds(2), p.interval());
            assertEquals(Duration.ofSeconds(1), p.timeout());
            assertEquals(2, p.rise());
            assertEquals(3, p.fall());
            assertEquals(Duration.ZERO, p.jitter());
        } finally {
            p.close();
        }
    }

    /** A real upstream comes and goes: fall=3 failed rounds take it out, rise=2 passed rounds bring it back. */
    @Test
    void riseAndFallFollowARealListener() throws Exception {
        ServerSocket server = new ServerSocket(0, 50, LOOPBACK);
        int port = server.getLocalPort();
        Upstream up = Upstream.of(new InetSocketAddress(LOOPBACK, port));
        Upstream other = Upstream.of(new InetSocketAddress(LOOPBACK, freePort()));
        ActiveHealthPolicy policy = ActiveHealthPolicy.builder(TcpConnectProbe.create()).interval(MANUAL)
                .timeout(Duration.ofSeconds(2)).build();
        UpstreamPool pool = UpstreamPool.builder().ticker(ticker).healthPolicy(policy).add(up).build();
        pool.add(other);
        List<HealthEvent> events = new CopyOnWriteArrayList<>();
        pool.addListener(new PoolListener() {
            @Override
            public void onHealthChange(HealthEvent event) {
                if (event.upstream().equals(up)) {
                    events.add(event);
                }
            }
        });
        Member m = pool.member(up).orElseThrow();
        try {
            assertTrue(policy.status(up).isEmpty(), "no check completed yet");
            assertTrue(m.isAvailable(ticker.nanoTime()), "up before the first check");

            round(policy);
            CheckStatus s = policy.status(up).orElseThrow();
            assertTrue(s.up());
            assertTrue(s.lastResult().healthy());
            assertEquals(4, s.health());
            assertEquals(ticker.nanoTime(), s.checkedAt());
            assertFalse(policy.status(other).orElseThrow().up(), "a new upstream whose first check fails goes down at once");

            server.close();
            ticker.advance(Duration.ofSeconds(2));
            round(policy);
            round(policy);
            assertTrue(m.isAvailable(ticker.nanoTime()), "two failures of fall=3");
            assertEquals(2, policy.status(up).orElseThrow().health());
            round(policy);
            assertFalse(m.isAvailable(ticker.nanoTime()));
            assertTrue(m.isCheckDown());
            CheckStatus down = policy.status(up).orElseThrow();
            assertFalse(down.up());
            assertTrue(down.lastResult().detail().toLowerCase().contains("refused"), down.toString());
            assertEquals(4, down.checks());
            assertEquals(1, events.size());
            assertFalse(events.get(0).available());
            assertEquals("active", events.get(0).source());
            assertNull(pool.pick(new PickContext()), "pickers skip both checked-down upstreams");
        } finally {
            server.close();
        }
        try (ServerSocket again = new ServerSocket()) {
            again.setReuseAddress(true);
            again.bind(new InetSocketAddress(LOOPBACK, port));
            round(policy);
            assertFalse(m.isAvailable(ticker.nanoTime()), "one pass of rise=2");
            round(policy);
            assertTrue(m.isAvailable(ticker.nanoTime()));
            assertEquals(2, events.size());
            assertTrue(events.get(1).available());
        } finally {
            pool.close();
        }
        assertFalse(pool.member(other).orElseThrow().isCheckDown(), "closing lifts the verdicts it set");
    }

    @Test
    void aProbeThatNeverAnswersFailsAfterTheTimeoutAndIsNotStartedTwice() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        HealthProbe silent = (u, t) -> {
            calls.incrementAndGet();
            return new CompletableFuture<>();
        };
        ActiveHealthPolicy policy = ActiveHealthPolicy.builder(silent).interval(MANUAL).timeout(Duration.ofMillis(200))
                .fall(1).build();
        UpstreamPool pool = UpstreamPool.builder().ticker(ticker).healthPolicy(policy)
                .add("127.0.0.1", 1).add("127.0.0.1", 2).build();
        try {
            long start = System.nanoTime();
            CompletableFuture<Void> first = policy.checkNow().toCompletableFuture();
            policy.checkNow().toCompletableFuture().get(1, TimeUnit.SECONDS); // nothing new to start
            assertEquals(2, calls.get());
            first.get(10, TimeUnit.SECONDS);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(took.compareTo(Duration.ofMillis(200)) >= 0, "took " + took);
            CheckStatus s = policy.status(Upstream.of("127.0.0.1", 1)).orElseThrow();
            assertFalse(s.up());
            assertTrue(s.lastResult().detail().contains("no answer within PT0.2S"), s.toString());
            round(policy);
            assertEquals(4, calls.get(), "the timed-out probe no longer counts as in flight");
        } finally {
            pool.close();
        }
    }

    @Test
    void aThrowingOrFailingProbeCountsAsAFailedCheck() throws Exception {
        HealthProbe throwing = (u, t) -> {
            if (u.port() == 1) {
                throw new IllegalStateException("boom");
            }
            return CompletableFuture.failedFuture(new IOException("bad"));
        };
        ActiveHealthPolicy policy = ActiveHealthPolicy.builder(throwing).interval(MANUAL).build();
        UpstreamPool pool = UpstreamPool.builder().ticker(ticker).healthPolicy(policy)
                .add("127.0.0.1", 1).add("127.0.0.1", 2).build();
        try {
            round(policy);
            assertEquals("IllegalStateException: boom",
                    policy.status(Upstream.of("127.0.0.1", 1)).orElseThrow().lastResult().detail());
            assertEquals("IOException: bad", policy.status(Upstream.of("127.0.0.1", 2)).orElseThrow().lastResult().detail());
            assertTrue(pool.snapshot().members().stream().allMatch(Member::isCheckDown));
        } finally {
            pool.close();
        }
    }

    @Test
    void roundsRunByThemselvesEveryIntervalUntilClosed() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        HealthProbe counting = (u, t) -> {
            calls.incrementAndGet();
            return CompletableFuture.completedFuture(ProbeResult.healthy(Duration.ZERO, "ok"));
        };
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            ActiveHealthPolicy policy = ActiveHealthPolicy.builder(counting).interval(Duration.ofMillis(20))
                    .jitter(Duration.ofMillis(5)).executor(executor).build();
            UpstreamPool pool = UpstreamPool.builder().healthPolicy(policy).add("127.0.0.1", 1).build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (calls.get() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(calls.get() >= 3, "rounds ran: " + calls.get());
            pool.close();
            int after = executor.submit(calls::get).get(5, TimeUnit.SECONDS);
            Thread.sleep(100);
            assertEquals(after, calls.get(), "no round after close");
            assertFalse(executor.isShutdown(), "the application's executor stays the application's");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void removedUpstreamsAreNoLongerChecked() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        HealthProbe counting = (u, t) -> {
            calls.incrementAndGet();
            return CompletableFuture.completedFuture(ProbeResult.healthy(Duration.ZERO, "ok"));
        };
        ActiveHealthPolicy policy = ActiveHealthPolicy.builder(counting).interval(MANUAL).build();
        UpstreamPool pool = UpstreamPool.builder().healthPolicy(policy).add("127.0.0.1", 1).add("127.0.0.1", 2).build();
        try {
            Member gone = pool.member("127.0.0.1:2").orElseThrow();
            round(policy);
            pool.remove("127.0.0.1:2");
            round(policy);
            assertEquals(3, calls.get());
            assertTrue(policy.status(gone).isEmpty());
            pool.add(Upstream.of("127.0.0.1", 2));
            assertNotSame(gone, pool.member("127.0.0.1:2").orElseThrow());
            assertTrue(policy.status(Upstream.of("127.0.0.1", 2)).isEmpty(), "a new member starts afresh");
        } finally {
            pool.close();
        }
    }

    @Test
    void badOptionsAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ActiveHealthPolicy.builder(TcpConnectProbe.create()).rise(0));
        assertTrue(e.getMessage().contains("rise"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ActiveHealthPolicy.builder(TcpConnectProbe.create()).timeout(Duration.ofMillis(-1)));
        assertTrue(e.getMessage().contains("PT-0.001S"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ActiveHealthPolicy.builder(TcpConnectProbe.create())
                .interval(Duration.ofSeconds(1)).jitter(Duration.ofSeconds(1)).build());
        assertTrue(e.getMessage().contains("jitter"), e.getMessage());
        assertThrows(NullPointerException.class, () -> ActiveHealthPolicy.builder(null));
    }
}
