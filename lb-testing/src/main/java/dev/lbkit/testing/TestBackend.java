package dev.lbkit.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A scriptable HTTP/1.x backend on a real socket, for tests and demos: fixed pages, HTTP/1.0
 * close-delimited answers like {@code python3 -m http.server}, keep-alive, chunked bodies, slow or
 * silent answers, early closes and truncated bodies. It records every request it reads, and takes a
 * PROXY protocol v1 line at the start of a connection (HAProxy's {@code send-proxy}, as nginx's
 * {@code listen … proxy_protocol}) as that connection's header, recorded apart ({@link #proxyHeaders()}).
 *
 * <p>Blocking I/O with one thread per connection: simple enough to trust as a test oracle. The script
 * can be changed while it runs ({@link #script(Script)}), as the seed swaps backend 1 for a slow one.
 * Thread-safe. Binds to 127.0.0.1 on an ephemeral port unless told otherwise.
 */
public final class TestBackend implements AutoCloseable {
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);
    private static final int MAX_HEADER_BYTES = 64 * 1024;

    private final BlockingServer server;
    private volatile Function<RecordedRequest, Script> router;
    private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
    private final List<String> proxyHeaders = new CopyOnWriteArrayList<>();
    private final String lastModified = HTTP_DATE.format(ZonedDateTime.now(ZoneOffset.UTC));

    private TestBackend(InetSocketAddress bind, Function<RecordedRequest, Script> router) {
        this.router = router;
        this.server = new BlockingServer(bind, "test-backend", this::serve);
    }

    /** Starts a backend on 127.0.0.1, ephemeral port, answering with {@code script}. */
    public static TestBackend start(Script script) {
        return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), script);
    }

    /** Starts a backend on {@code bind} answering with {@code script}. */
    public static TestBackend start(InetSocketAddress bind, Script script) {
        Objects.requireNonNull(script, "script");
        return start(bind, r -> script);
    }

    /** Starts a backend on {@code bind} that chooses a script per request. */
    public static TestBackend start(InetSocketAddress bind, Function<RecordedRequest, Script> router) {
        return new TestBackend(Objects.requireNonNull(bind, "bind"), Objects.requireNonNull(router, "router"));
    }

    /** Answers every later request with {@code script}. */
    public void script(Script script) {
        Objects.requireNonNull(script, "script");
        this.router = r -> script;
    }

    /** Chooses the script per request from now on. */
    public void router(Function<RecordedRequest, Script> router) {
        this.router = Objects.requireNonNull(router, "router");
    }

    public int port() {
        return server.port();
    }

    public InetSocketAddress address() {
        return server.address();
    }

    /** Every request read so far, in arrival order. */
    public List<RecordedRequest> requests() {
        return List.copyOf(requests);
    }

    /** How many requests were read so far. */
    public int requestCount() {
        return requests.size();
    }

    /**
     * The PROXY protocol v1 lines ({@code PROXY TCP4 …}, without the CRLF) that connections started with,
     * in arrival order. A v2 (binary) header is not read.
     */
    public List<String> proxyHeaders() {
        return List.copyOf(proxyHeaders);
    }

    /** How many connections were accepted so far. */
    public int connectionCount() {
        return server.connectionCount();
    }

    /** How many connections are open now. */
    public int openConnections() {
        return server.openConnections();
    }

    /** Forgets the recorded requests, PROXY headers and connection count. */
    public void clear() {
        requests.clear();
        proxyHeaders.clear();
        server.resetConnectionCount();
    }

    /** Stops listening and closes every connection. */
    @Override
    public void close() {
        server.close();
    }

    private void serve(Socket s, int index) throws IOException, InterruptedException {
        s.setTcpNoDelay(true);
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        boolean first = true;
        while (!server.isClosed()) {
            RecordedRequest req = readRequest(in, out, index, first);
            first = false;
            if (req == null) {
                return;
            }
            requests.add(req);
            Script script = router.apply(req);
            if (!script.delay.isZero()) {
                Thread.sleep(script.delay.toMillis());
            }
            switch (script.mode) {
                case NEVER_ANSWER:
                    while (!server.isClosed() && in.read() >= 0) {
                        // Swallow whatever comes until the peer or the backend closes.
                    }
                    return;
                case CLOSE:
                    return;
                case RESET:
                    s.setSoLinger(true, 0);
                    return;
                case UPGRADE_STALL:
                    switchProtocols(out, req);
                    while (!server.isClosed()) {
                        out.write('.'); // fails (a reset) once the peer has closed
                        out.flush();
                        Thread.sleep(50);
                    }
                    return;
                case UPGRADE_ECHO:
                    switchProtocols(out, req);
                    byte[] buf = new byte[8192];
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                    return;
                default:
                    break;
            }
            if (script.rawResponse != null) {
                out.write(script.rawResponse.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                return;
            }
            boolean keepAlive = writeResponse(out, req, script);
            if (!keepAlive) {
                s.shutdownOutput();
                // Drain briefly so the close does not turn into a reset while the peer still writes.
                s.setSoTimeout(200);
                try {
                    while (in.read() >= 0) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // Timeout or reset: done either way.
                }
                return;
            }
        }
    }

    /** The 101 of the upgrade modes, naming the request's {@code Upgrade} value. */
    private static void switchProtocols(OutputStream out, RecordedRequest req) throws IOException {
        out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + req.header("Upgrade").orElse("echo")
                + "\r\nConnection: Upgrade\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private boolean writeResponse(OutputStream out, RecordedRequest req, Script sc) throws IOException {
        boolean head = req.method().equals("HEAD");
        boolean bodyless = head || sc.status == 204 || sc.status == 304 || sc.status / 100 == 1;
        boolean keepAlive = sc.keepAlive && sc.http11 && !"close".equalsIgnoreCase(req.header("Connection").orElse(""))
                && !req.version().equals("HTTP/1.0");
        StringBuilder h = new StringBuilder();
        h.append(sc.http11 ? "HTTP/1.1 " : "HTTP/1.0 ").append(sc.status).append(' ').append(sc.reason).append("\r\n");
        if (sc.pythonHeaders) {
            h.append("Server: SimpleHTTP/0.6 Python/3.11.2\r\n");
            h.append("Date: ").append(HTTP_DATE.format(ZonedDateTime.now(ZoneOffset.UTC))).append("\r\n");
            h.append("Content-type: text/html\r\n");
            h.append("Content-Length: ").append(sc.body.length).append("\r\n");
            h.append("Last-Modified: ").append(lastModified).append("\r\n");
        } else {
            for (Map.Entry<String, String> e : sc.headers) {
                h.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
            }
            if (!bodyless || head) {
                if (sc.chunked && sc.http11) {
                    h.append("Transfer-Encoding: chunked\r\n");
                } else if (sc.contentLength) {
                    h.append("Content-Length: ").append(sc.body.length).append("\r\n");
                }
            }
            if (sc.http11 && !keepAlive) {
                h.append("Connection: close\r\n");
            }
        }
        h.append("\r\n");
        out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (!bodyless) {
            if (sc.mode == Script.Mode.TRUNCATE) {
                out.write(sc.body, 0, Math.min(sc.truncateAt, sc.body.length));
                out.flush();
                return false;
            }
            if (sc.chunked && sc.http11) {
                if (sc.body.length > 0) {
                    out.write((Integer.toHexString(sc.body.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.write(sc.body);
                    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            } else {
                out.write(sc.body);
            }
        }
        out.flush();
        return keepAlive && (sc.contentLength || sc.chunked || bodyless);
    }

    private RecordedRequest readRequest(InputStream in, OutputStream out, int index, boolean first)
            throws IOException {
        String line = readLine(in);
        if (first && line != null && line.startsWith("PROXY ")) {
            proxyHeaders.add(line);
            line = readLine(in);
        }
        while (line != null && line.isEmpty()) {
            line = readLine(in); // tolerate CRLF between pipelined requests (RFC 9112 2.2)
        }
        if (line == null) {
            return null;
        }
        String[] parts = line.split(" ", 3);
        if (parts.length != 3) {
            out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return null;
        }
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        int total = line.length();
        for (;;) {
            String h = readLine(in);
            if (h == null) {
                return null;
            }
            if (h.isEmpty()) {
                break;
            }
            total += h.length();
            if (total > MAX_HEADER_BYTES) {
                return null;
            }
            int colon = h.indexOf(':');
            if (colon > 0) {
                headers.add(Map.entry(h.substring(0, colon).trim(), h.substring(colon + 1).trim()));
            }
        }
        RecordedRequest head = new RecordedRequest(parts[0], parts[1], parts[2], headers, new byte[0], index);
        if (head.header("Expect").map(v -> v.equalsIgnoreCase("100-continue")).orElse(false)) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
        byte[] body;
        if (head.header("Transfer-Encoding").map(v -> v.toLowerCase(Locale.ROOT).contains("chunked")).orElse(false)) {
            body = readChunked(in);
        } else {
            int len = head.header("Content-Length").map(Integer::parseInt).orElse(0);
            body = in.readNBytes(len);
            if (body.length < len) {
                return null;
            }
        }
        return new RecordedRequest(parts[0], parts[1], parts[2], headers, body, index);
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (;;) {
            String sizeLine = readLine(in);
            if (sizeLine == null) {
                throw new SocketException("eof in chunked body");
            }
            int semi = sizeLine.indexOf(';');
            int size = Integer.parseInt((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
            if (size == 0) {
                while (true) {
                    String trailer = readLine(in);
                    if (trailer == null || trailer.isEmpty()) {
                        return buf.toByteArray();
                    }
                }
            }
            buf.write(in.readNBytes(size));
            readLine(in);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (;;) {
            int c = in.read();
            if (c < 0) {
                return sb.length() == 0 ? null : sb.toString();
            }
            if (c == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                return sb.toString();
            }
            sb.append((char) c);
            if (sb.length() > MAX_HEADER_BYTES) {
                throw new SocketException("header line too long");
            }
        }
    }
}
