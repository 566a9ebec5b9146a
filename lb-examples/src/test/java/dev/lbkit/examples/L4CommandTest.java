package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Curl;
import dev.lbkit.examples.support.Running;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class L4CommandTest {
    /** The ActiveConn and InActConn columns of the real server's line in an {@code ipvsadm -ln} listing. */
    static String counters(String listing, InetSocketAddress real) {
        for (String line : listing.split("\n")) {
            if (line.startsWith("  -> " + Addresses.format(real) + " ")) {
                String[] f = line.trim().split("\\s+");
                return f[4] + " " + f[5];
            }
        }
        throw new AssertionError("no line for " + real + " in\n" + listing);
    }

    @Test
    void rrAlternatesAndTheListingShowsZeroAndFiftyOneAfter102Requests() throws Exception {
        try (Running backends = new BackendsCommand().start("--ports", "0,0")) {
            InetSocketAddress b1 = backends.address("backend-1");
            InetSocketAddress b2 = backends.address("backend-2");
            try (Running l4 = new L4Command().start("--listen", "127.0.100.1:0", "--real", Addresses.format(b1),
                    "--real", Addresses.format(b2), "--admin", "127.0.0.1:0", "--threads", "1")) {
                InetSocketAddress vip = l4.address("l4");
                assertEquals("127.0.100.1", vip.getAddress().getHostAddress());
                String before = AdminClient.get(l4, "/ipvs");
                assertTrue(before.startsWith("IP Virtual Server version 1.2.1 (size=4096)\n"), before);
                assertTrue(before.contains("TCP  " + Addresses.format(vip) + " rr\n"), before);
                assertEquals("0 0", counters(before, b1));
                assertEquals("0 0", counters(before, b2));
                assertTrue(before.contains("Masq    1"), before);

                List<String> bodies = new ArrayList<>();
                for (int i = 0; i < 102; i++) {
                    Curl.Response res = Curl.get(vip, Addresses.format(vip), "/", Duration.ofSeconds(5));
                    assertEquals(200, res.status());
                    bodies.add(res.bodyText());
                }
                for (int i = 1; i < bodies.size(); i++) {
                    assertNotEquals(bodies.get(i - 1), bodies.get(i), "rr must alternate at request " + i);
                    assertTrue(bodies.get(i).equals(Seed.PAGE_1) || bodies.get(i).equals(Seed.PAGE_2));
                }
                // Connections close asynchronously on the balancer's side after the client saw the last byte.
                String after = awaitListing(l4, b1, b2, "0 51");
                assertEquals("0 51", counters(after, b1), after);
                assertEquals("0 51", counters(after, b2), after);

                String stats = AdminClient.get(l4, "/ipvs?stats");
                assertTrue(stats.contains("Conns") && stats.contains("InBytes"), stats);
                assertTrue(stats.contains("TCP  " + Addresses.format(vip)), stats);
                String rate = AdminClient.get(l4, "/ipvs?rate");
                assertTrue(rate.contains("CPS") && rate.contains("InBPS"), rate);
            }
        }
    }

    private static String awaitListing(Running l4, InetSocketAddress b1, InetSocketAddress b2, String expected)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        String listing = AdminClient.get(l4, "/ipvs");
        while (System.nanoTime() < deadline
                && !(counters(listing, b1).equals(expected) && counters(listing, b2).equals(expected))) {
            Thread.sleep(50);
            listing = AdminClient.get(l4, "/ipvs");
        }
        return listing;
    }

    @Test
    void udpServiceForwardsDatagramsAndListsAsUdp() throws Exception {
        try (java.net.DatagramSocket echo = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[512];
                try {
                    for (;;) {
                        java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
                        echo.receive(p);
                        echo.send(new java.net.DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                    }
                } catch (java.io.IOException closed) {
                    // The test is over.
                }
            }, "udp-echo");
            t.setDaemon(true);
            t.start();
            InetSocketAddress real = (InetSocketAddress) echo.getLocalSocketAddress();
            try (Running l4 = new L4Command().start("--udp", "--listen", "127.0.0.1:0", "--real", Addresses.format(real),
                    "--admin", "127.0.0.1:0", "--threads", "1");
                    java.net.DatagramSocket client = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                client.setSoTimeout(3000);
                byte[] ping = "ping".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                client.send(new java.net.DatagramPacket(ping, ping.length, l4.address("l4")));
                java.net.DatagramPacket reply = new java.net.DatagramPacket(new byte[16], 16);
                client.receive(reply);
                assertEquals("ping", new String(reply.getData(), 0, reply.getLength(), java.nio.charset.StandardCharsets.US_ASCII));
                String listing = AdminClient.get(l4, "/ipvs");
                assertTrue(listing.contains("UDP  " + Addresses.format(l4.address("l4")) + " rr\n"), listing);
            }
        }
    }

    @Test
    void weightsAndBadRealServersAreChecked() throws Exception {
        try (Running l4 = new L4Command().start("--listen", "127.0.0.1:0", "--scheduler", "wrr",
                "--real", "127.0.0.1:1:3", "--real", "127.0.0.1:2", "--admin", "127.0.0.1:0", "--threads", "1")) {
            String listing = AdminClient.get(l4, "/ipvs");
            assertTrue(listing.contains("  -> 127.0.0.1:1                  Masq    3"), listing);
            assertTrue(listing.contains(" wrr\n"), listing);
        }
        assertThrows(Cli.UsageException.class, () -> new L4Command().start("--real", "backend:80"));
        assertThrows(Cli.UsageException.class, () -> new L4Command().start("--real", "127.0.0.1"));
        assertThrows(Cli.UsageException.class, () -> new L4Command().start("--scheduler", "no-such-scheduler",
                "--listen", "127.0.0.1:0", "--admin", "none"));
    }
}
