package dev.lbkit.admin.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the admin endpoints. Shared by every connection (stateless apart from its configuration); runs
 * on the admin server's single event loop, so changes are applied one at a time in arrival order.
 *
 * <p>The order of the checks on a changing request under {@code /api/} is part of the contract: token
 * missing (401), method not allowed on that path (405), token wrong (403), unknown pool or upstream
 * (404), bad body (400).
 */
@ChannelHandler.Sharable
public final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger logger = LoggerFactory.getLogger(AdminHandler.class);
    private static final String API = "/api/v1";
    private static final String JSON = "application/json; charset=utf-8";
    private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
    /** The page may run only its own inline script and style and fetch only from this server. */
    private static final String CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            + "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private final AdminState state;
    private final byte[] tokenDigest;
    private final Supplier<String> metrics;
    private final Map<String, Endpoint> texts;
    private final byte[] page;

    /**
     * @param token   the bearer token for changes, or {@code null} to refuse every change
     * @param metrics the Prometheus scrape, or {@code null} when there is none
     * @param texts   further GET endpoints by path (for example {@code /ipvs}), each given the raw query string
     *                ({@code "stats"} for {@code /ipvs?stats}, {@code ""} when there is none)
     */
    public AdminHandler(AdminState state, String token, Supplier<String> metrics, Map<String, Endpoint> texts,
            byte[] page) {
        this.state = state;
        this.tokenDigest = token == null ? null : sha256(token);
        this.metrics = metrics;
        this.texts = Map.copyOf(texts);
        this.page = page.clone();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        FullHttpResponse resp;
        if (!req.decoderResult().isSuccess()) {
            Throwable c = req.decoderResult().cause();
            resp = c instanceof TooLongHttpLineException
                    ? error(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line too long")
                    : c instanceof TooLongHttpHeaderException
                    ? error(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request header fields too large")
                    : error(HttpResponseStatus.BAD_REQUEST, "malformed request");
            HttpUtil.setKeepAlive(resp, false);
            ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        try {
            resp = handle(req);
        } catch (RuntimeException e) {
            logger.warn("admin request {} {} failed", req.method(), req.uri(), e);
            // The cause is in the server's log; the client learns nothing of the server's internals.
            resp = error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: see the admin server's log");
        }
        resp.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        resp.headers().set("X-Content-Type-Options", "nosniff");
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        HttpUtil.setKeepAlive(resp, keepAlive);
        if (req.method().equals(HttpMethod.HEAD)) {
            // Keep the length of the GET answer, send no body.
            FullHttpResponse head = resp.replace(Unpooled.EMPTY_BUFFER);
            resp.release();
            resp = head;
        }
        var f = ctx.writeAndFlush(resp);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else {
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        logger.debug("admin connection {} failed", ctx.channel(), cause);
        ctx.close();
    }

    FullHttpResponse handle(FullHttpRequest req) {
        String uri = originForm(req.uri());
        QueryStringDecoder qs = new QueryStringDecoder(uri);
        String path = qs.rawPath();
        HttpMethod method = req.method();
        boolean reading = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);

        if (path.equals("/api") || path.startsWith("/api/")) {
            if (!reading) {
                if (tokenDigest == null) {
                    return error(HttpResponseStatus.FORBIDDEN,
                            "the admin API is read-only: start the admin server with a token to allow changes");
                }
                if (bearer(req) == null) {
                    FullHttpResponse r = error(HttpResponseStatus.UNAUTHORIZED, "changes need Authorization: Bearer <token>");
                    r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"lbkit-admin\"");
                    return r;
                }
            }
            return api(req, method, path, reading);
        }
        if (!reading) {
            // 405 says the page exists (RFC 9110 section 15.5.6); a path that is none is a 404 whatever the method.
            boolean page = path.equals("/") || path.equals("/index.html") || path.equals("/metrics") && metrics != null
                    || texts.containsKey(path);
            return page ? methodNotAllowed(Set.of("GET", "HEAD"))
                    : error(HttpResponseStatus.NOT_FOUND, "no such page: " + path);
        }
        switch (path) {
            case "/":
            case "/index.html":
                FullHttpResponse r = response(HttpResponseStatus.OK, "text/html; charset=utf-8", page);
                r.headers().set("Content-Security-Policy", CSP);
                r.headers().set("X-Frame-Options", "DENY");
                return r;
            case "/metrics":
                if (metrics == null) {
                    return error(HttpResponseStatus.NOT_FOUND, "no Prometheus registry: give the admin server a metrics scrape");
                }
                return response(HttpResponseStatus.OK, PROMETHEUS, metrics.get().getBytes(StandardCharsets.UTF_8));
            default:
                Endpoint text = texts.get(path);
                if (text == null) {
                    return error(HttpResponseStatus.NOT_FOUND, "no such page: " + path);
                }
                int q = uri.indexOf('?');
                String query = q < 0 ? "" : uri.substring(q + 1);
                return response(HttpResponseStatus.OK, text.contentType(),
                        text.body().apply(query).getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * The path and query of a request target: an absolute-form target ({@code http://host/path?query}),
     * which a server must accept (RFC 9112 section 3.2.2), loses its scheme and authority.
     */
    static String originForm(String uri) {
        int from;
        if (uri.regionMatches(true, 0, "http://", 0, 7)) {
            from = 7;
        } else if (uri.regionMatches(true, 0, "https://", 0, 8)) {
            from = 8;
        } else {
            return uri;
        }
        int end = from;
        while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?') {
            end++;
        }
        return uri.startsWith("/", end) ? uri.substring(end) : "/" + uri.substring(end);
    }

    /** A GET endpoint beyond the built-in ones: its content type and its body for a raw query string. */
    public record Endpoint(String contentType, Function<String, String> body) {}

    /** A resolved API route: the methods it allows and what it does. */
    private interface Action {
        FullHttpResponse run(FullHttpRequest req);
    }

    private record Route(Set<String> methods, Action action) {}

    private FullHttpResponse api(FullHttpRequest req, HttpMethod method, String path, boolean reading) {
        Route route;
        BadRequest badPath = null;
        try {
            route = route(path);
        } catch (BadRequest e) {
            // A path that cannot be decoded names no endpoint: its 400 comes where a 404 would.
            route = null;
            badPath = e;
        }
        if (route != null && !route.methods().contains(method.name())) {
            return methodNotAllowed(route.methods());
        }
        if (!reading && !tokenMatches(req)) {
            return error(HttpResponseStatus.FORBIDDEN, "wrong token");
        }
        if (badPath != null) {
            return error(HttpResponseStatus.BAD_REQUEST, badPath.getMessage());
        }
        if (route == null) {
            return error(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + path);
        }
        return route.action().run(req);
    }

    /** Maps a path to its route, or {@code null} when no route has that shape. */
    private Route route(String path) {
        if (path.equals(API + "/state")) {
            return new Route(Set.of("GET", "HEAD"), r -> json(HttpResponseStatus.OK, state.stateJson()));
        }
        if (path.equals(API + "/pools")) {
            return new Route(Set.of("GET", "HEAD"), r -> json(HttpResponseStatus.OK, state.poolsJson()));
        }
        if (!path.startsWith(API + "/pools/")) {
            return null;
        }
        List<String> seg = segments(path.substring((API + "/pools/").length()));
        if (seg == null || seg.isEmpty()) {
            return null;
        }
        String pool = seg.get(0);
        if (seg.size() == 1) {
            return new Route(Set.of("GET", "HEAD"), r -> state.poolJson(pool)
                    .map(s -> json(HttpResponseStatus.OK, s))
                    .orElseGet(() -> unknownPool(pool)));
        }
        if (!seg.get(1).equals("upstreams")) {
            return null;
        }
        if (seg.size() == 2) {
            return new Route(Set.of("POST"), r -> withPool(pool, p -> add(pool, p, r)));
        }
        String key = seg.get(2);
        if (seg.size() == 3) {
            return new Route(Set.of("GET", "HEAD", "DELETE"), r -> {
                if (r.method().equals(HttpMethod.DELETE)) {
                    return withMember(pool, key, (p, m) -> remove(pool, p, m));
                }
                return state.upstreamJson(pool, key).map(s -> json(HttpResponseStatus.OK, s))
                        .orElseGet(() -> state.pool(pool).isEmpty() ? unknownPool(pool) : unknownUpstream(pool, key));
            });
        }
        if (seg.size() != 4) {
            return null;
        }
        switch (seg.get(3)) {
            case "drain":
                return new Route(Set.of("POST"), r -> withMember(pool, key,
                        (p, m) -> changed(PoolOps.drain(p, m), pool)));
            case "ready":
                return new Route(Set.of("POST"), r -> withMember(pool, key,
                        (p, m) -> changed(PoolOps.ready(p, m), pool)));
            case "maint":
                return new Route(Set.of("POST"), r -> withMember(pool, key, (p, m) -> changed(PoolOps.maint(p, m), pool)));
            case "remove":
                return new Route(Set.of("POST"), r -> withMember(pool, key, (p, m) -> remove(pool, p, m)));
            case "weight":
                return new Route(Set.of("POST"), r -> withMember(pool, key, (p, m) -> {
                    Map<String, Object> body = body(r);
                    if (!body.containsKey("weight") || body.size() != 1) {
                        throw new BadRequest("body must be {\"weight\": <integer 0.." + Upstream.MAX_WEIGHT
                                + ">}, got the fields " + body.keySet());
                    }
                    Object w = body.get("weight");
                    if (!(w instanceof Long weight) || weight < 0 || weight > Upstream.MAX_WEIGHT) {
                        throw new BadRequest("weight must be an integer 0.." + Upstream.MAX_WEIGHT + ", got " + Json.write(w));
                    }
                    return changed(PoolOps.weight(p, m, weight.intValue()), pool);
                }));
            case "override":
                return new Route(Set.of("DELETE"), r -> withPool(pool, p -> clearOverride(pool, p, key)));
            default:
                return null;
        }
    }

    private static final Set<String> ADD_FIELDS = Set.of("host", "port", "weight", "backup", "maxConnections", "name");

    /** Adds to {@code pool}, which the API calls {@code name} (a tier's pool has a name of its own). */
    private FullHttpResponse add(String name, UpstreamPool pool, FullHttpRequest req) {
        Map<String, Object> body = body(req);
        for (String k : body.keySet()) {
            if (!ADD_FIELDS.contains(k)) {
                throw new BadRequest("unknown field \"" + k + "\"; allowed: host, port, weight, backup, maxConnections, name");
            }
        }
        if (!(body.get("host") instanceof String host) || !(body.get("port") instanceof Long port)) {
            throw new BadRequest("body needs \"host\" (string) and \"port\" (integer)");
        }
        Upstream u;
        try {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535, got " + port);
            }
            Upstream.Builder b = Upstream.builder(host, port.intValue());
            Object w = body.get("weight");
            if (w != null) {
                if (!(w instanceof Long lw) || lw < 0 || lw > Upstream.MAX_WEIGHT) {
                    throw new IllegalArgumentException("weight must be an integer 0.." + Upstream.MAX_WEIGHT + ", got " + w);
                }
                b.weight(lw.intValue());
            }
            Object backup = body.get("backup");
            if (backup != null) {
                if (!(backup instanceof Boolean bb)) {
                    throw new IllegalArgumentException("backup must be true or false, got " + backup);
                }
                b.backup(bb);
            }
            Object max = body.get("maxConnections");
            if (max != null) {
                if (!(max instanceof Long lm) || lm < 0 || lm > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("maxConnections must be an integer >= 0, got " + max);
                }
                b.maxConnections(lm.intValue());
            }
            Object display = body.get("name");
            if (display != null) {
                if (!(display instanceof String sn)) {
                    throw new IllegalArgumentException("name must be a string, got " + display);
                }
                b.name(sn);
            }
            u = b.build();
        } catch (IllegalArgumentException e) {
            throw new BadRequest(e.getMessage());
        }
        if (pool.member(u.key()).isPresent()) {
            return error(HttpResponseStatus.CONFLICT, "upstream " + u.key() + " is already in pool " + name);
        }
        try {
            state.membership(pool).add(u);
        } catch (IllegalArgumentException e) {
            throw new BadRequest(e.getMessage());
        }
        logger.info("admin: added {} to pool {}", u, name);
        return json(HttpResponseStatus.CREATED, state.upstreamJson(name, u.key()).orElse("{}"));
    }

    private FullHttpResponse remove(String name, UpstreamPool pool, Member m) {
        String key = m.upstream().key();
        state.membership(pool).remove(key);
        logger.info("admin: removed {} from pool {}", key, name);
        Json.Writer j = new Json.Writer();
        j.beginObject().field("removed", key).field("pool", name).endObject();
        return json(HttpResponseStatus.OK, j.toString());
    }

    /**
     * Gives {@code key} back to the store: 404 when it is neither in the pool nor overridden, else whether
     * there was an override and the upstream now in force.
     */
    private FullHttpResponse clearOverride(String name, UpstreamPool pool, String key) {
        Optional<Member> m = pool.member(key);
        if (m.isEmpty() && !pool.snapshot().overrides().containsKey(key)) {
            return unknownUpstream(name, key);
        }
        boolean cleared = pool.clearOverride(key);
        logger.info("admin: pool {} upstream {} given back to the store (override {})", name, key,
                cleared ? "cleared" : "none");
        return json(HttpResponseStatus.OK, state.overrideClearedJson(name, key, cleared));
    }

    private FullHttpResponse changed(Member m, String pool) {
        logger.info("admin: pool {} upstream {} now weight {}, admin down {}", pool, m.upstream().key(),
                m.upstream().weight(), m.isAdminDown());
        return json(HttpResponseStatus.OK, state.upstreamJson(pool, m.upstream().key()).orElse("{}"));
    }

    private interface PoolAction {
        FullHttpResponse run(UpstreamPool pool);
    }

    private interface MemberAction {
        FullHttpResponse run(UpstreamPool pool, Member member);
    }

    private FullHttpResponse withPool(String name, PoolAction a) {
        Optional<UpstreamPool> p = state.pool(name);
        if (p.isEmpty()) {
            return unknownPool(name);
        }
        try {
            return a.run(p.get());
        } catch (BadRequest e) {
            return error(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
    }

    private FullHttpResponse withMember(String pool, String key, MemberAction a) {
        return withPool(pool, p -> {
            Optional<Member> m = p.member(key);
            if (m.isEmpty()) {
                return unknownUpstream(pool, key);
            }
            return a.run(p, m.get());
        });
    }

    private static Map<String, Object> body(FullHttpRequest req) {
        String text = req.content().toString(StandardCharsets.UTF_8);
        if (text.isBlank()) {
            throw new BadRequest("empty body: expected a JSON object");
        }
        try {
            return Json.parseSimpleObject(text);
        } catch (IllegalArgumentException e) {
            throw new BadRequest(e.getMessage());
        }
    }

    /**
     * Splits and percent-decodes path segments; {@code null} for an empty segment.
     *
     * @throws BadRequest for a segment with a malformed percent-encoding
     */
    private static List<String> segments(String rest) {
        List<String> out = new ArrayList<>();
        for (String s : rest.split("/", -1)) {
            if (s.isEmpty()) {
                return null;
            }
            try {
                // decodeComponent decodes a query: in a path, '+' is itself (RFC 3986 section 3.3), not a space.
                out.add(QueryStringDecoder.decodeComponent(s.replace("+", "%2B")));
            } catch (IllegalArgumentException e) {
                throw new BadRequest("malformed percent-encoding in path segment '" + s + "': " + e.getMessage());
            }
        }
        return out;
    }

    private static String bearer(FullHttpRequest req) {
        String h = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (h == null || h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String t = h.substring(7).trim();
        return t.isEmpty() ? null : t;
    }

    /** Compares digests in constant time, so the time taken says nothing about the token. */
    private boolean tokenMatches(FullHttpRequest req) {
        String t = bearer(req);
        return t != null && MessageDigest.isEqual(tokenDigest, sha256(t));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static FullHttpResponse unknownPool(String pool) {
        return error(HttpResponseStatus.NOT_FOUND, "no pool named '" + pool + "'");
    }

    private static FullHttpResponse unknownUpstream(String pool, String key) {
        return error(HttpResponseStatus.NOT_FOUND, "no upstream " + key + " in pool '" + pool + "'");
    }

    private static FullHttpResponse methodNotAllowed(Set<String> allowed) {
        FullHttpResponse r = error(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed; allowed: "
                + String.join(", ", new java.util.TreeSet<>(allowed)));
        r.headers().set(HttpHeaderNames.ALLOW, String.join(", ", new java.util.TreeSet<>(allowed)));
        return r;
    }

    private static FullHttpResponse json(HttpResponseStatus status, String body) {
        return response(status, JSON, body.getBytes(StandardCharsets.UTF_8));
    }

    private static FullHttpResponse error(HttpResponseStatus status, String message) {
        Json.Writer j = new Json.Writer();
        j.beginObject().field("status", status.code()).field("error", message).endObject();
        return json(status, j.toString());
    }

    private static FullHttpResponse response(HttpResponseStatus status, String type, byte[] body) {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return r;
    }

    /** A request body the API cannot use; answered 400 with its message. */
    private static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
