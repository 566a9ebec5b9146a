package dev.lbkit.dns;

import static dev.lbkit.dns.DnsBalancerTest.loopback0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.EchoServer;
import io.netty.channel.Channel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class DnsConnectorTest extends ConnectorFixture {



    /** A port on {@code host} where nothing listens: connections are refused. */
    private static InetSocketAddress refused(String host) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
        }
    }

    /**
     * A listener whose accept queue is full, so that the kernel drops further SYNs and a connect hangs
     * (a black hole on loopback).
     */
    private InetSocketAddress blackHole(String host) throws IOException {
        ServerSocket s = keep(new ServerSocket(0, 1, InetAddress.getByName(host)));
        InetSocketAddress a = new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
        for (int i = 0; i < 3; i++) {
            Socket c = new Socket();
            try {
                c.connect(a, 200);
                keep(c);
            } catch (IOException e) {
                c.close();
            }
        }
        return a;
    }

    private static InetSocketAddress remote(Channel ch) {
        return (InetSocketAddress) ch.remoteAddress();
    }

    @Test
    void triesTheNextAddressWhenOneIsRefusedAsCurlDoes() throws Exception {
        EchoServer echo = keep(EchoServer.start(new InetSocketAddress("127.0.0.2", 0), EchoServer.Mode.ECHO, ""));
        Channel ch = DnsConnector.create().connect(bootstrap, List.of(refused("127.0.0.1"), echo.address()))
                .get(3, TimeUnit.SECONDS);
        assertEquals(echo.address(), remote(ch));
        ch.close();
    }

    @Test
    void aHangingAttemptEndsAfterTheAttemptTimeout() throws Exception {
        InetSocketAddress hole = blackHole("127.0.0.1");
        EchoServer echo = keep(EchoServer.echo());
        long t0 = System.nanoTime();
        Channel ch = DnsConnector.builder().attemptTimeout(Duration.ofMillis(300)).build()
                .connect(bootstrap, List.of(hole, echo.address())).get(5, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(echo.address(), remote(ch));
        assertTrue(ms >= 280 && ms < 2000, "took " + ms + " ms");
        ch.close();
    }

    @Test
    void failsListingEveryAttemptWhenAllFail() throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> DnsConnector.create()
                .connect(bootstrap, List.of(refused("127.0.0.1"), refused("127.0.0.2"))).get(3, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("127.0.0.1") && e.getCause().getMessage().contains("127.0.0.2"),
                e.getCause().getMessage());
    }

    @Test
    void happyEyeballsStartsTheOtherFamilyWithoutWaitingForAHangingAttempt() throws Exception {
        InetSocketAddress hole;
        try {
            hole = blackHole("::1");
        } catch (IOException e) {
            Assumptions.abort("no IPv6 loopback: " + e);
            return;
        }
        EchoServer echo = keep(EchoServer.echo());
        long t0 = System.nanoTime();
        Channel ch = DnsConnector.builder().attemptTimeout(Duration.ofSeconds(5)).attemptDelay(Duration.ofMillis(100))
                .build().connect(bootstrap, List.of(echo.address(), hole)).get(4, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(echo.address(), remote(ch), "the IPv4 attempt won");
        assertTrue(ms >= 90 && ms < 2000, "IPv6 tried first, IPv4 after the 100 ms delay; took " + ms);
        ch.close();
    }

    @Test
    void withoutHappyEyeballsAttemptsAreStrictlySequential() throws Exception {
        InetSocketAddress hole;
        try {
            hole = blackHole("::1");
        } catch (IOException e) {
            Assumptions.abort("no IPv6 loopback: " + e);
            return;
        }
        EchoServer echo = keep(EchoServer.echo());
        long t0 = System.nanoTime();
        Channel ch = DnsConnector.builder().happyEyeballs(false).attemptTimeout(Duration.ofMillis(600))
                .attemptDelay(Duration.ofMillis(100)).build().connect(bootstrap, List.of(hole, echo.address()))
                .get(4, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(echo.address(), remote(ch));
        assertTrue(ms >= 550, "waited for the first attempt's timeout; took " + ms);
        ch.close();
    }

    @Test
    void resolvesANameServedByLbkitAndSkipsTheDeadAddress() throws Exception {
        EchoServer echo = keep(EchoServer.start(new InetSocketAddress("127.0.0.2", 0), EchoServer.Mode.ECHO, ""));
        // The seed: two addresses for the name, one of them with nothing listening on the port.
        UpstreamPool pool = UpstreamPool.builder().add("127.0.0.1", echo.port()).add("127.0.0.2", echo.port()).build();
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress("127.0.0.1", echo.port()));
        } catch (IOException e) {
            Assumptions.abort("port " + echo.port() + " busy on 127.0.0.1");
        }
        DnsBalancer dns = keep(DnsBalancer.builder().listen(loopback0()).ioThreads(1).name("app.local", pool).start());
        DnsConnector connector = DnsConnector.builder().server(dns.localAddress()).build();
        for (int i = 0; i < 4; i++) {
            Channel ch = connector.connect(bootstrap, "app.local", echo.port()).get(3, TimeUnit.SECONDS);
            assertEquals(echo.address(), remote(ch));
            ch.close();
        }
    }

    @Property(tries = 200)
    void sortedAndInterleavedAlternatesFamiliesIpv6FirstAndKeepsEachFamilysOrder(@ForAll @IntRange(max = 6) int v4,
            @ForAll @IntRange(max = 6) int v6) throws Exception {
        List<InetSocketAddress> in = new ArrayList<>();
        for (int i = 0; i < v4; i++) {
            in.add(new InetSocketAddress(InetAddress.getByName("127.0.0." + (i + 1)), 80));
        }
        for (int i = 0; i < v6; i++) {
            in.add(new InetSocketAddress(InetAddress.getByName("2001:db8::" + (i + 1)), 80));
        }
        // Made-up sources (no socket): each address is its own, so the family and rule 10 decide.
        List<InetSocketAddress> out = DnsConnector.interleave(DnsConnector.sort(in, true, d -> Optional.of(d.getAddress())));
        assertEquals(in.size(), out.size());
        int alternating = 2 * Math.min(v4, v6);
        for (int i = 0; i < alternating; i++) {
            assertEquals(i % 2 == 0, out.get(i).getAddress() instanceof java.net.Inet6Address);
        }
        List<InetSocketAddress> fours = out.stream().filter(a -> !(a.getAddress() instanceof java.net.Inet6Address)).toList();
        assertEquals(in.subList(0, v4), fours);
    }
}
