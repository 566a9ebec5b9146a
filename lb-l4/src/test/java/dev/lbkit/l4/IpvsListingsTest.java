package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.testing.EchoServer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** ipvsadm -ln --thresholds, --persistent-conn and -lnc rendered from real traffic on loopback. */
@ExtendWith(LeakCheck.class)
class IpvsListingsTest {
    private static final String TITLE = "IP Virtual Server version 1.2.1 (size=4096)\n";

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
                    open.add(Net.connectFrom("127.0.0.1", vs.localAddress()));
                }
                Net.connectFrom("127.0.0.1", vs.localAddress()).close();
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
                    Socket s = Net.connectFrom("127.0.0." + i, vs.localAddress());
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

    private static String row(String proto, String expire, String state, InetSocketAddress source,
            InetSocketAddress virtual, InetSocketAddress destination) {
        return String.format("%-3s %-6s %-11s %-18s %-18s %s\n", proto, expire, state, name(source), name(virtual),
                name(destination));
    }

    private static InetSocketAddress local(Socket s) {
        return (InetSocketAddress) s.getLocalSocketAddress();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void connectionEntriesListEveryStateLikeIpvsadmLnc(Forwarding f) throws Exception {
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(120), Duration.ofSeconds(300));
        try (EchoServer echo = EchoServer.echo();
                EchoServer silent = EchoServer.start(new InetSocketAddress("127.0.0.1", 0), EchoServer.Mode.SILENT, "");
                EchoServer greet = EchoServer.greeting("hi");
                UdpEcho dns = new UdpEcho("dns");
                java.net.DatagramSocket udpClient = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.6", 0));
                L4Balancer lb = f.builder().timeouts(t).build()) {
            VirtualServer echoVs = Net.rrService(lb, echo.address());
            VirtualServer silentVs = Net.rrService(lb, silent.address());
            VirtualServer greetVs = Net.rrService(lb, greet.address());
            VirtualServer persistentVs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                    .persistence(Duration.ofSeconds(300)).realServer(echo.address()).build());
            VirtualServer udpVs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .realServer(dns.address()).build());
            try (Socket established = Net.connectFrom("127.0.0.1", echoVs.localAddress());
                    Socket closeWait = new Socket(); Socket finWait = new Socket()) {
                Socket closed = Net.connectFrom("127.0.0.2", echoVs.localAddress());
                InetSocketAddress closedAddress = local(closed);
                closed.close();
                closeWait.bind(new InetSocketAddress("127.0.0.3", 0));
                closeWait.connect(silentVs.localAddress(), 5000);
                closeWait.shutdownOutput();
                finWait.setSoTimeout(5000);
                finWait.bind(new InetSocketAddress("127.0.0.4", 0));
                finWait.connect(greetVs.localAddress(), 5000);
                assertEquals("hi", new String(finWait.getInputStream().readNBytes(2), java.nio.charset.StandardCharsets.UTF_8));
                assertEquals(-1, finWait.getInputStream().read(), "the greeting server's FIN is passed on");
                Socket persistent = Net.connectFrom("127.0.0.5", persistentVs.localAddress());
                InetSocketAddress persistentAddress = local(persistent);
                persistent.close();
                byte[] q = "q".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                udpClient.setSoTimeout(5000);
                udpClient.send(new java.net.DatagramPacket(q, q.length, udpVs.localAddress()));
                udpClient.receive(new java.net.DatagramPacket(new byte[64], 64));
                Resources.await(5000, () -> lb.connections().entries().stream()
                        .filter(e -> e.state() == IpvsConnections.State.TIME_WAIT).count() == 2
                        && lb.connections().entries().stream()
                        .anyMatch(e -> e.state() == IpvsConnections.State.CLOSE_WAIT), "closes to be seen");

                // Sorted by protocol, virtual address (the services' ports ascend in creation order or not),
                // client, real server: built in that order here.
                java.util.TreeMap<String, String> rows = new java.util.TreeMap<>();
                java.util.function.BiConsumer<InetSocketAddress, String> put = (virtual, r) ->
                        rows.put(String.format("%05d", virtual.getPort()) + r.substring(23), r);
                put.accept(echoVs.localAddress(), row("TCP", "14:59", "ESTABLISHED", local(established),
                        echoVs.localAddress(), echo.address()));
                put.accept(echoVs.localAddress(), row("TCP", "01:59", "TIME_WAIT", closedAddress,
                        echoVs.localAddress(), echo.address()));
                put.accept(silentVs.localAddress(), row("TCP", "01:59", "CLOSE_WAIT", local(closeWait),
                        silentVs.localAddress(), silent.address()));
                put.accept(greetVs.localAddress(), row("TCP", "01:59", "FIN_WAIT", local(finWait),
                        greetVs.localAddress(), greet.address()));
                put.accept(persistentVs.localAddress(), row("TCP", "01:59", "TIME_WAIT", persistentAddress,
                        persistentVs.localAddress(), echo.address()));
                put.accept(persistentVs.localAddress(), row("TCP", "04:59", "NONE",
                        new InetSocketAddress("127.0.0.5", 0), persistentVs.localAddress(), echo.address()));
                StringBuilder want = new StringBuilder("IPVS connection entries\n"
                        + "pro expire state       source             virtual            destination\n");
                rows.values().forEach(want::append);
                want.append(row("UDP", "04:59", "UDP", (InetSocketAddress) udpClient.getLocalSocketAddress(),
                        udpVs.localAddress(), dns.address()));
                IpvsConnections c = lb.connections();
                assertEquals(want.toString(), IpvsTable.renderConnections(c));
                assertEquals(7, c.total());
                IpvsConnections cut = lb.connections(3);
                assertEquals(3, cut.entries().size());
                assertEquals(7, cut.total());
            }
        }
    }

    @Test
    void aClientWhoseRealServerIsStillBeingConnectedIsInSynRecv() throws Exception {
        // A real server that never accepts, with its backlog filled: further SYNs go unanswered.
        try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"));
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            InetSocketAddress real = new InetSocketAddress("127.0.0.1", full.getLocalPort());
            List<Socket> queued = new ArrayList<>();
            try {
                for (int i = 0; i < 16; i++) {
                    Socket s = new Socket();
                    queued.add(s);
                    try {
                        s.connect(real, 200);
                    } catch (java.net.SocketTimeoutException e) {
                        break;
                    }
                }
                VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr")
                        .connectTimeout(Duration.ofSeconds(10)).failover(false).realServer(real).build());
                try (Socket client = Net.connect(vs.localAddress())) {
                    Resources.await(5000, () -> !lb.connections().entries().isEmpty(), "the entry");
                    assertEquals("IPVS connection entries\n"
                            + "pro expire state       source             virtual            destination\n"
                            + row("TCP", "00:09", "SYN_RECV", local(client), vs.localAddress(), real),
                            IpvsTable.renderConnections(lb.connections()));
                }
            } finally {
                for (Socket s : queued) {
                    s.close();
                }
            }
        }
    }
}
