package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.EchoServer;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** ipvsadm -p / -M through lb-api's PersistentScheduler, with IPVS's template rules. */
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

    /** The echo server that took the last connection: the one whose count went up. */
    private static EchoServer took(EchoServer a, int aBefore, EchoServer b) {
        return a.connectionCount() > aBefore ? a : b;
    }

    private static VirtualService.Builder persistent(EchoServer a, EchoServer b, Duration timeout) {
        return VirtualService.tcp(Net.ANY_LOOPBACK).scheduler("rr").persistence(timeout)
                .realServer(a.address()).realServer(b.address());
    }

    private static IpvsStats.RealServerStats listed(VirtualServer vs, EchoServer server) {
        return vs.stats().realServers().stream().filter(d -> d.address().equals(server.address())).findFirst()
                .orElseThrow();
    }

    /**
     * A persistent rr service over {@code a} and {@code b} where 127.0.0.1 connected ({@code held}, left
     * open) and got a template pointing at {@code kept}, which is then quiesced (weight 0), so that only
     * that template brings 127.0.0.1 back to it.
     */
    private record Quiesced(VirtualServer vs, EchoServer kept, EchoServer other, Socket held) implements AutoCloseable {
        static Quiesced start(L4Balancer lb, EchoServer a, EchoServer b, Duration persistence) throws IOException {
            VirtualServer vs = lb.addService(persistent(a, b, persistence).build());
            int aBefore = a.connectionCount();
            Socket held = Net.connectFrom("127.0.0.1", vs.localAddress());
            EchoServer kept = took(a, aBefore, b);
            vs.editRealServer(RealServer.builder(kept.address()).weight(0).build());
            return new Quiesced(vs, kept, kept == a ? b : a, held);
        }

        @Override
        public void close() throws IOException {
            held.close();
        }
    }

    @Test
    void aQuiescedOrOverloadedRealServerKeepsItsPersistentClientsByDefault() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(persistent(a, b, Duration.ofSeconds(300)).build());
            assertFalse(vs.config().expireQuiescentTemplate(), "IPVS's default expire_quiescent_template = 0");
            int aBefore = a.connectionCount();
            connectFrom("127.0.0.1", vs.localAddress());
            EchoServer kept = took(a, aBefore, b);
            EchoServer other = kept == a ? b : a;

            // ipvsadm -e -w 0: the client's template still points at it, so it keeps coming.
            vs.editRealServer(RealServer.builder(kept.address()).weight(0).build());
            for (int i = 0; i < 3; i++) {
                connectFrom("127.0.0.1", vs.localAddress());
            }
            assertEquals(4, kept.connectionCount());
            connectFrom("127.0.0.2", vs.localAddress());
            assertEquals(1, other.connectionCount(), "a new client goes elsewhere");

            // -x 5 with 4 connections counted (closed, in TIME_WAIT): the next one overloads it; still kept.
            vs.editRealServer(RealServer.builder(kept.address()).upperThreshold(5).build());
            connectFrom("127.0.0.1", vs.localAddress());
            assertTrue(listed(vs, kept).overloaded(), "-x reached");
            connectFrom("127.0.0.1", vs.localAddress());
            assertEquals(6, kept.connectionCount(), "an overloaded real server keeps its persistent clients");
            connectFrom("127.0.0.3", vs.localAddress());
            assertEquals(2, other.connectionCount());
        }
    }

    @Test
    void expireQuiescentTemplateReschedulesTheClientsOfAWeightZeroRealServer() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
            VirtualServer vs = lb.addService(persistent(a, b, Duration.ofSeconds(300))
                    .expireQuiescentTemplate(true).build());
            int aBefore = a.connectionCount();
            connectFrom("127.0.0.1", vs.localAddress());
            EchoServer first = took(a, aBefore, b);
            EchoServer other = first == a ? b : a;
            vs.editRealServer(RealServer.builder(first.address()).upperThreshold(1).build());
            connectFrom("127.0.0.1", vs.localAddress());
            assertTrue(listed(vs, first).overloaded());
            assertEquals(2, first.connectionCount(), "overload does not expire a template, as in IPVS");

            vs.editRealServer(RealServer.builder(first.address()).weight(0).build());
            connectFrom("127.0.0.1", vs.localAddress());
            assertEquals(1, other.connectionCount(), "weight 0: the template is dropped, the client rescheduled");
            vs.editRealServer(RealServer.builder(first.address()).weight(1).build());
            connectFrom("127.0.0.1", vs.localAddress());
            assertEquals(2, other.connectionCount(), "and the new template stays");
            assertEquals(2, first.connectionCount());
            // ipvsadm -E can turn it off again.
            vs.edit(vs.config().toBuilder().expireQuiescentTemplate(false).build());
            assertFalse(vs.config().expireQuiescentTemplate());
        }
    }

    @Test
    void aRealServerThatFailsItsCheckOrIsRemovedLosesItsPersistentClients() throws Exception {
        for (FailureAction action : FailureAction.values()) {
            try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                    L4Balancer lb = L4Balancer.builder().ioThreads(1).build()) {
                VirtualServer vs = lb.addService(persistent(a, b, Duration.ofSeconds(300)).failureAction(action)
                        .build());
                int aBefore = a.connectionCount();
                connectFrom("127.0.0.1", vs.localAddress());
                EchoServer kept = took(a, aBefore, b);
                EchoServer other = kept == a ? b : a;
                // What a failed TCP_CHECK does; with INHIBIT it is listed with weight 0 (inhibit_on_failure),
                // but unlike IPVS's weight 0 its persistent clients move.
                vs.pool().member(Upstream.of(kept.address()).key()).orElseThrow().checkDown(true, "refused");
                connectFrom("127.0.0.1", vs.localAddress());
                assertEquals(1, other.connectionCount(), action + ": a failed real server loses its clients");
                assertEquals(1, kept.connectionCount());

                connectFrom("127.0.0.2", vs.localAddress());
                assertEquals(2, other.connectionCount());
                vs.pool().member(Upstream.of(kept.address()).key()).orElseThrow().checkDown(false, "ok");
                vs.removeRealServer(other.address());
                connectFrom("127.0.0.2", vs.localAddress());
                assertEquals(2, kept.connectionCount(), "ipvsadm -d: its clients are rescheduled");
            }
        }
    }

    @Test
    void aTemplateIsHeldWhileConnectionsItPlacedAreInTheTable() throws Exception {
        // Persistence 500 ms; a closed connection stays in the table (TIME_WAIT) for tcpfin, 2 s.
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(2), Duration.ofSeconds(300));
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).timeouts(t).build()) {
            VirtualServer vs = lb.addService(persistent(a, b, Duration.ofMillis(500)).build());
            int aBefore = a.connectionCount();
            Socket held = Net.connectFrom("127.0.0.1", vs.localAddress());
            EchoServer kept = took(a, aBefore, b);
            // Three persistence timeouts pass while the connection stays open (IPVS n_control > 0).
            Thread.sleep(1500);
            Socket second = Net.connectFrom("127.0.0.1", vs.localAddress());
            assertEquals(2, kept.connectionCount(), "the held template kept the client (rr would move it)");
            assertEquals(1, templates(lb, vs).size());
            held.close();
            second.close();
            // Until the closed connections leave the table and 500 ms more have passed, the template stays.
            boolean[] sawTimeWait = new boolean[1];
            Await.until(() -> {
                List<IpvsConnections.Entry> entries = lb.connections().entries();
                boolean timeWait = entries.stream().anyMatch(e -> e.virtual().equals(vs.localAddress())
                        && e.state() == IpvsConnections.State.TIME_WAIT);
                boolean template = entries.stream().anyMatch(e -> e.virtual().equals(vs.localAddress())
                        && e.state() == IpvsConnections.State.NONE);
                sawTimeWait[0] |= timeWait;
                if (timeWait && !template) {
                    throw new AssertionError("template gone while its connections are listed: " + entries);
                }
                return !template;
            });
            assertTrue(sawTimeWait[0]);
        }
    }

    /** The listed template of the client network {@code network}, if any. */
    private static java.util.Optional<IpvsConnections.Entry> template(L4Balancer lb, VirtualServer vs, String network) {
        InetSocketAddress source = new InetSocketAddress(network, 0);
        return templates(lb, vs).stream().filter(e -> e.source().equals(source)).findFirst();
    }

    @Test
    void anEditKeepsTheTemplatesAndTheLeasesOfOpenConnections() throws Exception {
        // A closed connection stays in the table (TIME_WAIT) for tcpfin, 1 s; persistence 500 ms.
        Duration tcpFin = Duration.ofSeconds(1);
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo(); L4Balancer lb = L4Balancer.builder()
                .ioThreads(1).timeouts(new Timeouts(Duration.ofSeconds(900), tcpFin, Duration.ofSeconds(300))).build();
                Quiesced q = Quiesced.start(lb, a, b, Duration.ofMillis(500))) {
            VirtualServer vs = q.vs();
            EchoServer kept = q.kept();
            EchoServer other = q.other();
            // ipvsadm -E -s wrr -p 60: another scheduler and timeout.
            vs.edit(vs.config().toBuilder().scheduler("wrr").persistence(Duration.ofSeconds(60)).build());
            // Three of the template's 500 ms pass: only the open connection's lease keeps it.
            Thread.sleep(1500);
            Socket second = Net.connectFrom("127.0.0.1", vs.localAddress());
            assertEquals(2, kept.connectionCount(), "the template and its lease outlived ipvsadm -E");
            assertTrue(IpvsTable.render(lb.stats()).contains(" wrr persistent 60\n"));

            connectFrom("127.0.0.2", vs.localAddress());
            assertEquals(1, other.connectionCount());
            Duration fresh = template(lb, vs, "127.0.0.2").orElseThrow().expires();
            assertTrue(fresh.compareTo(Duration.ofSeconds(50)) > 0, "a new template takes -p 60: " + fresh);
            Duration old = template(lb, vs, "127.0.0.1").orElseThrow().expires();
            assertTrue(old.compareTo(Duration.ofMillis(500)) <= 0, "the kept one its own 500 ms: " + old);

            // Its connections leave the table 1 s after they close, and the template 500 ms later, not 60 s.
            q.held().close();
            second.close();
            Await.until(() -> template(lb, vs, "127.0.0.1").isEmpty());
            assertTrue(template(lb, vs, "127.0.0.2").isPresent());
        }
    }

    @Test
    void aNetmaskChangeLeavesTheOldTemplatesUnmatchedAndTurningPersistenceOffLeavesThemListed() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
                Quiesced q = Quiesced.start(lb, a, b, Duration.ofSeconds(300))) {
            VirtualServer vs = q.vs();
            EchoServer kept = q.kept();
            EchoServer other = q.other();
            // ipvsadm -E -M 255.255.255.255 (unchanged): the client is kept on the quiesced real server.
            vs.edit(vs.config().toBuilder().scheduler("wrr").build());
            connectFrom("127.0.0.1", vs.localAddress());
            assertEquals(2, kept.connectionCount());

            // ipvsadm -E -M 255.255.255.0: templates are looked up by 127.0.0.0 now; the one of 127.0.0.1 stays.
            vs.edit(vs.config().toBuilder().persistenceNetmask(24).build());
            connectFrom("127.0.0.1", vs.localAddress());
            assertEquals(1, other.connectionCount(), "127.0.0.0/24 had no template");
            assertEquals(kept.address(), template(lb, vs, "127.0.0.1").orElseThrow().destination());
            assertEquals(other.address(), template(lb, vs, "127.0.0.0").orElseThrow().destination());

            // ipvsadm -E without -p: the templates stay in the table until they expire, as in IPVS.
            vs.edit(vs.config().toBuilder().persistence(Duration.ZERO).build());
            assertEquals(2, templates(lb, vs).size());
            assertEquals(1, listed(vs, kept).persistConns());
            assertEquals(1, listed(vs, other).persistConns());
        }
    }

    @Test
    void turningPersistenceOffLeavesTheTemplatesUnconsultedAndTurningItBackOnUsesThem() throws Exception {
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).build();
                Quiesced q = Quiesced.start(lb, a, b, Duration.ofSeconds(300))) {
            VirtualServer vs = q.vs();
            // ipvsadm -E without -p: the template is not consulted, but listed and counted, and no new one is made.
            vs.edit(vs.config().toBuilder().persistence(Duration.ZERO).build());
            assertEquals("TCP  " + IpvsTable.addrPort(vs.localAddress()) + " rr",
                    IpvsTable.render(lb.stats()).split("\n")[3]);
            connectFrom("127.0.0.1", vs.localAddress());
            connectFrom("127.0.0.2", vs.localAddress());
            assertEquals(1, q.kept().connectionCount());
            assertEquals(2, q.other().connectionCount());
            assertEquals(q.kept().address(), template(lb, vs, "127.0.0.1").orElseThrow().destination());
            assertEquals(1, templates(lb, vs).size(), "no template for 127.0.0.2");
            assertEquals(1, listed(vs, q.kept()).persistConns());
            assertEquals(0, listed(vs, q.other()).persistConns());
            String lnc = IpvsTable.renderConnections(lb.connections());
            assertTrue(lnc.contains("NONE        127.0.0.1:0 "), lnc);

            // ipvsadm -E -p 300 before it expired: 127.0.0.1 is back on its template's (quiesced) real server.
            vs.edit(vs.config().toBuilder().persistence(Duration.ofSeconds(300)).build());
            connectFrom("127.0.0.1", vs.localAddress());
            assertEquals(2, q.kept().connectionCount());
        }
    }

    @Test
    void unconsultedTemplatesExpireOnTheirOwnTimeUnlessConnectionsHoldThem() throws Exception {
        // Persistence 500 ms; a closed connection stays in the table (TIME_WAIT) for tcpfin, 1 s.
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(1), Duration.ofSeconds(300));
        try (EchoServer a = EchoServer.echo(); EchoServer b = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).timeouts(t).build();
                Quiesced q = Quiesced.start(lb, a, b, Duration.ofMillis(500))) {
            VirtualServer vs = q.vs();
            EchoServer kept = q.kept();
            EchoServer other = q.other();
            connectFrom("127.0.0.2", vs.localAddress());
            assertEquals(1, other.connectionCount());

            vs.edit(vs.config().toBuilder().persistence(Duration.ZERO).build());
            // 127.0.0.2's template goes 500 ms after its closed connection left the table; 127.0.0.1's stays
            // while its connection is open (IPVS's n_control), however long that is past its 500 ms.
            Await.until(() -> template(lb, vs, "127.0.0.2").isEmpty());
            assertTrue(template(lb, vs, "127.0.0.1").isPresent(), "held by the open connection");
            assertEquals(0, listed(vs, other).persistConns());

            vs.edit(vs.config().toBuilder().persistence(Duration.ofSeconds(60)).build());
            connectFrom("127.0.0.1", vs.localAddress());
            assertEquals(2, kept.connectionCount(), "the held template is consulted again");
        }
    }

    private static List<IpvsConnections.Entry> templates(L4Balancer lb, VirtualServer vs) {
        return lb.connections().entries().stream().filter(e -> e.virtual().equals(vs.localAddress())
                && e.state() == IpvsConnections.State.NONE).toList();
    }

    @Test
    void aUdpFlowHoldsItsTemplateUntilItExpires() throws Exception {
        // Persistence 300 ms; a flow lives 3 s after its last datagram.
        Timeouts t = new Timeouts(Duration.ofSeconds(900), Duration.ofSeconds(120), Duration.ofSeconds(3));
        try (UdpEcho dns1 = new UdpEcho("dns1"); UdpEcho dns2 = new UdpEcho("dns2");
                L4Balancer lb = L4Balancer.builder().ioThreads(1).timeouts(t).build();
                DatagramSocket c1 = Net.udpClient("127.0.0.1");
                DatagramSocket c2 = Net.udpClient("127.0.0.1")) {
            VirtualServer vs = lb.addService(VirtualService.udp(Net.ANY_LOOPBACK).scheduler("rr")
                    .persistence(Duration.ofMillis(300)).realServer(dns1.address()).realServer(dns2.address()).build());
            String server = Net.ask(c1, vs.localAddress(), "a").substring(0, 4);
            Thread.sleep(900);
            // Another flow of the same client address, after three persistence timeouts: the first flow holds
            // the template, so the second lands on the same server (rr would have moved it).
            assertEquals(server + ":b", Net.ask(c2, vs.localAddress(), "b"));
            Await.until(() -> templates(lb, vs).isEmpty());
            assertTrue(lb.connections().entries().stream().noneMatch(e -> e.virtual().equals(vs.localAddress())),
                    "the template went after its flows");
        }
    }
}
