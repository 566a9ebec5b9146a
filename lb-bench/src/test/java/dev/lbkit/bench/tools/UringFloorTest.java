package dev.lbkit.bench.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.lbkit.testing.EchoServer;
import io.netty.channel.uring.IoUring;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The io_uring floor forwards bytes both ways and passes FINs on, as lb-l4 does, on loopback. */
class UringFloorTest extends StartedParts {

    @Test
    void forwardsBytesBothWaysAndPassesTheFinOn() throws Exception {
        LbkitContender.Started floor = startInFrontOfAnEchoServer();
        for (int i = 0; i < 3; i++) {
            try (Socket client = new Socket()) {
                client.connect(floor.address(), 2000);
                client.setSoTimeout(2000);
                OutputStream out = client.getOutputStream();
                out.write("ping through the io_uring floor".getBytes(StandardCharsets.US_ASCII));
                client.shutdownOutput();
                InputStream in = client.getInputStream();
                // The echo only ends after our FIN reached it, so the whole reply proves the FIN went through.
                assertEquals("ping through the io_uring floor", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
            }
        }
    }

    @Test
    void aBodyLargerThanItsBuffersArrivesWhole() throws Exception {
        LbkitContender.Started floor = startInFrontOfAnEchoServer();
        byte[] body = new byte[1 << 20];
        new Random(7).nextBytes(body);
        try (Socket client = new Socket()) {
            client.connect(floor.address(), 2000);
            client.setSoTimeout(5000);
            Thread writer = new Thread(() -> {
                try {
                    client.getOutputStream().write(body);
                    client.shutdownOutput();
                } catch (java.io.IOException e) {
                    // The assertion below fails on a short reply.
                }
            }, "uring-floor-writer");
            writer.start();
            byte[] echoed = client.getInputStream().readAllBytes();
            writer.join(5000);
            assertTrue(Arrays.equals(body, echoed), "echoed " + echoed.length + " of " + body.length + " bytes");
        }
    }

    private LbkitContender.Started startInFrontOfAnEchoServer() {
        assumeTrue(IoUring.isAvailable(), "io_uring is not available here");
        EchoServer real = EchoServer.echo();
        parts.add(real);
        return UringFloor.start(new String[] {"127.0.0.1:0", "127.0.0.1:" + real.port()}, parts);
    }

    @Test
    void badArgumentsAreRejectedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UringFloor.start(new String[] {"127.0.0.1:0"}, parts));
        assertTrue(e.getMessage().contains("takes 2 arguments"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> UringFloor.start(new String[] {"[::1]:0", "127.0.0.1:1"}, parts));
        assertTrue(e.getMessage().contains("not an IPv4 address"), e.getMessage());
        assertTrue(parts.isEmpty());
    }
}
