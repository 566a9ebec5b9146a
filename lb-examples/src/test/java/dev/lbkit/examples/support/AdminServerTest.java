package dev.lbkit.examples.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AdminServerTest {
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private HttpResponse<String> get(AdminServer s, String pathAndQuery) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.address().getPort() + pathAndQuery))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void answersTextAndJsonWithTheQueryAndNotFoundElsewhere() throws Exception {
        try (AdminServer s = AdminServer.builder()
                .text("/ipvs", q -> q.isEmpty() ? "listing\n" : "listing " + q + "\n")
                .json("/stats", q -> "{\"ok\":true}")
                .start("test", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            assertEquals("listing\n", get(s, "/ipvs").body());
            assertEquals("listing stats\n", get(s, "/ipvs?stats").body());
            HttpResponse<String> json = get(s, "/stats");
            assertEquals(200, json.statusCode());
            assertEquals("application/json", json.headers().firstValue("Content-Type").orElseThrow());
            assertEquals("{\"ok\":true}", json.body());
            assertEquals(404, get(s, "/nope").statusCode());
            HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.address().getPort() + "/ipvs"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
        }
    }

    @Test
    void aBusyPortIsAStartExceptionNamingTheAddress() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            StartException e = assertThrows(StartException.class, () -> AdminServer.builder().text("/", q -> "")
                    .start("l4", new InetSocketAddress(InetAddress.getLoopbackAddress(), busy.getLocalPort())));
            assertEquals("l4: cannot listen on 127.0.0.1:" + busy.getLocalPort() + ": Address already in use", e.getMessage());
            assertTrue(e.getMessage().lines().count() == 1);
        }
    }
}
