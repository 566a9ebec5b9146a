package dev.lbkit.l7;

import static dev.lbkit.l7.Fixtures.upstream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamingTest {
    @Test
    void largeRequestBodyIsStreamedToTheUpstream() throws Exception {
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new Random(1).nextBytes(big);
        try (TestBackend b = TestBackend.start(Script.ok("got it"));
                UpstreamPool pool = UpstreamPool.of(upstream(b.port()));
                HttpBalancer lb = HttpBalancer.builder().listen(Fixtures.loopback()).eventLoops(1)
                        .limits(ClientLimits.builder().maxBodySize(0).build())
                        .route(Route.builder("/").group(UpstreamGroup.of(pool)).build()).build().start()) {
            HttpResponse<String> r = Fixtures.CLIENT.send(HttpRequest.newBuilder(Fixtures.uri(lb, "/up"))
                    .timeout(Duration.ofSeconds(10)).PUT(HttpRequest.BodyPublishers.ofByteArray(big)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertArrayEquals(big, b.requests().get(0).body());
        }
    }
}
