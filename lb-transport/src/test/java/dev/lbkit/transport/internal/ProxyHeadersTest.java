package dev.lbkit.transport.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** ProxyHeaders' bytes, read back by Netty's decoder, and what a decoded header's addresses are. */
class ProxyHeadersTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("203.0.113.7", 5555);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("198.51.100.1", 80);
    private static final InetSocketAddress FALLBACK = new InetSocketAddress("127.0.0.1", 1);

    /** What a channel whose pipeline starts with ProxyHeaders' sender writes when it connects, then "x" once active. */
    private static byte[] sent(HAProxyProtocolVersion v, InetSocketAddress source, InetSocketAddress destination) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(ProxyHeaders.sender(v, source, destination), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                ctx.writeAndFlush(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII));
            }
        });
        ch.connect(LOCAL);
        ch.pipeline().fireChannelActive();
        ByteBuf all = Unpooled.buffer();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            all.writeBytes(b);
            b.release();
        }
        byte[] bytes = ByteBufUtil.getBytes(all);
        all.release();
        // The sender has left the pipeline (names() lists the tail too).
        assertEquals(1, ch.pipeline().names().size() - 1, ch.pipeline().names().toString());
        ch.finishAndReleaseAll();
        return bytes;
    }

    /** Decodes {@code header} with Netty's decoder. */
    private static HAProxyMessage decoded(byte[] header) {
        EmbeddedChannel ch = new EmbeddedChannel(new HAProxyMessageDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(header));
        HAProxyMessage m = ch.readInbound();
        ch.finishAndReleaseAll();
        return m;
    }

    @Test
    void v1ProxyIsTheTextLineBeforeEverythingElse() {
        assertEquals("PROXY TCP4 203.0.113.7 198.51.100.1 5555 80\r\nx",
                new String(sent(HAProxyProtocolVersion.V1, CLIENT, LOCAL), StandardCharsets.US_ASCII));
    }

    @Test
    void v1LocalIsProxyUnknown() {
        assertEquals("PROXY UNKNOWN\r\nx", new String(sent(HAProxyProtocolVersion.V1, null, null), StandardCharsets.US_ASCII));
    }

    @Test
    void v2ProxyReadsBackAsTheTwoAddresses() {
        byte[] b = sent(HAProxyProtocolVersion.V2, CLIENT, LOCAL);
        assertEquals('x', b[b.length - 1]);
        HAProxyMessage m = decoded(java.util.Arrays.copyOf(b, b.length - 1));
        try {
            assertEquals(CLIENT, ProxyHeaders.source(m, FALLBACK));
            assertEquals(LOCAL, ProxyHeaders.destination(m, FALLBACK));
        } finally {
            m.release();
        }
    }

    @Test
    void v2LocalIsSixteenBytesAndKeepsTheFallback() {
        byte[] b = sent(HAProxyProtocolVersion.V2, null, null);
        assertEquals(17, b.length);
        assertEquals(0x20, b[12]);
        assertEquals(0x00, b[13]);
        HAProxyMessage m = decoded(java.util.Arrays.copyOf(b, 16));
        try {
            assertEquals(FALLBACK, ProxyHeaders.source(m, FALLBACK));
            assertEquals(FALLBACK, ProxyHeaders.destination(m, FALLBACK));
        } finally {
            m.release();
        }
    }

    @Test
    void mixedFamiliesAreWrittenAsTcp6() {
        HAProxyMessage m = ProxyHeaders.proxy(HAProxyProtocolVersion.V1, CLIENT, new InetSocketAddress("::1", 80));
        try {
            assertEquals("::ffff:203.0.113.7", m.sourceAddress());
            assertEquals("0:0:0:0:0:0:0:1", m.destinationAddress());
        } finally {
            m.release();
        }
    }
}
