package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.examples.support.Curl;
import dev.lbkit.examples.support.Running;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SlowBackendCommandTest {

    @Test
    void readsTheRequestAndAnswersOnlyAfterTheDelay() throws Exception {
        try (Running r = new SlowBackendCommand().start("--listen", "127.0.0.1:0", "--delay", "1s")) {
            InetSocketAddress a = r.address("slow-backend");
            // A client with the seed's 1 s read budget, minus margin, times out.
            assertThrows(SocketTimeoutException.class, () -> Curl.get(a, "backend", "/", Duration.ofMillis(400)));
            long start = System.nanoTime();
            Curl.Response res = Curl.get(a, "backend", "/", Duration.ofSeconds(5));
            long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertTrue(ms >= 900, "answered after " + ms + " ms");
            assertEquals("HTTP/1.0 200 OK", res.statusLine());
            assertEquals("text/html", res.header("Content-type").orElseThrow());
            assertTrue(res.header("Content-Length").isEmpty(), "close-delimited like the seed's SlowHandler");
            assertEquals(Seed.SLOW_PAGE, res.bodyText());
            assertEquals(2, r.part("slow-backend", dev.lbkit.testing.TestBackend.class).requestCount());
        }
    }

    @Test
    void defaultDelayIsTheSeedsThousandSeconds() {
        assertEquals(Duration.ofSeconds(1000), new SlowBackendCommand().spec().parse().duration("delay"));
        assertEquals(new InetSocketAddress("127.0.0.1", 8081), new SlowBackendCommand().spec().parse().address("listen"));
    }
}
