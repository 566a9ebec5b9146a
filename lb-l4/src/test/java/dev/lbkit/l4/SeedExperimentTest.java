package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.time.Duration;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The seed's task 3: rr over two python-like HTTP/1.0 backends, 102 curl requests, then ipvsadm -ln. */
@ExtendWith(LeakCheck.class)
class SeedExperimentTest {
    private static final String BODY1 = "<h1>Response from Backend Server 1</h1>\n";
    private static final String BODY2 = "<h2>*** Response from Backend Server 2 ***</h2>\n";

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void hundredAndTwoRequestsShowZeroActiveAndFiftyOneInactiveEach(Forwarding f) throws Exception {
        try (TestBackend b1 = TestBackend.start(Script.pythonHttpServer(BODY1));
                TestBackend b2 = TestBackend.start(Script.pythonHttpServer(BODY2));
                L4Balancer lb = f.builder().build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr").build());
            vs.addRealServer(RealServer.of(b1.address()));
            vs.addRealServer(RealServer.of(b2.address()));
            String previous = null;
            for (int i = 0; i < 102; i++) {
                String response = Net.http10(vs.localAddress());
                assertTrue(response.startsWith("HTTP/1.0 200"), response);
                String body = response.endsWith(BODY1) ? BODY1 : BODY2;
                assertTrue(response.endsWith(body));
                assertNotEquals(previous, body, "rr alternates");
                previous = body;
            }
            Resources.await(5000, () -> vs.stats().realServers().stream().allMatch(d -> d.activeConns() == 0),
                    "connections to close");
            String listing = IpvsTable.render(lb.stats());
            String[] lines = listing.split("\n");
            assertEquals(6, lines.length, listing);
            assertEquals("TCP  " + IpvsTable.addrPort(vs.localAddress()) + " rr", lines[3]);
            for (int i = 4; i < 6; i++) {
                assertTrue(lines[i].matches("  -> 127\\.0\\.0\\.1:\\d+ +Masq    1      0          51        "),
                        lines[i]);
            }
            assertEquals(51, b1.connectionCount());
            assertEquals(51, b2.connectionCount());
            IpvsStats.Service st = vs.stats();
            assertEquals(102, st.counters().conns());
            assertEquals(51, st.realServers().get(0).counters().conns());
            assertEquals(51, st.realServers().get(1).counters().conns());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.lbkit.l4.Forwarding#copyAndSplice")
    void closedConnectionsLeaveInActConnAfterTheTcpfinTimeout(Forwarding f) throws Exception {
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofMillis(300), Duration.ofSeconds(300));
        try (TestBackend b1 = TestBackend.start(Script.pythonHttpServer(BODY1));
                L4Balancer lb = f.builder().timeouts(t).build()) {
            VirtualServer vs = Net.rrService(lb, b1.address());
            for (int i = 0; i < 3; i++) {
                Net.http10(vs.localAddress());
            }
            Resources.await(2000, () -> vs.stats().realServers().get(0).inactiveConns() == 3, "3 inactive");
            Resources.await(3000, () -> vs.stats().realServers().get(0).inactiveConns() == 0, "expiry after tcpfin");
            assertEquals(0, vs.stats().realServers().get(0).activeConns());
        }
    }
}
