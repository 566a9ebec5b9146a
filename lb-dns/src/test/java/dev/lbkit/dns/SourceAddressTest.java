package dev.lbkit.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.dns.internal.SourceLookup;
import dev.lbkit.testing.EchoServer;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The source addresses behind DnsConnector's RFC 6724 sort: the real UDP-connect lookup on loopback only,
 * and the connector with made-up sources (which open no socket) around real loopback connections.
 */
class SourceAddressTest extends ConnectorFixture {



    private static boolean ipv6Loopback() {
        try (DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET6)) {
            ch.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static InetAddress remote(Channel ch) {
        return ((InetSocketAddress) ch.remoteAddress()).getAddress();
    }

    @Test
    void theUdpConnectLookupFindsALoopbackSourceAndTheConnectorConnects() throws Exception {
        EchoServer v4 = keep(EchoServer.start(new InetSocketAddress("127.0.0.1", 0), EchoServer.Mode.ECHO, ""));
        Optional<InetAddress> source = SourceLookup.system().source(v4.address());
        assertTrue(source.isPresent() && source.get().isLoopbackAddress(), "source " + source);
        Optional<InetAddress> other = SourceLookup.system().source(new InetSocketAddress("127.0.0.2", v4.port()));
        assertTrue(other.isPresent() && other.get().isLoopbackAddress(), "source " + other);
        List<InetSocketAddress> targets = new ArrayList<>(List.of(v4.address()));
        if (ipv6Loopback()) {
            InetSocketAddress v6 = keep(EchoServer.start(new InetSocketAddress("::1", 0), EchoServer.Mode.ECHO, "")).address();
            assertEquals(Optional.of(InetAddress.getByName("::1")), SourceLookup.system().source(v6));
            targets.add(v6);
            // ::1 from ::1: scope and label match, precedence 50 over IPv4's 35.
            assertEquals(List.of(v6, v4.address()), DnsConnector.sort(targets, true));
        }
        Channel ch = DnsConnector.create().connect(bootstrap, targets).get(3, TimeUnit.SECONDS);
        assertEquals(DnsConnector.sort(targets, true).get(0).getAddress(), remote(ch), "the best address connected first");
        ch.close();
    }

    @Test
    void anAddressWithoutARouteIsTriedAfterTheUsableOnes() throws Exception {
        EchoServer first = keep(EchoServer.start(new InetSocketAddress("127.0.0.2", 0), EchoServer.Mode.ECHO, ""));
        EchoServer second = keep(EchoServer.start(new InetSocketAddress("127.0.0.3", 0), EchoServer.Mode.ECHO, ""));
        // Made up: 127.0.0.2 has no route. Both listen, so the address connected to shows the order tried.
        SourceLookup made = d -> d.equals(first.address()) ? Optional.empty() : Optional.of(d.getAddress());
        Channel ch = DnsConnector.builder().sourceLookup(made).build()
                .connect(bootstrap, List.of(first.address(), second.address())).get(3, TimeUnit.SECONDS);
        assertEquals(second.address().getAddress(), remote(ch));
        ch.close();
        // Without Happy Eyeballs the caller's order is kept and no source is looked up.
        SourceLookup none = d -> {
            throw new AssertionError("looked up " + d);
        };
        ch = DnsConnector.builder().happyEyeballs(false).sourceLookup(none).build()
                .connect(bootstrap, List.of(first.address(), second.address())).get(3, TimeUnit.SECONDS);
        assertEquals(first.address().getAddress(), remote(ch));
        ch.close();
    }

    @Test
    void sourcesAreLookedUpOncePerAnswerAndNeverOnTheEventLoop() throws Exception {
        EchoServer echo = keep(EchoServer.start(new InetSocketAddress("127.0.0.1", 0), EchoServer.Mode.ECHO, ""));
        InetAddress a1 = InetAddress.getByName("127.0.0.1");
        InetAddress a2 = InetAddress.getByName("127.0.0.4");
        List<Thread> askedOn = new CopyOnWriteArrayList<>();
        SourceLookup counting = d -> {
            askedOn.add(Thread.currentThread());
            return Optional.of(d.getAddress());
        };
        // AAAA answers nothing at once, A two addresses 20 ms later: begin() sorts once, after both answers.
        DnsConnector c = DnsConnector.builder().sourceLookup(counting).lookup((host, ipv6) -> ipv6
                ? CompletableFuture.completedFuture(List.of())
                : CompletableFuture.supplyAsync(() -> List.of(a1, a2), CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS)))
                .build();
        Thread loop = group.next().submit(Thread::currentThread).get(1, TimeUnit.SECONDS);
        for (int i = 0; i < 3; i++) {
            Channel ch = c.connect(bootstrap, "two.test", echo.port()).get(3, TimeUnit.SECONDS);
            assertEquals(a1, remote(ch));
            ch.close();
        }
        assertEquals(6, askedOn.size(), "one lookup per address per connect, none per attempt: " + askedOn);
        assertFalse(askedOn.contains(loop), "never on the event loop: " + askedOn);
    }
}
