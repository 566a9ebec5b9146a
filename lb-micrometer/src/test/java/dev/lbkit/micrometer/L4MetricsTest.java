package dev.lbkit.micrometer;

import static dev.lbkit.micrometer.PoolMetricsTest.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l4.NodestConn;
import dev.lbkit.l4.VirtualServer;
import dev.lbkit.l4.VirtualService;
import dev.lbkit.testing.Await;
import dev.lbkit.testing.EchoServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class L4MetricsTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @Test
    void l4ConnectionsBytesAndFailuresByCause() throws Exception {
        try (EchoServer e1 = EchoServer.echo(); EchoServer e2 = EchoServer.echo(); L4Balancer l4 = L4Balancer.builder().build();
                LbkitMetrics metrics = LbkitMetrics.builder(registry).l4("ipvs", l4).refreshInterval(Duration.ofHours(1)).build()) {
            VirtualServer vs = l4.addService(VirtualService.tcp(LOOPBACK).scheduler("rr")
                    .realServer(e1.address()).realServer(e2.address()).build());
            for (int i = 0; i < 4; i++) {
                try (Socket sock = new Socket(vs.localAddress().getAddress(), vs.localAddress().getPort())) {
                    sock.setSoTimeout(5000);
                    OutputStream out = sock.getOutputStream();
                    out.write("ping\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    InputStream in = sock.getInputStream();
                    assertEquals("ping\n", new String(in.readNBytes(5), StandardCharsets.US_ASCII));
                }
            }
            metrics.refresh();
            String s = registry.scrape();
            String svc = "balancer=\"ipvs\",service=\"tcp:127.0.0.1:" + vs.localAddress().getPort() + "\"";
            assertEquals(4, value(s, "lbkit_l4_connections_total{" + svc + "}"));
            assertEquals(20, value(s, "lbkit_l4_bytes_total{" + svc + ",direction=\"in\"}"));
            assertEquals(20, value(s, "lbkit_l4_bytes_total{" + svc + ",direction=\"out\"}"));
            assertEquals(0, value(s, "lbkit_l4_failures_total{" + svc + ",cause=\"no_destination\"}"));
            assertEquals(0, value(s, "lbkit_l4_failures_total{" + svc + ",cause=\"malformed_proxy_header\"}"));
            assertEquals(0, value(s, "lbkit_l4_nodest_dropped_total{" + svc + "}"));
            String u1 = svc + ",upstream=\"" + Upstream.of(e1.address()).key() + "\"";
            assertEquals(2, value(s, "lbkit_l4_upstream_connections_total{" + u1 + "}"));
            assertEquals(1, value(s, "lbkit_l4_upstream_weight{" + u1 + "}"));

            vs.removeRealServer(e2.address());
            metrics.refresh();
            assertFalse(registry.scrape().contains(Upstream.of(e2.address()).key()), "a removed real server's meters go");
        }
    }

    @Test
    void udpDatagramsDroppedForAGoneRealServerAreCounted() throws Exception {
        try (DatagramSocket real = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                DatagramSocket client = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                L4Balancer l4 = L4Balancer.builder().ioThreads(1).build();
                LbkitMetrics metrics = LbkitMetrics.builder(registry).l4("ipvs", l4).refreshInterval(Duration.ofHours(1)).build()) {
            real.setSoTimeout(10_000);
            InetSocketAddress address = (InetSocketAddress) real.getLocalSocketAddress();
            VirtualServer vs = l4.addService(VirtualService.udp(LOOPBACK).scheduler("rr")
                    .nodestConn(NodestConn.DROP).realServer(address).build());
            byte[] a = {'a'};
            client.send(new DatagramPacket(a, 1, vs.localAddress()));
            real.receive(new DatagramPacket(new byte[16], 16));
            vs.removeRealServer(address);
            client.send(new DatagramPacket(a, 1, vs.localAddress()));
            Await.until(() -> vs.stats().nodestDropped() == 1);
            metrics.refresh();
            String svc = "balancer=\"ipvs\",service=\"udp:127.0.0.1:" + vs.localAddress().getPort() + "\"";
            assertEquals(1, value(registry.scrape(), "lbkit_l4_nodest_dropped_total{" + svc + "}"));
        }
    }
}
