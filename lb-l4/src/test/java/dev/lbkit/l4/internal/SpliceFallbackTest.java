package dev.lbkit.l4.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l4.VirtualServer;
import dev.lbkit.l4.VirtualService;
import dev.lbkit.testing.EchoServer;
import dev.lbkit.transport.TransportType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** A spliced connection that can get no pipe (descriptors or pipe memory used up) copies and stays byte-exact. */
class SpliceFallbackTest {

    @AfterEach
    void pipesAgain() {
        Pipes.unavailable = false;
    }

    @Test
    void withoutPipesBytesAreCopiedAndStillArriveWhole() throws Exception {
        Assumptions.assumeTrue(TransportType.available().contains(TransportType.EPOLL), "epoll not available");
        Pipes.unavailable = true;
        try (EchoServer echo = EchoServer.echo();
                L4Balancer lb = L4Balancer.builder().ioThreads(1).transport(TransportType.EPOLL).zeroCopy(true).build()) {
            VirtualServer vs = lb.addService(VirtualService.tcp(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .scheduler("rr").realServer(echo.address()).build());
            byte[] data = new byte[4 << 20];
            new Random(7).nextBytes(data);
            try (Socket s = new Socket()) {
                s.setSoTimeout(10_000);
                s.connect(vs.localAddress(), 5000);
                CompletableFuture<Void> w = CompletableFuture.runAsync(() -> {
                    try {
                        OutputStream out = s.getOutputStream();
                        out.write(data);
                        out.flush();
                        s.shutdownOutput();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                ByteArrayOutputStream back = new ByteArrayOutputStream();
                s.getInputStream().transferTo(back);
                w.get(10, TimeUnit.SECONDS);
                assertArrayEquals(data, back.toByteArray(), "echoed whole, in order, then the FIN");
            }
            assertEquals(data.length, vs.stats().counters().inBytes());
            assertEquals(data.length, vs.stats().counters().outBytes());
        }
    }
}
