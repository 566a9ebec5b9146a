package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.scheduler.Schedulers;
import dev.lbkit.testing.EchoServer;
import java.net.Socket;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every scheduler registered in lb-api runs a TCP virtual service. */
class AllSchedulersTest {
    private static EchoServer a;
    private static EchoServer b;
    private static L4Balancer lb;

    @BeforeAll
    static void start() {
        Resources.install();
        a = EchoServer.echo();
        b = EchoServer.echo();
        lb = L4Balancer.builder().ioThreads(1).build();
    }

    @AfterAll
    static void stop() {
        lb.close();
        a.close();
        b.close();
        Resources.assertNoLeaks();
    }

    static Stream<String> schedulers() {
        return Schedulers.names().stream();
    }

    @Test
    void ipvsSchedulersAreAllThere() {
        for (String name : new String[] {"rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh", "fo"}) {
            assertTrue(Schedulers.names().contains(name), name);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schedulers")
    void forwardsWith(String scheduler) throws Exception {
        VirtualServer vs = lb.addService(VirtualService.tcp(Net.ANY_LOOPBACK).scheduler(scheduler)
                .realServer(a.address()).realServer(RealServer.builder(b.address()).weight(2).build()).build());
        try {
            for (int i = 0; i < 6; i++) {
                try (Socket s = Net.connect(vs.localAddress())) {
                    assertEquals(scheduler, Net.echo(s, scheduler));
                }
            }
            assertEquals(6, vs.stats().counters().conns());
            assertEquals(scheduler, vs.stats().scheduler());
        } finally {
            vs.delete();
        }
    }
}
