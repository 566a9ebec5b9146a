package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l4.ProxyProtocol;
import dev.lbkit.l4.VirtualServer;
import dev.lbkit.l4.VirtualService;
import dev.lbkit.l7.ForwardedHeader;
import dev.lbkit.l7.HttpBalancer;
import dev.lbkit.l7.Listener;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * lb-l4 in front of lb-l7 in front of a backend, the PROXY protocol between the two tiers: the backend
 * learns the original client's address from lb-l7's X-Forwarded-For although lb-l7's peer is lb-l4.
 */
class ProxyProtocolStackTest {
    @Test
    void theBackendSeesTheClientBehindBothTiers() throws Exception {
        try (TestBackend backend = TestBackend.start(Script.ok("ok"));
                UpstreamPool pool = UpstreamPool.builder().add(Upstream.of("127.0.0.1", backend.port())).build();
                HttpBalancer l7 = HttpBalancer.builder()
                        .listen(Listener.builder(new InetSocketAddress("127.0.0.1", 0)).acceptProxyProtocol(true).build())
                        .eventLoops(1).route(Route.builder("/").group(UpstreamGroup.of(pool))
                                .forwarded(ForwardedHeader.X_FORWARDED_FOR).build())
                        .build().start();
                L4Balancer l4 = L4Balancer.builder().build()) {
            VirtualServer vs = l4.addService(VirtualService.tcp(new InetSocketAddress("127.0.0.1", 0)).scheduler("rr")
                    .proxyProtocol(ProxyProtocol.V2).realServer(l7.address()).build());
            try (Socket client = new Socket()) {
                // Another loopback address than lb-l4's own, so that the two cannot be mistaken.
                client.bind(new InetSocketAddress("127.0.0.7", 0));
                client.connect(vs.localAddress(), 5000);
                client.setSoTimeout(10_000);
                client.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                String answer = readAll(client.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            }
            assertEquals("127.0.0.7", backend.requests().get(0).header("X-Forwarded-For").orElseThrow());
            assertEquals(0, l7.stats().malformedProxyHeaders());
        }
    }

    private static String readAll(InputStream in) throws java.io.IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.ISO_8859_1);
    }
}
