package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Curl;
import dev.lbkit.examples.support.Dig;
import dev.lbkit.examples.support.Running;
import dev.lbkit.l7.HttpBalancer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StackCommandTest {

    @Test
    void dnsSpreadsOverTwoL4ServicesEachOverTwoL7BalancersOverTheBackends() throws Exception {
        try (Running stack = new StackCommand().start("--ports", "ephemeral", "--admin", "127.0.0.1:0")) {
            InetSocketAddress dns = stack.address("dns");
            Dig.Answer a = Dig.a(dns, Seed.NAME, Duration.ofSeconds(3));
            assertEquals("NOERROR", a.status());
            assertEquals(Set.of(InetAddress.getByName("127.0.100.1"), InetAddress.getByName("127.0.100.2")),
                    new HashSet<>(a.addresses()));
            int port = stack.address("l4-a").getPort();
            assertEquals(port, stack.address("l4-b").getPort(), "both services share the port DNS cannot carry");

            Set<String> pages = new HashSet<>();
            for (InetAddress vip : a.addresses()) {
                for (int i = 0; i < 8; i++) {
                    InetSocketAddress target = new InetSocketAddress(vip, port);
                    Curl.Response r = Curl.get(List.of(target), Seed.NAME, "/", Duration.ofSeconds(5), null);
                    assertEquals(200, r.status());
                    pages.add(r.bodyText());
                }
            }
            assertEquals(Set.of(Seed.PAGE_1, Seed.PAGE_2), pages);
            // Each L4 service spreads its connections over both of its L7 balancers (the DNS tier's TCP probes
            // of the services' port take turns too, so the split is not exactly even).
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            long[] requests = new long[4];
            do {
                for (int i = 0; i < 4; i++) {
                    requests[i] = stack.part("l7-" + (i + 1), Running.class).part("l7", HttpBalancer.class)
                            .stats().route("/").requests();
                }
            } while (Arrays.stream(requests).sum() < 16 && System.nanoTime() < deadline);
            assertEquals(16, Arrays.stream(requests).sum(), Arrays.toString(requests));
            for (int i = 0; i < 4; i++) {
                assertTrue(requests[i] > 0, "l7-" + (i + 1) + " got no request: " + Arrays.toString(requests));
            }
            String listing = AdminClient.get(stack, "/ipvs");
            assertTrue(listing.contains("TCP  127.0.100.1:" + port + " rr"), listing);
            assertTrue(listing.contains("TCP  127.0.100.2:" + port + " rr"), listing);
            assertTrue(listing.contains("  -> " + Addresses.format(stack.address("l7-4")) + " "), listing);
            String stats = AdminClient.get(stack, "/stats");
            assertTrue(stats.startsWith("{\"l7-1\":{\"listen\":"), stats);
        }
    }
}
