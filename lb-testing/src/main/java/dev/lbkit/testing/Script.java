package dev.lbkit.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How a {@link TestBackend} answers: status, headers, body, protocol, and faults (delays, early closes,
 * truncated bodies). Immutable; build with {@link #builder()}.
 */
public final class Script {
    /** What the backend does after reading a request. */
    public enum Mode {
        /** Answer normally. */
        ANSWER,
        /** Never answer; keep the connection open until the backend closes. */
        NEVER_ANSWER,
        /** Close the connection without answering. */
        CLOSE,
        /** Reset the connection (RST) without answering. */
        RESET,
        /** Send the headers and only part of the body, then close. */
        TRUNCATE,
        /**
         * Answer {@code 101 Switching Protocols} with the request's {@code Upgrade} value, then echo every
         * byte back until the peer closes: a protocol-neutral stand-in for a WebSocket or other upgraded
         * connection.
         */
        UPGRADE_ECHO,
        /**
         * Answer {@code 101 Switching Protocols} as {@link #UPGRADE_ECHO} does, then read nothing more and send
         * a byte ({@code .}) every 50 ms until a write fails (the peer closed the connection) or the backend
         * closes: an upgraded peer that stopped reading but still talks. {@link TestBackend#openConnections()}
         * shows when the peer has closed it.
         */
        UPGRADE_STALL
    }

    final int status;
    final String reason;
    final byte[] body;
    final List<Map.Entry<String, String>> headers;
    final boolean http11;
    final boolean keepAlive;
    final boolean chunked;
    final boolean contentLength;
    final boolean pythonHeaders;
    final Duration delay;
    final Mode mode;
    final int truncateAt;
    final String rawResponse;

    private Script(Builder b) {
        this.status = b.status;
        this.reason = b.reason;
        this.body = b.body;
        this.headers = List.copyOf(b.headers);
        this.http11 = b.http11;
        this.keepAlive = b.keepAlive;
        this.chunked = b.chunked;
        this.contentLength = b.contentLength;
        this.pythonHeaders = b.pythonHeaders;
        this.delay = b.delay;
        this.mode = b.mode;
        this.truncateAt = b.truncateAt;
        this.rawResponse = b.rawResponse;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A 200 with {@code body}, HTTP/1.1 keep-alive, Content-Length. */
    public static Script ok(String body) {
        return builder().body(body).build();
    }

    /** {@code python3 -m http.server} serving {@code body} as index.html: HTTP/1.0, closed after the body. */
    public static Script pythonHttpServer(String body) {
        return builder().body(body).http10().pythonHeaders(true).build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.status = status;
        b.reason = reason;
        b.body = body;
        b.headers.addAll(headers);
        b.http11 = http11;
        b.keepAlive = keepAlive;
        b.chunked = chunked;
        b.contentLength = contentLength;
        b.pythonHeaders = pythonHeaders;
        b.delay = delay;
        b.mode = mode;
        b.truncateAt = truncateAt;
        b.rawResponse = rawResponse;
        return b;
    }

    /** Builds a {@link Script}. Defaults: 200 OK, empty body, HTTP/1.1 keep-alive with Content-Length, no delay. */
    public static final class Builder {
        private int status = 200;
        private String reason = "OK";
        private byte[] body = new byte[0];
        private final List<Map.Entry<String, String>> headers = new ArrayList<>();
        private boolean http11 = true;
        private boolean keepAlive = true;
        private boolean chunked;
        private boolean contentLength = true;
        private boolean pythonHeaders;
        private Duration delay = Duration.ZERO;
        private Mode mode = Mode.ANSWER;
        private int truncateAt;
        private String rawResponse;

        private Builder() {}

        public Builder status(int status, String reason) {
            this.status = status;
            this.reason = Objects.requireNonNull(reason, "reason");
            return this;
        }

        public Builder status(int status) {
            return status(status, status == 200 ? "OK" : "Status " + status);
        }

        public Builder body(String body) {
            return body(body.getBytes(StandardCharsets.UTF_8));
        }

        public Builder body(byte[] body) {
            this.body = body.clone();
            return this;
        }

        public Builder header(String name, String value) {
            headers.add(Map.entry(name, value));
            return this;
        }

        /** HTTP/1.0 with the connection closed after the body. */
        public Builder http10() {
            this.http11 = false;
            this.keepAlive = false;
            return this;
        }

        /** HTTP/1.1, closing the connection after the response ({@code Connection: close}). */
        public Builder closeAfterResponse() {
            this.keepAlive = false;
            return this;
        }

        /** Chunked transfer coding (HTTP/1.1 only). */
        public Builder chunked() {
            this.chunked = true;
            return this;
        }

        /** No Content-Length and no chunking: the body ends when the connection closes. */
        public Builder closeDelimited() {
            this.contentLength = false;
            this.keepAlive = false;
            return this;
        }

        /** Headers as {@code python3 -m http.server} sends them (Server, Date, Content-type, Content-Length, Last-Modified). */
        public Builder pythonHeaders(boolean on) {
            this.pythonHeaders = on;
            return this;
        }

        /** Wait this long after reading the request before answering. */
        public Builder delay(Duration delay) {
            this.delay = Objects.requireNonNull(delay, "delay");
            return this;
        }

        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** Mode {@link Mode#TRUNCATE}: send headers and {@code bytes} bytes of the body, then close. */
        public Builder truncateAt(int bytes) {
            this.mode = Mode.TRUNCATE;
            this.truncateAt = bytes;
            return this;
        }

        /** Answer with exactly these bytes (ISO-8859-1), then close: for malformed responses. */
        public Builder rawResponse(String raw) {
            this.rawResponse = Objects.requireNonNull(raw, "raw");
            return this;
        }

        public Script build() {
            return new Script(this);
        }
    }
}
