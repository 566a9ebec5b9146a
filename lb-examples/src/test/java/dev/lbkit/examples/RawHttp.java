package dev.lbkit.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Sends raw request bytes and reads until the server closes: what a test needs to compare bytes. */
final class RawHttp {
    private RawHttp() {}

    /** Sends {@code request} and returns every byte until the server closes (bounded by a 5 s read timeout). */
    static String exchangeUntilClose(InetSocketAddress target, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(target, 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            byte[] chunk = new byte[4096];
            for (int n; (n = in.read(chunk)) >= 0;) {
                buf.write(chunk, 0, n);
            }
            return buf.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** The request curl sends for {@code curl http://HOST/}. */
    static String curlRequest(InetSocketAddress target) {
        return "GET / HTTP/1.1\r\nHost: " + target.getAddress().getHostAddress() + ":" + target.getPort()
                + "\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";
    }

    /** The body of a raw response (after the blank line). */
    static String body(String raw) {
        return raw.substring(raw.indexOf("\r\n\r\n") + 4);
    }

    /** The head of a raw response (status line and headers, without the blank line). */
    static String head(String raw) {
        return raw.substring(0, raw.indexOf("\r\n\r\n"));
    }
}
