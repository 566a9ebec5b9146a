package dev.lbkit.l4;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32;

/** Byte streams for forwarding tests: scripted writers and readers on their own threads, and a one-connection backend. */
final class Streams {
    private Streams() {}

    /** A writer thread sending to a peer that does not read, and how much it got out before it blocked. */
    record BlockedWriter(Thread thread, java.util.concurrent.atomic.AtomicLong count) {
        /** What the writer would send if nothing held it back: 4096 chunks of 64 KiB. */
        static final long LIMIT = 4096L * 64 * 1024;

        long written() {
            return count.get();
        }
    }

    /**
     * Starts a daemon thread writing 64 KiB chunks to {@code client} (up to {@link BlockedWriter#LIMIT})
     * and returns once the count stopped growing for 200 ms (at most 20 s), that is, once back-pressure
     * holds the writer. Closing the socket stops the thread.
     */
    static BlockedWriter writeUntilBlocked(Socket client) throws InterruptedException {
        java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
        Thread writer = new Thread(() -> {
            byte[] chunk = new byte[64 * 1024];
            try {
                OutputStream out = client.getOutputStream();
                for (int i = 0; i < 4096; i++) {
                    out.write(chunk);
                    written.addAndGet(chunk.length);
                }
            } catch (IOException e) {
                // The test closes the socket to stop a blocked writer.
            }
        });
        writer.setDaemon(true);
        writer.start();
        long last = -1;
        for (int i = 0; i < 100 && written.get() != last; i++) {
            last = written.get();
            Thread.sleep(200);
        }
        return new BlockedWriter(writer, written);
    }

    /** What a reader got: length and CRC-32 of every byte up to EOF. */
    record Received(long length, long crc) {}

    /** Seeded random bytes, {@code length} of them, reproducible for comparison. */
    static byte[] bytes(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    static long crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    /**
     * Writes {@code data} in chunks of 1 to {@code maxChunk} bytes (from {@code seed}), sleeping up to
     * {@code maxPauseMs} between some of them, then half-closes the socket's output.
     */
    static CompletableFuture<Void> write(Socket s, byte[] data, long seed, int maxChunk, int maxPauseMs) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                Random r = new Random(seed);
                OutputStream out = s.getOutputStream();
                int off = 0;
                while (off < data.length) {
                    int n = Math.min(data.length - off, 1 + r.nextInt(maxChunk));
                    out.write(data, off, n);
                    off += n;
                    if (maxPauseMs > 0 && r.nextInt(8) == 0) {
                        Thread.sleep(r.nextInt(maxPauseMs + 1));
                    }
                }
                out.flush();
                s.shutdownOutput();
                done.complete(null);
            } catch (IOException | InterruptedException e) {
                done.completeExceptionally(e);
            }
        }, "test-writer");
        t.setDaemon(true);
        t.start();
        return done;
    }

    /**
     * Reads to EOF in reads of 1 to {@code maxChunk} bytes, first waiting {@code startDelayMs} and then
     * sleeping up to {@code maxPauseMs} between some reads (a slow reader).
     */
    static CompletableFuture<Received> read(Socket s, long seed, int maxChunk, int startDelayMs, int maxPauseMs) {
        CompletableFuture<Received> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                Random r = new Random(seed);
                if (startDelayMs > 0) {
                    Thread.sleep(startDelayMs);
                }
                InputStream in = s.getInputStream();
                byte[] buf = new byte[maxChunk];
                CRC32 crc = new CRC32();
                long total = 0;
                for (;;) {
                    int n = in.read(buf, 0, 1 + r.nextInt(maxChunk));
                    if (n < 0) {
                        break;
                    }
                    crc.update(buf, 0, n);
                    total += n;
                    if (maxPauseMs > 0 && r.nextInt(8) == 0) {
                        Thread.sleep(r.nextInt(maxPauseMs + 1));
                    }
                }
                done.complete(new Received(total, crc.getValue()));
            } catch (IOException | InterruptedException e) {
                done.completeExceptionally(e);
            }
        }, "test-reader");
        t.setDaemon(true);
        t.start();
        return done;
    }

    static <T> T get(CompletableFuture<T> f) throws IOException {
        try {
            return f.get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IOException(e);
        }
    }

    /** A backend that accepts one connection on loopback. */
    static final class OneConnection implements AutoCloseable {
        private final ServerSocket server;
        private final CompletableFuture<Socket> accepted = new CompletableFuture<>();

        OneConnection() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                try {
                    Socket s = server.accept();
                    s.setSoTimeout(15_000);
                    accepted.complete(s);
                } catch (IOException e) {
                    accepted.completeExceptionally(e);
                }
            }, "test-accept");
            t.setDaemon(true);
            t.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
        }

        Socket socket() throws IOException {
            return get(accepted);
        }

        @Override
        public void close() throws IOException {
            server.close();
            if (accepted.isDone() && !accepted.isCompletedExceptionally()) {
                accepted.join().close();
            }
        }
    }
}
