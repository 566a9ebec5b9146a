package dev.lbkit.testing;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One HTTP request as a {@link TestBackend} received it. Immutable.
 *
 * @param method  request method, as sent
 * @param target  request target, as sent
 * @param version protocol version, as sent ({@code HTTP/1.0}, {@code HTTP/1.1})
 * @param headers header fields in arrival order, names as sent
 * @param body    the body bytes (decoded from chunked if it was chunked)
 * @param connectionIndex which connection of the backend it arrived on (0-based)
 */
public record RecordedRequest(String method, String target, String version,
        List<Map.Entry<String, String>> headers, byte[] body, int connectionIndex) {

    public RecordedRequest {
        headers = List.copyOf(headers);
        body = body.clone();
    }

    /** The first value of the header named {@code name} (case-insensitive). */
    public Optional<String> header(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (Map.Entry<String, String> e : headers) {
            if (e.getKey().toLowerCase(Locale.ROOT).equals(n)) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }

    /** Every value of the header named {@code name} (case-insensitive), in order. */
    public List<String> headers(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return headers.stream().filter(e -> e.getKey().toLowerCase(Locale.ROOT).equals(n))
                .map(Map.Entry::getValue).toList();
    }

    /** The body as UTF-8 text. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public byte[] body() {
        return body.clone();
    }
}
