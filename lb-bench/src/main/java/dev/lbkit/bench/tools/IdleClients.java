package dev.lbkit.bench.tools;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Opens N keep-alive HTTP/1.1 client connections to a balancer, sends one {@code GET /} on each and reads
 * the answer, then holds them all idle, so that lb-bench/run can read the balancer's memory with N idle
 * client connections. Prints {@code READY <n>} on standard output once n connections are open and idle,
 * then waits until killed or until the hold time ends.
 *
 * <p>Usage: {@code IdleClients HOST:PORT COUNT HOLD_SECONDS}. Runs on loopback only: the benchmark
 * passes its own 127.0.0.x listeners.
 */
public final class IdleClients {

    private static final int CONNECT_TIMEOUT_MILLIS = 2_000;
    private static final int READ_TIMEOUT_MILLIS = 2_000;
    private static final int BATCH = 256;

    private IdleClients() {
    }

    /**
     * Entry point.
     *
     * @param args {@code HOST:PORT COUNT HOLD_SECONDS}
     * @throws InterruptedException if interrupted while holding the connections
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 3) {
            System.err.println("usage: IdleClients HOST:PORT COUNT HOLD_SECONDS");
            System.exit(2);
        }
        int colon = args[0].lastIndexOf(':');
        String host = args[0].substring(0, colon);
        int port = Integer.parseInt(args[0].substring(colon + 1));
        int count = Integer.parseInt(args[1]);
        long holdSeconds = Long.parseLong(args[2]);
        InetSocketAddress address = new InetSocketAddress(host, port);
        byte[] request = ("GET / HTTP/1.1\r\nHost: " + args[0] + "\r\nUser-Agent: lb-bench-idle\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] buffer = new byte[8192];
        List<Socket> open = new ArrayList<>(count);
        try {
            // Batches of requests in flight, so that 10k round trips do not take 10k scheduler wake-ups.
            for (int first = 0; first < count; first += BATCH) {
                int last = Math.min(count, first + BATCH);
                List<Socket> batch = new ArrayList<>(last - first);
                String failure = null;
                try {
                    for (int i = first; i < last; i++) {
                        Socket socket = new Socket();
                        batch.add(socket);
                        socket.connect(address, CONNECT_TIMEOUT_MILLIS);
                        socket.setSoTimeout(READ_TIMEOUT_MILLIS);
                        socket.getOutputStream().write(request);
                    }
                    for (Socket socket : batch) {
                        readResponse(socket.getInputStream(), buffer);
                        open.add(socket);
                    }
                } catch (IOException e) {
                    failure = e.toString();
                }
                if (failure != null) {
                    batch.stream().filter(s -> !open.contains(s)).forEach(IdleClients::closeQuietly);
                    System.err.printf(Locale.ROOT, "stopped after %d connections: %s%n", open.size(), failure);
                    break;
                }
            }
            System.out.println("READY " + open.size());
            System.out.flush();
            Thread.sleep(holdSeconds * 1000);
        } finally {
            for (Socket socket : open) {
                closeQuietly(socket);
            }
        }
    }

    /** Reads one HTTP response with a Content-Length body; fails on anything else. */
    static void readResponse(InputStream in, byte[] buffer) throws IOException {
        int filled = 0;
        int headerEnd = -1;
        while (headerEnd < 0) {
            if (filled == buffer.length) {
                throw new IOException("response head larger than " + buffer.length + " bytes");
            }
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                throw new IOException("connection closed before the response head ended");
            }
            filled += n;
            headerEnd = indexOfHeadEnd(buffer, filled);
        }
        String head = new String(buffer, 0, headerEnd, StandardCharsets.ISO_8859_1);
        if (!head.startsWith("HTTP/1.1 200") && !head.startsWith("HTTP/1.0 200")) {
            throw new IOException("unexpected status line: " + head.lines().findFirst().orElse(""));
        }
        long remaining = contentLength(head) - (filled - headerEnd);
        while (remaining > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
            if (n < 0) {
                throw new IOException("connection closed inside the body");
            }
            remaining -= n;
        }
    }

    /** Index just past the blank line ending the head, or -1. */
    static int indexOfHeadEnd(byte[] b, int length) {
        for (int i = 3; i < length; i++) {
            if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
                return i + 1;
            }
        }
        return -1;
    }

    static long contentLength(String head) throws IOException {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                return Long.parseLong(line.substring(colon + 1).trim());
            }
        }
        throw new IOException("response without Content-Length: " + head.lines().findFirst().orElse(""));
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing at exit: nothing left to do with the error.
        }
    }
}
