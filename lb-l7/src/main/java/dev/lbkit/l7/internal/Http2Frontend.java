package dev.lbkit.l7.internal;

import dev.lbkit.l7.Http2Options;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2LocalFlowController;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsAckFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP/2 client connection, last in its pipeline behind Netty's frame codec and stream multiplexer. Each
 * stream is served on a child channel by a {@link FrontendHandler} of its own, for its one request, as an
 * HTTP/1.1 connection serves its requests one after the other; this handler keeps what belongs to the
 * connection: its count (taken over from the HTTP/1.1 frontend it replaced), its idle timeout (the
 * balancer's keep-alive timeout while no stream is open, then {@code GOAWAY NO_ERROR}), its graceful stop
 * ({@code GOAWAY}, then close once the open streams are done) and the connection's own frames (SETTINGS,
 * PING, GOAWAY, which the codec answers), which it drops. Event-loop confined, except
 * {@link #stopGracefully()}.
 */
final class Http2Frontend extends ChannelInboundHandlerAdapter {
    private static final Logger logger = LoggerFactory.getLogger(Http2Frontend.class);

    private final ProxyState state;
    private final Http2Connection connection;
    private ChannelHandlerContext ctx;
    private Deadline idle;
    /** Streams open now (Netty's active streams: open or half closed). */
    private int open;
    private boolean goingAway;
    /** The streams' window is smaller than the protocol's default: see {@link #creditStrandedStreams()}. */
    private final boolean smallWindow;
    /**
     * The connection was refused over {@code maxConnections} as it opened: the streams of the client's first
     * flight each get 503 (as an HTTP/1.1 connection's request does), and GOAWAY follows them.
     */
    private final boolean refused;

    private Http2Frontend(ProxyState state, Http2Connection connection, boolean smallWindow, boolean refused) {
        this.state = state;
        this.connection = connection;
        this.smallWindow = smallWindow;
        this.refused = refused;
    }

    /**
     * Turns the connection of {@code frontend} to HTTP/2 unless it is closing: replaces the HTTP/1.1 handlers
     * (named {@code decoder}, {@code encoder} and {@code frontend}'s) with Netty's codec and multiplexer and a
     * connection handler, right after {@code at}, which the caller then removes. A connection refused as it
     * opened is refused here the HTTP/2 way: during a stop, {@code GOAWAY} at once (nothing was processed,
     * so the client may retry elsewhere); over {@code maxConnections}, 503 to its first streams.
     *
     * @return false when the connection stays HTTP/1.1 (it is closing)
     */
    static boolean takeOver(ChannelHandlerContext at, FrontendHandler frontend, Http2Options options, ProxyState state,
            boolean tls, RealAddress.Config realIp) {
        boolean refused = frontend.refused();
        if (!frontend.handOverToHttp2()) {
            return false;
        }
        ChannelPipeline p = at.pipeline();
        p.remove("decoder");
        p.remove("encoder");
        p.remove(frontend);
        Http2Settings settings = new Http2Settings()
                .maxConcurrentStreams(options.maxConcurrentStreams())
                .initialWindowSize(options.initialWindowSize())
                .maxHeaderListSize(state.limits.maxHeaderSize());
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(settings)
                // A request without :method, :scheme or :path (but a CONNECT) is malformed: PROTOCOL_ERROR.
                .validateRequiredPseudoHeaders(true)
                // GOAWAY is sent when this handler decides (idle, stop); a close closes at once.
                .decoupleCloseAndGoAway(true)
                .decoderEnforceMaxRstFramesPerWindow(options.maxResets(), (int) options.resetWindow().getSeconds())
                .build();
        Http2Frontend connection = new Http2Frontend(state, codec.connection(),
                options.initialWindowSize() < Http2CodecUtil.DEFAULT_WINDOW_SIZE, refused);
        Streams streams = new Streams(state, tls, realIp, frontend.clientAddress(), frontend.localAddress(), refused);
        p.addAfter(at.name(), "h2-codec", codec);
        p.addAfter("h2-codec", "h2-streams", new Http2MultiplexHandler(streams));
        p.addAfter("h2-streams", "h2-connection", connection);
        try {
            widenConnectionWindow(codec, options);
        } catch (Http2Exception e) {
            throw new IllegalStateException(e);
        }
        at.channel().flush();
        return true;
    }

    /**
     * Makes the connection's receive window as large as all its streams' windows together: a stream whose
     * upstream takes nothing then holds back its own client only, never the connection's other streams.
     */
    private static void widenConnectionWindow(Http2FrameCodec codec, Http2Options options) throws Http2Exception {
        Http2Stream connectionStream = codec.connection().connectionStream();
        Http2LocalFlowController flow = codec.connection().local().flowController();
        long all = Math.min(Http2CodecUtil.MAX_INITIAL_WINDOW_SIZE,
                (long) options.initialWindowSize() * options.maxConcurrentStreams());
        int delta = (int) (all - flow.initialWindowSize(connectionStream));
        if (delta > 0) {
            // Writes the WINDOW_UPDATE, after the server's preface.
            flow.incrementWindowSize(connectionStream, delta);
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.idle = new Deadline(ctx.executor(), this::idleExpired);
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamActive(Http2Stream stream) {
                open++;
                idle.disarm();
                if (refused && !goingAway) {
                    // After the frames read with this stream: the streams they open get their 503 too.
                    ctx.executor().execute(Http2Frontend.this::goAway);
                }
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                if (--open == 0) {
                    streamsDone();
                }
            }
        });
        state.http2Connections.add(this);
        if (state.stopping) {
            stopGracefully();
        } else {
            // A refused connection waits for its first stream no longer than one for its first request.
            idle.arm((refused ? state.timeouts.clientHeader() : state.timeouts.keepAlive()).toNanos());
        }
    }

    private void streamsDone() {
        if (goingAway) {
            // Once everything written so far is out (an empty buffer below the codec and TLS, after a flush
            // that moves their pending bytes ahead of it).
            ctx.channel().flush();
            ctx.pipeline().firstContext().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(lingering());
        } else {
            idle.arm(state.timeouts.keepAlive().toNanos());
        }
    }

    private void idleExpired() {
        if (open == 0) {
            goingAway = true;
            ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)).addListener(lingering());
        }
    }

    /**
     * Closes the way nginx closes an HTTP/2 connection (its lingering close, since 1.19.1), once a write is
     * out: the client may still be sending (a stream it opened as the GOAWAY left, a WINDOW_UPDATE, a
     * SETTINGS acknowledgement), and closing with those bytes unread would reset the connection, which can
     * destroy the last response or the GOAWAY before the client reads them.
     */
    private LingeringClose lingering() {
        return new LingeringClose(state.timeouts.lingeringTime().toNanos(), state.timeouts.lingeringTimeout().toNanos());
    }

    /** Sends GOAWAY and closes once the open streams are done (or at once when none is). Any thread. */
    void stopGracefully() {
        ctx.executor().execute(this::goAway);
    }

    private void goAway() {
        if (goingAway || !ctx.channel().isActive()) {
            return;
        }
        goingAway = true;
        idle.cancel();
        var sent = ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
        if (open == 0) {
            sent.addListener(lingering());
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // The connection's frames: the codec has answered them already.
        if (smallWindow && msg instanceof Http2SettingsAckFrame) {
            creditStrandedStreams();
        }
        if (open == 0 && !goingAway && !refused) {
            // As nginx, whose idle timer starts again after each read: a client's PING keeps an idle connection.
            idle.arm(state.timeouts.keepAlive().toNanos());
        }
        ReferenceCountUtil.release(msg);
    }

    /**
     * A stream window smaller than the protocol's 65,535 applies once the client acknowledges it; Netty then
     * shrinks each open stream's window by the difference, but sends a WINDOW_UPDATE only when it reads more
     * of the body. A client that had sent up to the old window before it saw the new one, all of it already
     * read, would wait forever (seen with the JDK's client): each open stream owed an update gets it now.
     */
    private void creditStrandedStreams() {
        Http2LocalFlowController flow = connection.local().flowController();
        try {
            connection.forEachActiveStream(stream -> {
                flow.incrementWindowSize(stream, 0);
                return true;
            });
        } catch (Http2Exception e) {
            logger.debug("HTTP/2 client connection {}: window update failed", ctx.channel(), e);
            ctx.close();
            return;
        }
        ctx.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        idle.cancel();
        state.http2Connections.remove(this);
        state.connections.decrementAndGet();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        logger.debug("HTTP/2 client connection {} failed", ctx.channel(), cause);
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
            // An HTTP/2 error is the codec's to answer: it sends GOAWAY with its code, then closes.
            ctx.close();
        }
    }

    /** Sets up each stream's channel: Netty's conversion to HTTP/1.1 messages and a frontend of its own. */
    private static final class Streams extends ChannelInitializer<Channel> {
        private final ProxyState state;
        private final boolean tls;
        private final RealAddress.Config realIp;
        private final InetSocketAddress client;
        private final InetSocketAddress local;
        private final Http2Requests requests;
        private final boolean refused;

        Streams(ProxyState state, boolean tls, RealAddress.Config realIp, InetSocketAddress client,
                InetSocketAddress local, boolean refused) {
            this.refused = refused;
            this.state = state;
            this.tls = tls;
            this.realIp = realIp;
            this.client = client;
            this.local = local;
            this.requests = new Http2Requests(state.limits.maxInitialLineLength());
        }

        @Override
        protected void initChannel(Channel ch) {
            FrontendHandler f = state.newFrontend(tls);
            if (realIp != null) {
                f.realIp(realIp);
            }
            f.http2Stream(client, local, refused);
            ch.pipeline().addLast(ParentFlush.INSTANCE, requests, f);
        }
    }

    /**
     * A stream's flush, made the connection's. Netty's stream channel skips a flush while its connection is
     * within a read, counting on the connection's read-complete to flush; on io_uring a connection's read can
     * stay open across other channels' events (a multishot receive with more data queued), and a response or
     * WINDOW_UPDATE a stream wrote from its upstream's event then waited, with the client waiting too (seen as
     * uploads that stalled). Flushing the connection itself never skips. Stateless.
     */
    @Sharable
    static final class ParentFlush extends ChannelOutboundHandlerAdapter {
        static final ParentFlush INSTANCE = new ParentFlush();

        @Override
        public void flush(ChannelHandlerContext ctx) {
            ctx.channel().parent().flush();
        }
    }
}
