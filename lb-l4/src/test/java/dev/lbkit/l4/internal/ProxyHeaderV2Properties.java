package dev.lbkit.l4.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The DGRAM header reads back what it wrote, and no input makes the reader fail or read past the datagram. */
class ProxyHeaderV2Properties {

    @Property(tries = 200)
    void encodedHeadersReadBack(@ForAll @Size(16) byte[] src, @ForAll @Size(16) byte[] dst, @ForAll boolean v6,
            @ForAll @IntRange(max = 65535) int sport, @ForAll @IntRange(max = 65535) int dport,
            @ForAll @Size(max = 64) byte[] payload) throws UnknownHostException {
        InetSocketAddress s = new InetSocketAddress(InetAddress.getByAddress(v6 ? src : java.util.Arrays.copyOf(src, 4)), sport);
        InetSocketAddress d = new InetSocketAddress(InetAddress.getByAddress(v6 ? dst : java.util.Arrays.copyOf(dst, 4)), dport);
        byte[] h = ProxyHeaderV2.encode(s, d);
        ByteBuf b = Unpooled.wrappedBuffer(h, payload);
        try {
            assertEquals(h.length, ProxyHeaderV2.length(b));
            assertEquals(s, ProxyHeaderV2.source(b, null));
            assertEquals(d, ProxyHeaderV2.destination(b, null));
            assertEquals(0, b.readerIndex(), "reading does not consume");
        } finally {
            b.release();
        }
    }

    @Property(tries = 200)
    void anyBytesAreAHeaderOrNot(@ForAll @Size(max = 80) byte[] junk, @ForAll boolean withSignature) {
        byte[] in = junk.clone();
        if (withSignature && in.length >= 12) {
            System.arraycopy(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}, 0,
                    in, 0, 12);
        }
        ByteBuf b = Unpooled.wrappedBuffer(in);
        try {
            int n = ProxyHeaderV2.length(b);
            assertTrue(n == -1 || n >= 16 && n <= in.length, "length " + n + " of " + in.length);
            if (n > 0) {
                ProxyHeaderV2.source(b, null);
                ProxyHeaderV2.destination(b, null);
            }
        } finally {
            b.release();
        }
    }
}
