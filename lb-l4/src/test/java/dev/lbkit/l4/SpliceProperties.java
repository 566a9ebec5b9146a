package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Spliced forwarding delivers every byte once and in order, whatever the chunk sizes, pauses, slow
 * readers and order of the two FINs (each side half-closes when its stream ends, the other may still
 * be sending). Runs where epoll loads.
 */
class SpliceProperties {
    private static L4Balancer lb;

    @BeforeContainer
    static void start() {
        if (!Forwarding.splice().isEmpty()) {
            lb = Forwarding.splice().get(0).builder().build();
        }
    }

    @AfterContainer
    static void stop() {
        if (lb != null) {
            lb.close();
        }
    }

    @Property(tries = 20)
    void everyByteArrivesOnceAndInOrder(@ForAll @IntRange(min = 0, max = 512 * 1024) int clientBytes,
            @ForAll @IntRange(min = 0, max = 512 * 1024) int serverBytes,
            @ForAll @IntRange(min = 512, max = 128 * 1024) int clientChunk,
            @ForAll @IntRange(min = 512, max = 128 * 1024) int serverChunk,
            @ForAll @IntRange(min = 0, max = 3) int pauseMs,
            @ForAll @IntRange(min = 0, max = 100) int clientReadDelayMs,
            @ForAll @IntRange(min = 0, max = 100) int serverReadDelayMs,
            @ForAll long seed) throws Exception {
        if (lb == null) {
            return;
        }
        try (Streams.OneConnection backend = new Streams.OneConnection()) {
            VirtualServer vs = Net.rrService(lb, backend.address());
            try (Socket client = Net.connect(vs.localAddress())) {
                client.setSoTimeout(15_000);
                Socket server = backend.socket();
                byte[] up = Streams.bytes(seed, clientBytes);
                byte[] down = Streams.bytes(~seed, serverBytes);
                CompletableFuture<Streams.Received> atServer =
                        Streams.read(server, seed + 1, Math.max(1, serverChunk / 2), serverReadDelayMs, pauseMs);
                CompletableFuture<Streams.Received> atClient =
                        Streams.read(client, seed + 2, Math.max(1, clientChunk / 2), clientReadDelayMs, pauseMs);
                CompletableFuture<Void> w1 = Streams.write(client, up, seed + 3, clientChunk, pauseMs);
                CompletableFuture<Void> w2 = Streams.write(server, down, seed + 4, serverChunk, pauseMs);
                assertEquals(new Streams.Received(up.length, Streams.crc(up)), Streams.get(atServer), "client to server");
                assertEquals(new Streams.Received(down.length, Streams.crc(down)), Streams.get(atClient),
                        "server to client");
                Streams.get(w1);
                Streams.get(w2);
            } finally {
                vs.delete();
            }
        }
    }
}
