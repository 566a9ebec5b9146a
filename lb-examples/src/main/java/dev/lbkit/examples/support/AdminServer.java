package dev.lbkit.examples.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The examples' tiny admin endpoint: a JDK {@link HttpServer} answering {@code GET} on a few paths with
 * text or JSON computed on each request (the {@code ipvsadm} listing, per-upstream counters). Anything
 * else is 404, other methods 405. A full admin server is lb-admin's job; this one has no dependency.
 *
 * <p>One daemon thread serves requests, so endpoint functions never run concurrently with each other.
 * Thread-safe to close from any thread.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    /** An answer: status, content type and body (sent as UTF-8). */
    public record Response(int status, String contentType, String body) {
        public Response {
            Objects.requireNonNull(contentType, "contentType");
            Objects.requireNonNull(body, "body");
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;

    private AdminServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The bound address (the real port when started on port 0). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    @Override
    public String toString() {
        return "admin endpoint on " + Addresses.format(address());
    }

    /** Collects the paths an {@link AdminServer} answers. Not thread-safe. */
    public static final class Builder {
        private final Map<String, Function<String, Response>> routes = new LinkedHashMap<>();

        private Builder() {}

        /**
         * Answers {@code GET path} with {@code body.apply(query)} as {@code text/plain}; the query is the
         * raw text after {@code ?} ({@code stats} for {@code /ipvs?stats}), empty when there is none.
         */
        public Builder text(String path, Function<String, String> body) {
            Objects.requireNonNull(body, "body");
            routes.put(Objects.requireNonNull(path, "path"), q -> new Response(200, "text/plain; charset=utf-8", body.apply(q)));
            return this;
        }

        /** Answers {@code GET path} with {@code body.apply(query)} as {@code application/json}. */
        public Builder json(String path, Function<String, String> body) {
            Objects.requireNonNull(body, "body");
            routes.put(Objects.requireNonNull(path, "path"), q -> new Response(200, "application/json", body.apply(q)));
            return this;
        }

        /** Answers {@code GET path} with whatever {@code handler} returns. */
        public Builder route(String path, Function<String, Response> handler) {
            routes.put(Objects.requireNonNull(path, "path"), Objects.requireNonNull(handler, "handler"));
            return this;
        }

        /**
         * Binds {@code address} and starts serving.
         *
         * @throws StartException naming the address if it cannot be bound
         */
        public AdminServer start(String what, InetSocketAddress address) {
            Map<String, Function<String, Response>> table = Map.copyOf(routes);
            HttpServer server = Addresses.bind(what, address, () -> HttpServer.create(address, 16));
            ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "admin-" + server.getAddress().getPort());
                t.setDaemon(true);
                return t;
            });
            server.setExecutor(executor);
            server.createContext("/", exchange -> serve(exchange, table));
            server.start();
            AdminServer admin = new AdminServer(server, executor);
            log.info("{}: admin endpoint on http://{}{}", what, Addresses.format(admin.address()), table.keySet());
            return admin;
        }

        private static void serve(HttpExchange exchange, Map<String, Function<String, Response>> table) throws IOException {
            try (exchange) {
                Response r;
                Function<String, Response> handler = table.get(exchange.getRequestURI().getPath());
                if (handler == null) {
                    r = new Response(404, "text/plain; charset=utf-8", "not found; try " + table.keySet() + "\n");
                } else if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                    r = new Response(405, "text/plain; charset=utf-8", "only GET\n");
                } else {
                    String q = exchange.getRequestURI().getRawQuery();
                    try {
                        r = handler.apply(q == null ? "" : q);
                    } catch (RuntimeException e) {
                        r = new Response(500, "text/plain; charset=utf-8", e + "\n");
                    }
                }
                byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", r.contentType());
                boolean head = exchange.getRequestMethod().equals("HEAD");
                exchange.sendResponseHeaders(r.status(), head ? -1 : body.length);
                if (!head) {
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(body);
                    }
                }
            }
        }
    }
}
