package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class IpvsTableTest {
    private static final IpvsStats.Rates NO_RATES = new IpvsStats.Rates(0, 0, 0, 0, 0);

    private static IpvsStats.RealServerStats dest(String host, int port, int weight, int active, int inactive,
            IpvsStats.Counters c, IpvsStats.Rates r) {
        return new IpvsStats.RealServerStats(new InetSocketAddress(host, port), "Masq", weight, active, inactive, 0, 0,
                false, c, r);
    }

    private static IpvsStats seed() {
        IpvsStats.Counters c1 = new IpvsStats.Counters(51, 306, 204, 4437, 9588);
        IpvsStats.Counters c2 = new IpvsStats.Counters(51, 306, 204, 4437, 10353);
        IpvsStats.Service tcp = new IpvsStats.Service(Protocol.TCP, new InetSocketAddress("127.0.100.1", 80), "rr", 0,
                32, new IpvsStats.Counters(102, 612, 408, 8874, 19941), new IpvsStats.Rates(3, 18, 12, 261, 586), 0, 0,
                List.of(dest("127.0.0.1", 8082, 1, 0, 51, c2, NO_RATES),
                        dest("127.0.0.1", 8081, 1, 0, 51, c1, new IpvsStats.Rates(2, 9, 6, 130, 293))));
        IpvsStats.Service udp = new IpvsStats.Service(Protocol.UDP, new InetSocketAddress("127.0.100.1", 53), "wrr",
                300, 24, new IpvsStats.Counters(123_456_789L, 2_000_000_000L, 0, 300_000_000_000_000L, 1), NO_RATES, 0, 0,
                List.of(dest("127.0.0.2", 53, 2, 0, 7, new IpvsStats.Counters(7, 7, 7, 500, 900), NO_RATES)));
        return new IpvsStats(4096, Timeouts.DEFAULT, List.of(udp, tcp));
    }

    @Test
    void listsLikeIpvsadmLn() {
        assertEquals(""
                + "IP Virtual Server version 1.2.1 (size=4096)\n"
                + "Prot LocalAddress:Port Scheduler Flags\n"
                + "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
                + "TCP  127.0.100.1:80 rr\n"
                + "  -> 127.0.0.1:8081               Masq    1      0          51        \n"
                + "  -> 127.0.0.1:8082               Masq    1      0          51        \n"
                + "UDP  127.0.100.1:53 wrr persistent 300 mask 255.255.255.0\n"
                + "  -> 127.0.0.2:53                 Masq    2      0          7         \n",
                IpvsTable.render(seed()));
    }

    @Test
    void listsStatsLikeIpvsadmLnStats() {
        assertEquals(""
                + "IP Virtual Server version 1.2.1 (size=4096)\n"
                + "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
                + "  -> RemoteAddress:Port\n"
                + "TCP  127.0.100.1:80                    102      612      408     8874    19941\n"
                + "  -> 127.0.0.1:8081                     51      306      204     4437     9588\n"
                + "  -> 127.0.0.1:8082                     51      306      204     4437    10353\n"
                + "UDP  127.0.100.1:53                123456K    2000M        0     300T        1\n"
                + "  -> 127.0.0.2:53                        7        7        7      500      900\n",
                IpvsTable.renderStats(seed()));
    }

    @Test
    void listsRatesLikeIpvsadmLnRate() {
        assertEquals(""
                + "IP Virtual Server version 1.2.1 (size=4096)\n"
                + "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
                + "  -> RemoteAddress:Port\n"
                + "TCP  127.0.100.1:80                      3       18       12      261      586\n"
                + "  -> 127.0.0.1:8081                      2        9        6      130      293\n"
                + "  -> 127.0.0.1:8082                      0        0        0        0        0\n"
                + "UDP  127.0.100.1:53                      0        0        0        0        0\n"
                + "  -> 127.0.0.2:53                        0        0        0        0        0\n",
                IpvsTable.renderRate(seed()));
    }

    @Test
    void emptyTableStillHasTheTitle() {
        assertEquals("IP Virtual Server version 1.2.1 (size=4096)\n"
                + "Prot LocalAddress:Port Scheduler Flags\n"
                + "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
                IpvsTable.render(new IpvsStats(4096, Timeouts.DEFAULT, List.of())));
        assertEquals("Timeout (tcp tcpfin udp): 900 120 300", Timeouts.DEFAULT.render());
    }

    @Test
    void ipv6AddressesAreBracketed() {
        IpvsStats.Service s = new IpvsStats.Service(Protocol.TCP, new InetSocketAddress("::1", 80), "rr", 60, 128,
                new IpvsStats.Counters(0, 0, 0, 0, 0), NO_RATES, 0, 0,
                List.of(dest("::1", 8081, 1, 1, 0, new IpvsStats.Counters(0, 0, 0, 0, 0), NO_RATES)));
        assertEquals("IP Virtual Server version 1.2.1 (size=4096)\n"
                + "Prot LocalAddress:Port Scheduler Flags\n"
                + "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
                + "TCP  [::1]:80 rr persistent 60\n"
                + "  -> [::1]:8081                   Masq    1      1          0         \n",
                IpvsTable.render(new IpvsStats(4096, Timeouts.DEFAULT, List.of(s))));
    }

    @Test
    void connectionEntriesAreSortedAndWidenForIpv6() {
        InetSocketAddress vip = new InetSocketAddress("127.0.100.1", 80);
        IpvsConnections c = new IpvsConnections(List.of(
                new IpvsConnections.Entry(Protocol.UDP, IpvsConnections.State.UDP, java.time.Duration.ofMillis(299_999),
                        new InetSocketAddress("127.0.0.9", 5353), new InetSocketAddress("127.0.100.1", 53),
                        new InetSocketAddress("127.0.0.2", 53)),
                new IpvsConnections.Entry(Protocol.TCP, IpvsConnections.State.ESTABLISHED,
                        java.time.Duration.ofSeconds(900), new InetSocketAddress("127.0.0.1", 40302), vip,
                        new InetSocketAddress("127.0.0.1", 8081)),
                new IpvsConnections.Entry(Protocol.TCP, IpvsConnections.State.FIN_WAIT,
                        java.time.Duration.ofSeconds(114), new InetSocketAddress("::1", 40303),
                        new InetSocketAddress("::1", 80), new InetSocketAddress("::1", 8081)),
                new IpvsConnections.Entry(Protocol.TCP, IpvsConnections.State.FIN_WAIT,
                        java.time.Duration.ofSeconds(114), new InetSocketAddress("2001:db8:0:0:0:0:0:1", 40303),
                        new InetSocketAddress("2001:db8::1", 80), new InetSocketAddress("2001:db8::1", 8081))), 5);
        assertEquals("IPVS connection entries\n"
                + "pro expire state       source             virtual            destination\n"
                + "TCP 15:00  ESTABLISHED 127.0.0.1:40302    127.0.100.1:80     127.0.0.1:8081\n"
                + "TCP 01:54  FIN_WAIT    [::1]:40303        [::1]:80           [::1]:8081\n"
                + "TCP 01:54  FIN_WAIT    [2001:db8::1]:40303 [2001:db8::1]:80   [2001:db8::1]:8081\n"
                + "UDP 04:59  UDP         127.0.0.9:5353     127.0.100.1:53     127.0.0.2:53\n",
                IpvsTable.renderConnections(c));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new IpvsConnections(c.entries(), 2));
    }
}
