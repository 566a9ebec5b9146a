package dev.lbkit.transport.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** {@link TcpReads#allocator}: no read above the size, whatever the reads before it returned; one per event. */
class TcpReadsProperties {
    /** What a handle reads its settings from; the channel is never registered or used otherwise. */
    private static final ChannelConfig CONFIG = new DefaultChannelConfig(new EmbeddedChannel());

    @Property
    void noReadIsLargerThanTheSizeAndFullReadsGrowUpToIt(
            @ForAll @IntRange(min = TcpReads.MIN_SIZE, max = TcpReads.MAX_SIZE) int size,
            @ForAll @Size(max = 40) List<@IntRange(min = 0, max = 100) Integer> fills) {
        RecvByteBufAllocator allocator = TcpReads.allocator(size);
        RecvByteBufAllocator.ExtendedHandle handle = (RecvByteBufAllocator.ExtendedHandle) allocator.newHandle();
        int largestPowerOfTwo = Integer.highestOneBit(size);
        for (int fill : fills) {
            handle.reset(CONFIG);
            ByteBuf buf = handle.allocate(UnpooledByteBufAllocator.DEFAULT);
            try {
                int capacity = buf.writableBytes();
                assertTrue(capacity <= largestPowerOfTwo, capacity + " bytes offered with a size of " + size);
                // A read filling fill % of what it was offered.
                handle.lastBytesRead(capacity * fill / 100);
                handle.incMessagesRead(1);
                assertFalse(handle.continueReading(), "more than one read per event");
                handle.readComplete();
            } finally {
                buf.release();
            }
        }
        // Reads that keep coming back full reach the size (its power of two) and stay there.
        for (int i = 0; i < 40; i++) {
            handle.reset(CONFIG);
            handle.lastBytesRead(handle.guess());
            handle.readComplete();
        }
        assertEquals(largestPowerOfTwo, handle.guess());
        assertEquals(TcpReads.READS_PER_EVENT, ((MaxMessagesRecvByteBufAllocator) allocator).maxMessagesPerRead());
    }
}
