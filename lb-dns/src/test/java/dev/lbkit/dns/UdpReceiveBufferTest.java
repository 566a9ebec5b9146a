package dev.lbkit.dns;

import static dev.lbkit.dns.DnsBalancerTest.loopback0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.UpstreamPool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code udpReceiveBuffer} reaches the kernel: {@code ss -m} shows the UDP socket's receive buffer
 * ({@code rb}), which Linux sets to twice the SO_RCVBUF asked for (socket(7)).
 */
class UdpReceiveBufferTest {
    private static final Pattern RB = Pattern.compile("skmem:\\(r\\d+,rb(\\d+),");

    @ParameterizedTest
    @ValueSource(ints = {8192, 262144})
    void theUdpSocketGetsTheConfiguredReceiveBuffer(int bytes) throws Exception {
        try (UpstreamPool pool = UpstreamPool.builder().name("p").add("127.0.0.1", 80).build();
                DnsBalancer dns = DnsBalancer.builder().listen(loopback0()).ioThreads(1).udpReceiveBuffer(bytes)
                        .name("app.local", pool).start()) {
            int port = dns.localAddress().getPort();
            String out = ss(port);
            Matcher m = RB.matcher(out);
            Assumptions.assumeTrue(m.find(), "no socket memory in ss output: " + out);
            assertEquals(2L * bytes, Long.parseLong(m.group(1)), out);
        }
    }

    private static String ss(int port) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder("ss", "-u", "-a", "-n", "-m", "sport = :" + port).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no ss: " + e);
            throw e;
        }
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                Assumptions.abort("ss did not finish in 5 s");
            }
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            p.destroyForcibly();
        }
    }
}
