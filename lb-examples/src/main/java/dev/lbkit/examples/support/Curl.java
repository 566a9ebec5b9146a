package dev.lbkit.examples.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A curl-like HTTP/1.1 client on a plain {@link Socket}: one {@code GET} per connection, the response
 * read by {@code Content-Length}, chunked coding or until the server closes, exactly as the bytes came.
 * {@link #get(List, String, String, Duration, PrintStream)} tries each address in turn, as curl does with
 * the addresses a name resolves to, and can print curl {@code -v}'s trace.
 *
 * <p>Stateless and thread-safe. Every read and connect is bounded by the timeout given.
 */
public final class Curl {
    private static final int MAX_RESPONSE = 1 << 20;

    private Curl() {}

    /**
     * One response.
     *
     * @param took from sending the request to the last byte of the body
     */
    public record Response(InetSocketAddress from, String statusLine, List<Map.Entry<String, String>> headers,
            byte[] body, boolean closedByServer, Duration took) {
        public Response {
            headers = List.copyOf(headers);
        }

        /** The status code. */
        public int status() {
            String[] p = statusLine.split(" ", 3);
            return Integer.parseInt(p[1]);
        }

        /** The protocol version of the status line ({@code HTTP/1.0}, {@code HTTP/1.1}). */
        public String version() {
            return statusLine.split(" ", 2)[0];
        }

        /** The first value of header {@code name} (case-insensitive). */
        public Optional<String> header(String name) {
            return headers.stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst();
        }

        /** The body as UTF-8 text. */
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** {@code GET path} from {@code target} with {@code Host: host}, on a new connection. */
    public static Response get(InetSocketAddress target, String host, String path, Duration timeout) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(target, (int) timeout.toMillis());
            return exchange(s, target, host, path, timeout);
        }
    }

    /**
     * Tries each of {@code targets} in order until one accepts the connection, then {@code GET path} there.
     * With {@code verbose} non-null, prints curl {@code -v}'s lines ({@code * Trying ...}, the request and
     * response headers).
     *
     * @throws IOException when no address accepts (the message reads like curl's "Couldn't connect")
     */
    public static Response get(List<InetSocketAddress> targets, String host, String path, Duration timeout,
            PrintStream verbose) throws IOException {
        long start = System.nanoTime();
        for (InetSocketAddress target : targets) {
            trace(verbose, "*   Trying " + Addresses.format(target) + "...");
            Socket s = new Socket();
            try {
                s.connect(target, (int) timeout.toMillis());
            } catch (IOException e) {
                s.close();
                trace(verbose, "* connect to " + target.getAddress().getHostAddress() + " port " + target.getPort()
                        + " failed: " + e.getMessage());
                continue;
            }
            try (s) {
                String name = host.lastIndexOf(':') > host.lastIndexOf(']') ? host.substring(0, host.lastIndexOf(':')) : host;
                trace(verbose, "* Connected to " + name + " (" + target.getAddress().getHostAddress() + ") port "
                        + target.getPort());
                Response r = exchange(s, target, host, path, timeout);
                if (verbose != null) {
                    verbose.println("> GET " + path + " HTTP/1.1");
                    verbose.println("> Host: " + host);
                    verbose.println("< " + r.statusLine());
                    for (Map.Entry<String, String> h : r.headers()) {
                        verbose.println("< " + h.getKey() + ": " + h.getValue());
                    }
                    verbose.println("<");
                    verbose.print(r.bodyText());
                }
                return r;
            }
        }
        long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
        String port = targets.isEmpty() ? "?" : String.valueOf(targets.get(0).getPort());
        String message = "Failed to connect to " + host + " port " + port + " after " + ms + " ms: Couldn't connect to server";
        trace(verbose, "* " + message);
        throw new IOException(message);
    }

    private static void trace(PrintStream verbose, String line) {
        if (verbose != null) {
            verbose.println(line);
        }
    }

    private static Response exchange(Socket s, InetSocketAddress target, String host, String path, Duration timeout)
            throws IOException {
        long start = System.nanoTime();
        s.setSoTimeout((int) timeout.toMillis());
        OutputStream out = s.getOutputStream();
        String request = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: lbkit-curl\r\nAccept: */*\r\n\r\n";
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = s.getInputStream();
        String statusLine = readLine(in);
        if (statusLine == null || !statusLine.startsWith("HTTP/")) {
            throw new IOException("no HTTP response from " + Addresses.format(target) + ": " + statusLine);
        }
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.add(Map.entry(line.substring(0, colon), line.substring(colon + 1).trim()));
            }
        }
        String length = null;
        String coding = "";
        for (Map.Entry<String, String> h : headers) {
            if (h.getKey().equalsIgnoreCase("Content-Length")) {
                length = h.getValue();
            } else if (h.getKey().equalsIgnoreCase("Transfer-Encoding")) {
                coding = h.getValue().toLowerCase(Locale.ROOT);
            }
        }
        byte[] body;
        if (coding.contains("chunked")) {
            body = readChunked(in);
        } else if (length != null) {
            body = in.readNBytes(Integer.parseInt(length.trim()));
        } else {
            body = readToClose(in);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        boolean closed = false;
        if (length != null || coding.contains("chunked")) {
            // Tell whether the server closes after the body (HTTP/1.0 style) or keeps the connection.
            s.setSoTimeout(200);
            try {
                closed = in.read() < 0;
            } catch (java.net.SocketTimeoutException e) {
                closed = false;
            }
        } else {
            closed = true;
        }
        return new Response(target, statusLine, headers, body, closed, took);
    }

    private static byte[] readToClose(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        for (int n; (n = in.read(chunk)) >= 0;) {
            buf.write(chunk, 0, n);
            if (buf.size() > MAX_RESPONSE) {
                throw new IOException("response larger than " + MAX_RESPONSE + " bytes");
            }
        }
        return buf.toByteArray();
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (;;) {
            String sizeLine = readLine(in);
            if (sizeLine == null) {
                throw new IOException("connection closed inside a chunked body");
            }
            int semi = sizeLine.indexOf(';');
            int size = Integer.parseInt((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
            if (size == 0) {
                for (String t = readLine(in); t != null && !t.isEmpty(); t = readLine(in)) {
                    // Trailers are not needed here.
                }
                return buf.toByteArray();
            }
            if (buf.size() + size > MAX_RESPONSE) {
                throw new IOException("response larger than " + MAX_RESPONSE + " bytes");
            }
            buf.write(in.readNBytes(size));
            readLine(in);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = in.read(); c >= 0; c = in.read()) {
            if (c == '\n') {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
            sb.append((char) c);
            if (sb.length() > 16 * 1024) {
                throw new IOException("header line too long");
            }
        }
        return sb.length() == 0 ? null : sb.toString();
    }
}
