package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Running;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** GETs from a running command's admin endpoint with the JDK client. */
final class AdminClient {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private AdminClient() {}

    /** The body of {@code GET pathAndQuery} on the command's {@code admin} address; asserts status 200. */
    static String get(Running r, String pathAndQuery) throws Exception {
        InetSocketAddress a = r.address("admin");
        HttpResponse<String> res = CLIENT.send(HttpRequest.newBuilder(URI.create("http://" + Addresses.format(a) + pathAndQuery))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), res.body());
        return res.body();
    }
}
