package dev.lbkit.api.resolve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ResolverTest {
    private static final Duration MANUAL = Duration.ofHours(1);

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A lookup the test scripts: the addresses to return, or null to fail. */
    private static final class ScriptedLookup implements SystemResolver.Lookup {
        final AtomicReference<InetAddress[]> answer = new AtomicReference<>();
        final AtomicInteger calls = new AtomicInteger();
        volatile Thread lastThread;

        void answer(String... literals) {
            answer.set(java.util.Arrays.stream(literals).map(ResolverTest::ip).toArray(InetAddress[]::new));
        }

        @Override
        public InetAddress[] lookup(String host) throws UnknownHostException {
            calls.incrementAndGet();
            lastThread = Thread.currentThread();
            InetAddress[] a = answer.get();
            if (a == null) {
                throw new UnknownHostException(host + ": scripted failure");
            }
            return a;
        }
    }

    private static Set<String> keys(List<Upstream> upstreams) {
        return upstreams.stream().map(Upstream::key).collect(Collectors.toSet());
    }

    private static ResolutionResult get(SystemResolver r) throws Exception {
        return r.refresh().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void staticResolverTellsItsListAtOnce() throws Exception {
        StaticResolver r = StaticResolver.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2));
        BlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
        r.subscribe(told::add).close();
        assertEquals(Set.of("127.0.0.1:1", "127.0.0.1:2"), keys(told.remove().upstreams()));
        assertTrue(told.isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StaticResolver.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 1)));
        assertTrue(e.getMessage().contains("127.0.0.1:1"), e.getMessage());
        r.close();
        assertThrows(IllegalStateException.class, () -> r.subscribe(told::add));
    }

    @Test
    void aPoolFollowsAStaticResolver() throws Exception {
        UpstreamPool pool = UpstreamPool.builder().build();
        pool.follow(StaticResolver.of(List.of(Upstream.of("127.0.0.1", 1), Upstream.of("127.0.0.1", 2)))).close();
        assertEquals(2, pool.snapshot().size());
    }

    /** A failure or a stale result keeps the membership; an empty successful result empties the pool. */
    @Test
    void followingKeepsMembersOnFailureAndStalenessButEmptiesOnAnEmptyAnswer() throws Exception {
        UpstreamPool pool = UpstreamPool.of(Upstream.of("127.0.0.1", 1));
        ManualResolver scripted = new ManualResolver();
        pool.follow(scripted);
        scripted.tell(ResolutionResult.failed(new java.io.IOException("store away")));
        assertEquals(1, pool.snapshot().size());
        scripted.tell(ResolutionResult.stale(List.of(Upstream.of("127.0.0.1", 1)), new java.io.IOException("away")));
        assertEquals(1, pool.snapshot().size());
        scripted.tell(ResolutionResult.of(List.of()));
        assertEquals(0, pool.snapshot().size());
    }

    @Test
    void localhostResolvesToLoopbackLiterals() throws Exception {
        try (SystemResolver r = SystemResolver.builder("localhost", 8081).weight(3).interval(MANUAL).build()) {
            ResolutionResult result = get(r);
            assertTrue(result.error().isEmpty(), result.toString());
            assertFalse(result.upstreams().isEmpty());
            for (Upstream u : result.upstreams()) {
                assertTrue(u.address().getAddress().isLoopbackAddress(), u.toString());
                assertFalse(u.key().startsWith("localhost"), "keyed by address: " + u.key());
                assertEquals(8081, u.port());
                assertEquals(3, u.weight());
                assertEquals("localhost", u.name().orElseThrow());
            }
        }
    }

    @Test
    void listenersAreToldOnlyChangesAndFailuresKeepTheLastList() throws Exception {
        ScriptedLookup lookup = new ScriptedLookup();
        lookup.answer("127.0.0.1", "127.0.0.2");
        BlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
        try (SystemResolver r = SystemResolver.builder("app.test", 80).interval(MANUAL).lookup(lookup).build()) {
            r.subscribe(told::add);
            ResolutionResult first = told.poll(10, TimeUnit.SECONDS);
            assertEquals(Set.of("127.0.0.1:80", "127.0.0.2:80"), keys(first.upstreams()));
            assertNotSame(Thread.currentThread(), lookup.lastThread, "lookups run on the resolver's executor");

            lookup.answer("127.0.0.2", "127.0.0.1", "127.0.0.1");
            assertSame(first, get(r), "same addresses in another order, duplicates dropped: no change");
            assertTrue(told.isEmpty());

            lookup.answer("127.0.0.1", "127.0.0.3");
            assertEquals(Set.of("127.0.0.1:80", "127.0.0.3:80"), keys(get(r).upstreams()));
            assertEquals(1, told.size());
            told.clear();

            lookup.answer.set(null);
            ResolutionResult failed = get(r);
            assertTrue(failed.error().orElseThrow().getMessage().contains("scripted failure"));
            get(r);
            assertEquals(1, told.size(), "a failure is told once");
            told.clear();

            lookup.answer("127.0.0.1", "127.0.0.3");
            get(r);
            assertEquals(Set.of("127.0.0.1:80", "127.0.0.3:80"), keys(told.remove().upstreams()));

            BlockingQueue<ResolutionResult> late = new LinkedBlockingQueue<>();
            r.subscribe(late::add);
            assertEquals(2, late.poll(10, TimeUnit.SECONDS).upstreams().size(), "a late subscriber gets the latest");
        }
    }

    @Test
    void subscribingNeverWaitsForTheLookup() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        SystemResolver.Lookup slow = host -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new InetAddress[] {ip("127.0.0.1")};
        };
        BlockingQueue<ResolutionResult> told = new LinkedBlockingQueue<>();
        try (SystemResolver r = SystemResolver.builder("slow.test", 80).interval(MANUAL).lookup(slow).build()) {
            long start = System.nanoTime();
            r.subscribe(told::add);
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1));
            assertNull(told.poll(50, TimeUnit.MILLISECONDS));
            release.countDown();
            assertEquals(1, told.poll(10, TimeUnit.SECONDS).upstreams().size());
        }
    }

    @Test
    void lookupsRepeatEveryIntervalUntilClosed() throws Exception {
        ScriptedLookup lookup = new ScriptedLookup();
        lookup.answer("127.0.0.1");
        SystemResolver r = SystemResolver.builder("app.test", 80).interval(Duration.ofMillis(10)).lookup(lookup).build();
        r.subscribe(result -> { });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (lookup.calls.get() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(lookup.calls.get() >= 3, "lookups: " + lookup.calls.get());
        r.close();
        Thread.sleep(50);
        int after = lookup.calls.get();
        Thread.sleep(100);
        assertEquals(after, lookup.calls.get(), "no lookup after close");
        assertThrows(IllegalStateException.class, () -> r.subscribe(result -> { }));
    }

    /** End to end: the pool's membership follows the resolver, and members keep their identity. */
    @Test
    void aPoolFollowsTheSystemResolverKeepingMembersIdentity() throws Exception {
        ScriptedLookup lookup = new ScriptedLookup();
        lookup.answer("127.0.0.1", "127.0.0.2");
        UpstreamPool pool = UpstreamPool.builder().build();
        try (SystemResolver r = SystemResolver.builder("app.test", 8080).interval(MANUAL).lookup(lookup).build()) {
            AutoCloseable following = pool.follow(r);
            get(r);
            assertEquals(Set.of("127.0.0.1:8080", "127.0.0.2:8080"), keys(pool.snapshot().members().stream()
                    .map(Member::upstream).toList()));
            Member one = pool.member("127.0.0.1:8080").orElseThrow();
            Member two = pool.member("127.0.0.2:8080").orElseThrow();
            one.incrementActive();

            lookup.answer("127.0.0.1", "127.0.0.3");
            get(r);
            assertSame(one, pool.member("127.0.0.1:8080").orElseThrow());
            assertEquals(1, one.active(), "work in flight is undisturbed");
            assertTrue(two.isRemoved());
            assertTrue(pool.member("127.0.0.3:8080").isPresent());

            lookup.answer.set(null);
            get(r);
            assertEquals(2, pool.snapshot().size(), "a failed lookup keeps the last list");
            assertSame(one, pool.member("127.0.0.1:8080").orElseThrow());

            following.close();
            lookup.answer("127.0.0.9");
            get(r);
            assertTrue(pool.member("127.0.0.9:8080").isEmpty(), "no longer following");
        }
    }

    @Test
    void badOptionsAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SystemResolver.builder("app.test", 0));
        assertTrue(e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SystemResolver.builder("app.test", 80).interval(Duration.ZERO));
        assertTrue(e.getMessage().contains("interval"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SystemResolver.builder("app.test", 80).weight(70000));
        assertTrue(e.getMessage().contains("70000"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SystemResolver.builder(" ", 80));
    }
}
