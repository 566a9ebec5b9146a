package dev.lbkit.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.dns.internal.SourceLookup;
import dev.lbkit.testing.BlackHole;
import dev.lbkit.testing.EchoServer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * RFC 8305 in {@link DnsConnector#connect(Bootstrap, String, int)}: the AAAA and A answers are scripted
 * (which family answers when) and the connections go to echo servers on ::1 and 127.0.0.1 listening on
 * the same port, so the address connected to shows which family won and when.
 */
class HappyEyeballsTest extends ConnectorFixture {
    private static final InetAddress V6;
    private static final InetAddress V4;

    static {
        try {
            V6 = InetAddress.getByName("::1");
            V4 = InetAddress.getByName("127.0.0.1");
        } catch (UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private int port;

    @BeforeEach
    void startEchoServers() throws IOException {
        // One port on both loopbacks; a few tries, since the port chosen on 127.0.0.1 may be taken on ::1.
        for (int i = 0; i < 10 && port == 0; i++) {
            EchoServer v4 = keep(EchoServer.start(new InetSocketAddress(V4, 0), EchoServer.Mode.ECHO, ""));
            try {
                keep(EchoServer.start(new InetSocketAddress(V6, v4.port()), EchoServer.Mode.ECHO, ""));
                port = v4.port();
            } catch (RuntimeException e) {
                if (i == 9) {
                    Assumptions.abort("no IPv6 loopback, or no common port: " + e);
                }
            }
        }
    }


    /** Answers AAAA with {@code v6} after {@code v6Ms} and A with {@code v4} after {@code v4Ms}. */
    private static DnsConnector.AddressLookup scripted(long v6Ms, List<InetAddress> v6, long v4Ms, List<InetAddress> v4) {
        return (host, ipv6) -> CompletableFuture.supplyAsync(() -> ipv6 ? v6 : v4,
                CompletableFuture.delayedExecutor(ipv6 ? v6Ms : v4Ms, TimeUnit.MILLISECONDS));
    }

    private static InetAddress remote(Channel ch) {
        return ((InetSocketAddress) ch.remoteAddress()).getAddress();
    }

    private static long since(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void whenAAnswersFirstAaaaIsAwaitedForTheResolutionDelay() throws Exception {
        DnsConnector c = DnsConnector.builder().lookup(scripted(30, List.of(V6), 0, List.of(V4))).build();
        long t0 = System.nanoTime();
        Channel ch = c.connect(bootstrap, "dual.test", port).get(3, TimeUnit.SECONDS);
        long ms = since(t0);
        assertEquals(V6, remote(ch), "AAAA came within the default 50 ms: IPv6 first");
        assertTrue(ms >= 25, "waited for AAAA; took " + ms + " ms");
        ch.close();
    }

    @Test
    void whenAaaaIsLaterThanTheResolutionDelayIpv4StartsAfterIt() throws Exception {
        DnsConnector c = DnsConnector.builder().resolutionDelay(Duration.ofMillis(150))
                .lookup(scripted(1500, List.of(V6), 0, List.of(V4))).build();
        long t0 = System.nanoTime();
        Channel ch = c.connect(bootstrap, "dual.test", port).get(3, TimeUnit.SECONDS);
        long ms = since(t0);
        assertEquals(V4, remote(ch));
        assertTrue(ms >= 140 && ms < 1200, "started after the 150 ms resolution delay, not AAAA's 1.5 s; took " + ms);
        ch.close();
    }

    @Test
    void whenAaaaAnswersFirstTheAttemptsStartAtOnce() throws Exception {
        DnsConnector c = DnsConnector.builder().lookup(scripted(0, List.of(V6), 1500, List.of(V4))).build();
        long t0 = System.nanoTime();
        Channel ch = c.connect(bootstrap, "dual.test", port).get(3, TimeUnit.SECONDS);
        long ms = since(t0);
        assertEquals(V6, remote(ch));
        assertTrue(ms < 1000, "did not wait for A; took " + ms);
        ch.close();
    }

    @Test
    void preferIpv4PutsIpv4FirstAndAwaitsAForTheResolutionDelay() throws Exception {
        DnsConnector c = DnsConnector.builder().preferIpv6(false).lookup(scripted(0, List.of(V6), 30, List.of(V4))).build();
        Channel ch = c.connect(bootstrap, "dual.test", port).get(3, TimeUnit.SECONDS);
        assertEquals(V4, remote(ch));
        ch.close();
    }

    @Test
    void anAAnswerAfterTheStartJoinsTheRaceAfterTheAttemptDelay() throws Exception {
        // The IPv6 address is a black hole (full accept queue on another port), so only IPv4 can win.
        // One port on both loopbacks, as in startEchoServers: the port chosen on ::1 may be taken on 127.0.0.1.
        EchoServer v4 = null;
        for (int i = 0; i < 10 && v4 == null; i++) {
            BlackHole full = keep(BlackHole.start(new InetSocketAddress(V6, 0)));
            try {
                v4 = keep(EchoServer.start(new InetSocketAddress(V4, full.port()), EchoServer.Mode.ECHO, ""));
            } catch (RuntimeException busy) {
                full.close();
                if (i == 9) {
                    throw busy;
                }
            }
        }
        DnsConnector c = DnsConnector.builder().attemptDelay(Duration.ofMillis(300)).attemptTimeout(Duration.ofSeconds(5))
                .lookup(scripted(0, List.of(V6), 100, List.of(V4))).build();
        long t0 = System.nanoTime();
        Channel ch = c.connect(bootstrap, "dual.test", v4.port()).get(4, TimeUnit.SECONDS);
        long ms = since(t0);
        assertEquals(V4, remote(ch));
        assertTrue(ms >= 280 && ms < 2500, "IPv4 started one attempt delay after IPv6; took " + ms);
        ch.close();
    }

    @Test
    void failsNamingBothLookupsWhenNeitherFindsAnAddress() {
        DnsConnector c = DnsConnector.builder().lookup((host, ipv6) -> ipv6
                ? CompletableFuture.failedFuture(new IOException("no AAAA here"))
                : CompletableFuture.completedFuture(List.of())).build();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> c.connect(bootstrap, "none.test", port).get(3, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("no address found")
                && e.getCause().getMessage().contains("no AAAA here"), e.getCause().getMessage());
    }

    @Test
    void aSilentServerFailsTheLookupAfterTheLookupTimeout() throws Exception {
        DatagramSocket silent = keep(new DatagramSocket(new InetSocketAddress(V4, 0)));
        DnsConnector c = DnsConnector.builder().lookupTimeout(Duration.ofMillis(300))
                .server((InetSocketAddress) silent.getLocalSocketAddress()).build();
        long t0 = System.nanoTime();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> c.connect(bootstrap, "silent.test", port).get(5, TimeUnit.SECONDS));
        long ms = since(t0);
        assertTrue(ms >= 250 && ms < 1800, "failed after the 300 ms lookup timeout, not the 2 s default; took " + ms);
        assertTrue(e.getCause().getMessage().contains("lookup"), e.getCause().getMessage());
    }

    @Test
    void theBuilderEnforcesRfc8305sBounds() {
        DnsConnector.Builder b = DnsConnector.builder();
        assertThrows(IllegalArgumentException.class, () -> b.attemptDelay(Duration.ofMillis(99)));
        assertThrows(IllegalArgumentException.class, () -> b.attemptDelay(Duration.ofMillis(2001)));
        b.attemptDelay(Duration.ofMillis(100)).attemptDelay(Duration.ofSeconds(2));
        assertThrows(IllegalArgumentException.class, () -> b.resolutionDelay(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.resolutionDelay(Duration.ofMillis(2001)));
        b.resolutionDelay(Duration.ZERO).build();
    }

    @Test
    void sortFollowsRfc6724sPrecedenceAndScope() throws Exception {
        // Each address is its own source: scope and label always match, so precedence and scope decide.
        SourceLookup self = d -> Optional.of(d.getAddress());
        List<InetSocketAddress> in = addresses("fc00::1", "127.0.0.1", "2002::1", "2001:db8::1", "fe80::1", "::1", "10.0.0.1");
        assertEquals(addresses("::1", "fe80::1", "2001:db8::1", "127.0.0.1", "10.0.0.1", "2002::1", "fc00::1"),
                DnsConnector.sort(in, true, self));
        assertEquals(addresses("127.0.0.1", "10.0.0.1", "::1", "fe80::1", "2001:db8::1", "2002::1", "fc00::1"),
                DnsConnector.sort(in, false, self));
    }

    @Test
    void interleaveStartsWithTheBestAddresssFamily() throws Exception {
        assertEquals(addresses("127.0.0.1", "::1", "10.0.0.1", "2001:db8::1", "10.0.0.2"),
                DnsConnector.interleave(addresses("127.0.0.1", "10.0.0.1", "10.0.0.2", "::1", "2001:db8::1")));
    }

    private static List<InetSocketAddress> addresses(String... hosts) throws UnknownHostException {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String h : hosts) {
            out.add(new InetSocketAddress(InetAddress.getByName(h), 80));
        }
        return out;
    }
}
