package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.testing.EchoServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** ipvsadm -ln --thresholds, --persistent-conn and -lnc rendered from real traffic on loopback. */
@ExtendWith(LeakCheck.class)
class IpvsListingsTest {
    private static final String TITLE = "IP Virtual Server version 1.2.1 (size=4096)\n";

    private static Socket connectFrom(String localHost, InetSocketAddress service) throws IOException {
        Socket s = new Socket();
        s.setSoTimeout(5000);
        s.bind(new InetSocketAddress(localHost, 0));
        s.connect(service, 5000);
        assertEquals("x", Net.echo(s, "x"));
        return s;
    }

    private static String name(InetSocketAddress a) {
        return IpvsTable.addrPort(a);
    }

    @Test
    void thresholdsListUpperAndLowerNextToTheConnectionCounts() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("wlc")
                    .realServer(RealServer.builder(a.address()).upperThreshold(10).lowerThreshold(5).build())
                    .realServer(RealServer.builder(b.address()).weight(0).upperThreshold(100).build())
                    .build());
            List<Socket> open = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    open.add(connectFrom("127.0.0.1", vs.localAddress()));
                }
                connectFrom("127.0.0.1", vs.localAddress()).close();
                Resources.await(5000, () -> vs.stats().realServers().stream()
                        .anyMatch(d -> d.activeConns() == 3 && d.inactiveConns() == 1), "3 active, 1 inactive");
                String first = a.address().getPort() < b.address().getPort()
                        ? String.format("  -> %-28s %-10d %-10d %-10d %-10d\n", name(a.address()), 10, 5, 3, 1)
                        : String.format("  -> %-28s %-10d %-10d %-10d %-10d\n", name(b.address()), 100, 0, 0, 0);
                String second = a.address().getPort() < b.address().getPort()
                        ? String.format("  -> %-28s %-10d %-10d %-10d %-10d\n", name(b.address()), 100, 0, 0, 0)
                        : String.format("  -> %-28s %-10d %-10d %-10d %-10d\n", name(a.address()), 10, 5, 3, 1);
                assertEquals(TITLE
                        + "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
                        + "  -> RemoteAddress:Port\n"
                        + "TCP  " + name(vs.localAddress()) + " wlc\n"
                        + first + second, IpvsTable.renderThresholds(lb.stats()));
            } finally {
                for (Socket s : open) {
                    s.close();
                }
            }
        }
    }

    @Test
    void persistentConnCountsTheTemplatesKeptOnEachRealServer() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .persistence(Duration.ofSeconds(300)).realServer(a.address()).realServer(b.address()).build());
            // Three client addresses: three templates; the first keeps its connection open.
            int[] persist = new int[2];
            int[] active = new int[2];
            int[] inactive = new int[2];
            Socket held = null;
            try {
                for (int i = 1; i <= 3; i++) {
                    int beforeA = a.connectionCount();
                    Socket s = connectFrom("127.0.0." + i, vs.localAddress());
                    int on = a.connectionCount() > beforeA ? 0 : 1;
                    persist[on]++;
                    if (i == 1) {
                        held = s;
                        active[on]++;
                    } else {
                        s.close();
                        inactive[on]++;
                    }
                }
                int[] wantInactive = inactive;
                Resources.await(5000, () -> vs.stats().realServers().stream().mapToInt(
                        IpvsStats.RealServerStats::inactiveConns).sum() == wantInactive[0] + wantInactive[1],
                        "closed connections to count as inactive");
                boolean aFirst = a.address().getPort() < b.address().getPort();
                StringBuilder rows = new StringBuilder();
                for (int k : aFirst ? new int[] {0, 1} : new int[] {1, 0}) {
                    rows.append(String.format("  -> %-28s %-9d %-11d %-10d %-10d\n",
                            name((k == 0 ? a : b).address()), 1, persist[k], active[k], inactive[k]));
                }
                assertEquals(TITLE
                        + "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n"
                        + "  -> RemoteAddress:Port\n"
                        + "TCP  " + name(vs.localAddress()) + " rr persistent 300\n"
                        + rows, IpvsTable.renderPersistentConn(lb.stats()));
                assertEquals(3, persist[0] + persist[1]);
            } finally {
                if (held != null) {
                    held.close();
                }
            }
        }
    }
}
