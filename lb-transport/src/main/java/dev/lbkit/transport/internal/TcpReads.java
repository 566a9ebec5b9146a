package dev.lbkit.transport.internal;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;

/**
 * How many bytes one read takes from a TCP socket, for lb-l4 and lb-l7 alike (each offers it as its
 * builder's {@code bufferSize}). Constants and a stateless factory: thread-safe.
 *
 * <p>Why 32 KiB by default rather than Netty's 64 KiB: a 64 KiB write leaves loopback as a segment of
 * 65,483 bytes of data (its MTU less headers) and a runt, and a 64 KiB buffer per read is a larger
 * working set for the CPU's cache. In our runs one stream through lb-l4 fell from about 14.5 to 10 Gbit/s
 * with 64 KiB reads, and a 64 MiB body through lb-l7 (epoll) moved 8.8 and 9.0 Gbit/s with 64 KiB reads
 * against 10.2 and 9.5 with 32 KiB in two runs (with 16 KiB reads, 9.2 in the first).
 *
 * <p>Internal to lbkit: not a user API, it may change in any release.
 */
public final class TcpReads {
    /** The most bytes one read takes unless configured: 32 KiB. */
    public static final int DEFAULT_SIZE = 32 * 1024;
    /** The least a configured size may be: 1 KiB. */
    public static final int MIN_SIZE = 1024;
    /** The most a configured size may be: 64 KiB, also a kernel pipe's default capacity (lb-l4 splices). */
    public static final int MAX_SIZE = 64 * 1024;

    /**
     * How many reads one read event makes: one, so that what a read took is passed on (written) before
     * the next read. Netty's stream channels make up to 16 with their own allocator; 64 MiB bodies
     * through lb-l7 on io_uring moved 8.99 Gbit/s with one and 8.46 with 16 (medians of 8 rounds), on
     * par on epoll (8.67 and 8.68), and requests at 64 connections showed no difference.
     */
    public static final int READS_PER_EVENT = 1;

    private TcpReads() {}

    /**
     * A read-size policy for TCP channels: {@link #READS_PER_EVENT} read per read event, starting at 2 KiB
     * (or {@code maxBytes} if smaller), growing while reads come back full and shrinking while they do
     * not, never above {@code maxBytes} (a value that is not a power of two caps them at the power of two
     * below it). Stateless and shareable: each channel keeps its own handle.
     *
     * @param maxBytes between {@link #MIN_SIZE} and {@link #MAX_SIZE}, checked by the caller, which
     *     names its own option
     */
    public static RecvByteBufAllocator allocator(int maxBytes) {
        return new AdaptiveRecvByteBufAllocator(64, Math.min(2048, maxBytes), maxBytes)
                .maxMessagesPerRead(READS_PER_EVENT);
    }
}
