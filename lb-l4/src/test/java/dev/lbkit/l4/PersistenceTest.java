package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.EchoServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** ipvsadm -p / -M through lb-api's PersistentScheduler. */
@ExtendWith(LeakCheck.class)
class PersistenceTest {

    private static void connectFrom(String localHost, InetSocketAddress service) throws IOException {
        Net.connectFrom(localHost, service).close();
    }

    @Test
    void aClientStaysOnItsRealServerAndTheListingShowsPersistence() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .persistence(Duration.ofSeconds(300)).realServer(a.address()).realServer(b.address()).build());
            for (int i = 0; i < 6; i++) {
                connectFrom("127.0.0.1", vs.localAddress());
            }
            assertTrue(a.connectionCount() == 6 || b.connectionCount() == 6,
                    "one client, one real server: " + a.connectionCount() + "/" + b.connectionCount());
            assertEquals("TCP  " + IpvsTable.addrPort(vs.localAddress()) + " rr persistent 300",
                    IpvsTable.render(lb.stats()).split("\n")[3]);
        }
    }

    @Test
    void aNetmaskGroupsClientNetworks() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .persistence(Duration.ofSeconds(60)).persistenceNetmask(24)
                    .realServer(a.address()).realServer(b.address()).build());
            for (int i = 0; i < 4; i++) {
                connectFrom("127.0.0." + (1 + i % 2), vs.localAddress());
            }
            assertTrue(a.connectionCount() == 4 || b.connectionCount() == 4, "127.0.0.1 and .2 share a /24");
            assertTrue(IpvsTable.render(lb.stats()).contains(" rr persistent 60 mask 255.255.255.0\n"));
            // ipvsadm -E without -p: persistence off, rr alternates again.
            vs.edit(vs.config().toBuilder().persistence(Duration.ZERO).build());
            int before = a.connectionCount();
            for (int i = 0; i < 4; i++) {
                connectFrom("127.0.0.1", vs.localAddress());
            }
            assertEquals(before + 2, a.connectionCount());
        }
        assertThrows(IllegalArgumentException.class,
                () -> VirtualService.tcp(Net.ANY_LOOPBACK).persistenceNetmask(33).build());
    }
}
