package dev.lbkit.l7;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A hand-driven HTTP/2 client on a blocking socket, cleartext (prior knowledge) or TLS with ALPN h2: frames
 * are written and read one at a time, so a test can send what a client library never would (too many
 * streams, resets, a body past the window, malformed frames) and see every frame the proxy answers with.
 * Header blocks are HPACK-coded with Netty's encoder and decoder. Not thread-safe.
 */
final class H2Wire implements AutoCloseable {
    static final int DATA = 0x0;
    static final int HEADERS = 0x1;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int PING = 0x6;
    static final int GOAWAY = 0x7;
    static final int WINDOW_UPDATE = 0x8;

    static final int END_STREAM = 0x1;
    static final int ACK = 0x1;
    static final int END_HEADERS = 0x4;

    static final int NO_ERROR = 0x0;
    static final int PROTOCOL_ERROR = 0x1;
    static final int FLOW_CONTROL_ERROR = 0x3;
    static final int REFUSED_STREAM = 0x7;
    static final int CANCEL = 0x8;
    static final int ENHANCE_YOUR_CALM = 0xb;

    static final int SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
    static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
    static final int SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** One frame read; {@code headers} is the decoded block of a HEADERS frame, else null. */
    record Frame(int type, int flags, int stream, byte[] payload, Http2Headers headers) {
        boolean endStream() {
            return (type == DATA || type == HEADERS) && (flags & END_STREAM) != 0;
        }

        /** The error code of a RST_STREAM or GOAWAY frame. */
        int errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return (payload[at] & 0xff) << 24 | (payload[at + 1] & 0xff) << 16 | (payload[at + 2] & 0xff) << 8
                    | payload[at + 3] & 0xff;
        }

        /** A WINDOW_UPDATE frame's increment, or a GOAWAY frame's last stream id. */
        int first31() {
            return (payload[0] & 0x7f) << 24 | (payload[1] & 0xff) << 16 | (payload[2] & 0xff) << 8 | payload[3] & 0xff;
        }

        /** A SETTINGS frame's value for {@code id}, or -1. */
        long setting(int id) {
            for (int i = 0; i + 6 <= payload.length; i += 6) {
                if (((payload[i] & 0xff) << 8 | payload[i + 1] & 0xff) == id) {
                    return (payload[i + 2] & 0xffL) << 24 | (payload[i + 3] & 0xff) << 16
                            | (payload[i + 4] & 0xff) << 8 | payload[i + 5] & 0xff;
                }
            }
            return -1;
        }

        String status() {
            return headers == null || headers.status() == null ? null : headers.status().toString();
        }

        @Override
        public String toString() {
            return "Frame{type=" + type + ", flags=" + flags + ", stream=" + stream + ", length=" + payload.length
                    + (headers != null ? ", " + headers : "") + "}";
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
    /** Frames {@link #await} read and did not want, for a later {@code await}. */
    private final java.util.List<Frame> passed = new java.util.ArrayList<>();

    private H2Wire(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(10_000);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** A cleartext connection to {@code port} on 127.0.0.1; nothing sent yet. */
    static H2Wire cleartext(int port) throws IOException {
        return new H2Wire(new Socket("127.0.0.1", port));
    }

    /** A TLS connection to {@code port} on 127.0.0.1 whose ALPN offers only h2; the handshake is done. */
    static H2Wire tls(int port, SSLContext context) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        SSLParameters p = s.getSSLParameters();
        p.setApplicationProtocols(new String[] {"h2"});
        s.setSSLParameters(p);
        s.startHandshake();
        if (!"h2".equals(s.getApplicationProtocol())) {
            s.close();
            throw new IOException("ALPN chose " + s.getApplicationProtocol());
        }
        return new H2Wire(s);
    }

    Socket socket() {
        return socket;
    }

    /** Sends the client preface and a SETTINGS frame with {@code idValuePairs}. */
    H2Wire preface(int... idValuePairs) throws IOException {
        out.write(PREFACE);
        byte[] p = new byte[idValuePairs.length * 3];
        for (int i = 0, j = 0; i < idValuePairs.length; i += 2, j += 6) {
            p[j] = (byte) (idValuePairs[i] >> 8);
            p[j + 1] = (byte) idValuePairs[i];
            p[j + 2] = (byte) (idValuePairs[i + 1] >> 24);
            p[j + 3] = (byte) (idValuePairs[i + 1] >> 16);
            p[j + 4] = (byte) (idValuePairs[i + 1] >> 8);
            p[j + 5] = (byte) idValuePairs[i + 1];
        }
        frame(SETTINGS, 0, 0, p);
        return this;
    }

    /** A request's HEADERS frame: {@code GET}-like pseudo fields first, then {@code more} name/value pairs. */
    void request(int stream, String method, String path, boolean endStream, String... more) throws IOException {
        Http2Headers h = new DefaultHttp2Headers(false).method(method).scheme("https").authority("lbkit.test")
                .path(path);
        for (int i = 0; i < more.length; i += 2) {
            h.add(more[i], more[i + 1]);
        }
        headers(stream, h, endStream);
    }

    void headers(int stream, Http2Headers h, boolean endStream) throws IOException {
        ByteBuf block = Unpooled.buffer();
        try {
            encoder.encodeHeaders(stream, h, block);
            byte[] b = new byte[block.readableBytes()];
            block.readBytes(b);
            frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, b);
        } catch (Http2Exception e) {
            throw new IOException(e);
        } finally {
            block.release();
        }
    }

    void data(int stream, byte[] bytes, boolean endStream) throws IOException {
        frame(DATA, endStream ? END_STREAM : 0, stream, bytes);
    }

    void reset(int stream, int errorCode) throws IOException {
        frame(RST_STREAM, 0, stream, int32(errorCode));
    }

    void windowUpdate(int stream, int increment) throws IOException {
        frame(WINDOW_UPDATE, 0, stream, int32(increment));
    }

    void settingsAck() throws IOException {
        frame(SETTINGS, ACK, 0, new byte[0]);
    }

    /** Writes a frame; may be called from a thread other than the reader's. */
    synchronized void frame(int type, int flags, int stream, byte[] payload) throws IOException {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >> 16);
        f[1] = (byte) (payload.length >> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        System.arraycopy(int32(stream), 0, f, 5, 4);
        System.arraycopy(payload, 0, f, 9, payload.length);
        out.write(f);
        out.flush();
    }

    synchronized void raw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    private static byte[] int32(int v) {
        return new byte[] {(byte) (v >> 24), (byte) (v >> 16), (byte) (v >> 8), (byte) v};
    }

    /** The next frame; null at the end of the stream (the proxy closed). Throws on the read timeout. */
    Frame read() throws IOException {
        byte[] head = new byte[9];
        try {
            in.readFully(head);
        } catch (EOFException e) {
            return null;
        }
        int length = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff;
        int stream = ((head[5] & 0x7f) << 24 | (head[6] & 0xff) << 16 | (head[7] & 0xff) << 8 | head[8] & 0xff);
        byte[] payload = new byte[length];
        in.readFully(payload);
        int type = head[3] & 0xff;
        Http2Headers headers = null;
        if (type == HEADERS) {
            // In order, every block: HPACK's dynamic table is the connection's.
            ByteBuf block = Unpooled.wrappedBuffer(payload);
            try {
                headers = decoder.decodeHeaders(stream, block);
            } catch (Http2Exception e) {
                throw new IOException(e);
            } finally {
                block.release();
            }
        }
        return new Frame(type, head[4] & 0xff, stream, payload, headers);
    }

    /**
     * The first frame that matches, of those {@code await} passed over before (kept in order: streams answer
     * in any order) or read now; fails at the end of the stream.
     */
    Frame await(Predicate<Frame> wanted) throws IOException {
        for (java.util.Iterator<Frame> i = passed.iterator(); i.hasNext(); ) {
            Frame f = i.next();
            if (wanted.test(f)) {
                i.remove();
                return f;
            }
        }
        for (;;) {
            Frame f = read();
            if (f == null) {
                throw new EOFException("closed before the frame looked for");
            }
            if (wanted.test(f)) {
                return f;
            }
            passed.add(f);
        }
    }

    /** Reads the response on {@code stream}: its HEADERS (final status) and its DATA until END_STREAM. */
    Response response(int stream) throws IOException {
        Frame head = await(f -> f.stream() == stream && f.type() == HEADERS && f.status() != null && !f.status().startsWith("1")
                || f.stream() == stream && f.type() == RST_STREAM);
        if (head.type() == RST_STREAM) {
            throw new IOException("stream " + stream + " reset: " + head.errorCode());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Frame f = head;
        while (!f.endStream()) {
            f = await(g -> g.stream() == stream && (g.type() == DATA || g.type() == HEADERS || g.type() == RST_STREAM));
            if (f.type() == RST_STREAM) {
                throw new IOException("stream " + stream + " reset: " + f.errorCode());
            }
            if (f.type() == DATA) {
                body.write(f.payload(), 0, f.payload().length);
            }
        }
        return new Response(head.headers(), body.toByteArray());
    }

    record Response(Http2Headers headers, byte[] body) {
        int status() {
            return Integer.parseInt(headers.status().toString());
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Whether the proxy closes the connection (EOF or reset) within the read timeout, reading what comes first. */
    boolean closes() throws IOException {
        try {
            while (read() != null) {
                // frames before the end
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
