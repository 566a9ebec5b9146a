package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.EchoServer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** IPVS's per-real-server thresholds ({@code -x}, {@code -y}). */
@ExtendWith(LeakCheck.class)
class LimitsTest {

    private static IpvsStats.RealServerStats statsOf(VirtualServer vs, InetSocketAddress a) {
        return vs.stats().realServers().stream().filter(d -> d.address().equals(a)).findFirst().orElseThrow();
    }

    @Test
    void upperThresholdOverloadsUntilConnectionsDropBelowTheLowerOne() throws Exception {
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofMillis(300), Duration.ofSeconds(300));
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).timeouts(t).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(RealServer.builder(a.address()).upperThreshold(2).lowerThreshold(1).build())
                    .realServer(b.address()).build());
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    Socket s = Net.connect(vs.localAddress());
                    held.add(s);
                    assertEquals("h", Net.echo(s, "h"));
                }
                assertEquals(2, a.connectionCount(), "a takes no more than its upper threshold");
                assertEquals(4, b.connectionCount());
                assertTrue(statsOf(vs, a.address()).overloaded());
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            // Closed connections stay counted (inactive) for tcpfin, then a drops below -y and is back.
            Resources.await(3000, () -> !statsOf(vs, a.address()).overloaded(), "overload cleared after expiry");
            for (int i = 0; i < 2; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    Net.echo(s, "again");
                }
            }
            assertEquals(3, a.connectionCount());
        }
    }

    /**
     * ipvsadm -e raising -x of an overloaded real server clears the overload at once (the kernel's
     * __ip_vs_update_dest: a new upper threshold of 0 or above the old one clears IP_VS_DEST_F_OVERLOAD);
     * keeping or lowering it leaves the flag to the next bind or unbind.
     */
    @Test
    void raisingTheUpperThresholdClearsTheOverload() throws Exception {
        try (EchoServer a = EchoServer.echo(); L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(RealServer.builder(a.address()).upperThreshold(2).lowerThreshold(1).build()).build());
            try (Socket s1 = Net.connect(vs.localAddress()); Socket s2 = Net.connect(vs.localAddress())) {
                assertEquals("1", Net.echo(s1, "1"));
                assertEquals("2", Net.echo(s2, "2"));
                assertTrue(statsOf(vs, a.address()).overloaded());
                vs.editRealServer(RealServer.builder(a.address()).upperThreshold(2).lowerThreshold(0).build());
                assertTrue(statsOf(vs, a.address()).overloaded(), "the same -x keeps the overload");
                vs.editRealServer(RealServer.builder(a.address()).upperThreshold(10).lowerThreshold(1).build());
                assertFalse(statsOf(vs, a.address()).overloaded(), "a raised -x clears the overload");
                try (Socket s3 = Net.connect(vs.localAddress())) {
                    assertEquals("3", Net.echo(s3, "3"));
                }
            }
        }
    }

    @Test
    void thresholdsAreEditableAndValidated() throws Exception {
        assertThrows(IllegalArgumentException.class,
                () -> RealServer.builder(Net.ANY_LOOPBACK).upperThreshold(2).lowerThreshold(3).build());
        assertThrows(IllegalArgumentException.class, () -> RealServer.builder(Net.ANY_LOOPBACK).weight(65536));
        try (EchoServer a = EchoServer.echo(); L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(RealServer.builder(a.address()).upperThreshold(1).build()).build());
            try (Socket s = Net.connect(vs.localAddress())) {
                Net.echo(s, "1");
                try (Socket s2 = Net.connect(vs.localAddress())) {
                    assertEquals(-1, s2.getInputStream().read(), "overloaded: no destination");
                }
                vs.editRealServer(RealServer.builder(a.address()).upperThreshold(0).build());
                assertFalse(statsOf(vs, a.address()).overloaded(), "ipvsadm -e without -x clears the overload");
                try (Socket s3 = Net.connect(vs.localAddress())) {
                    assertEquals("3", Net.echo(s3, "3"));
                }
            }
            assertEquals(1, vs.stats().noDestination());
        }
    }
}
