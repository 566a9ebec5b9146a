package dev.lbkit.bench.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.EchoServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The Netty floor forwards the benchmark's traffic as lbkit's contenders do, on loopback. */
class NettyFloorTest extends StartedParts {

    @Test
    void l7AddsTheSeedHeaderAndKeepsOneUpstreamConnectionPerClient() throws Exception {
        SeedUpstream upstream = new SeedUpstream();
        parts.add(upstream);

        LbkitContender.Started floor = NettyFloor.start(
                new String[] {"l7", "127.0.0.1:0", "127.0.0.1:" + upstream.port()}, parts);
        upstream.assertThreeRequestsOverOneConnection(floor.address());
    }

    @Test
    void l7ClosesOnAResponseWithoutContentLength() throws Exception {
        ServerSocket upstream = new ServerSocket();
        upstream.bind(new InetSocketAddress("127.0.0.1", 0));
        parts.add(upstream);
        Thread server = new Thread(() -> {
            try (Socket s = upstream.accept()) {
                s.getInputStream().read(new byte[4096]);
                s.getOutputStream().write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                s.getInputStream().read();
            } catch (java.io.IOException e) {
                // The test fails on what the client reads.
            }
        }, "chunked-upstream");
        server.setDaemon(true);
        server.start();
        LbkitContender.Started floor = NettyFloor.start(
                new String[] {"l7", "127.0.0.1:0", "127.0.0.1:" + upstream.getLocalPort()}, parts);
        try (Socket client = new Socket()) {
            client.connect(floor.address(), 2000);
            client.setSoTimeout(2000);
            client.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, client.getInputStream().read(), "closed, nothing forwarded");
        }
    }

    @Test
    void l4ForwardsBytesBothWaysAndPassesTheFinOn() throws Exception {
        EchoServer real = EchoServer.echo();
        parts.add(real);

        LbkitContender.Started floor = NettyFloor.start(
                new String[] {"l4", "127.0.0.1:0", "127.0.0.1:" + real.port()}, parts);
        try (Socket client = new Socket()) {
            client.connect(floor.address(), 2000);
            client.setSoTimeout(2000);
            OutputStream out = client.getOutputStream();
            out.write("ping through the floor".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            InputStream in = client.getInputStream();
            // The echo only ends after our FIN reached it, so the whole reply proves the FIN went through.
            assertEquals("ping through the floor", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void badArgumentsAreRejectedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NettyFloor.start(new String[] {"l7", "127.0.0.1:0"}, parts));
        assertTrue(e.getMessage().contains("l7 takes 2 arguments"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NettyFloor.start(new String[] {"dns", "127.0.0.1:0", "127.0.0.1:1"}, parts));
        assertTrue(e.getMessage().contains("unknown tier 'dns'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NettyFloor.start(new String[] {"l4", "nowhere", "127.0.0.1:1"}, parts));
        assertTrue(e.getMessage().contains("HOST:PORT"), e.getMessage());
        assertTrue(parts.isEmpty());
    }
}
