package dev.lbkit.l7.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.health.Outcome;
import dev.lbkit.l7.ClientLimits;
import dev.lbkit.l7.ForwardedHeader;
import dev.lbkit.l7.HostHeader;
import dev.lbkit.l7.NextUpstream;
import dev.lbkit.l7.ProxyProtocol;
import dev.lbkit.l7.ProxyTimeouts;
import dev.lbkit.l7.RetryPolicy;
import dev.lbkit.l7.Route;
import dev.lbkit.l7.TlsOptions;
import dev.lbkit.l7.UpstreamGroup;
import dev.lbkit.transport.internal.ProxyHeaders;
import dev.lbkit.transport.internal.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection (or one HTTP/2 stream, {@link #http2Stream}): reads requests one at a time (pipelined ones wait their turn, so responses
 * go out in order), routes each to an upstream group (waiting in the group's {@link GroupQueue} when
 * every member is at its connection limit and the group has a queue), and runs its attempts: pick a
 * member, take an idle keep-alive connection or open one on this event loop (after the TLS handshake,
 * for TLS upstreams), send the request (replaying the buffered body on a retry), and stream the
 * response back, with nginx's timeouts, retry and status rules.
 *
 * <p>Back-pressure both ways: each channel reads with auto-read on while nothing needs holding back,
 * and auto-read is switched off only while the other side cannot take more (not writable, the replay
 * buffer full) or a pipelined request waits its turn; so a steady keep-alive exchange re-arms no
 * epoll interest per request. Event-loop confined, except
 * {@link #stopGracefully()}, {@link #rejectIfQueued()} and {@link #busy()}, which may be called from any thread.
 */
public final class FrontendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger logger = LoggerFactory.getLogger(FrontendHandler.class);
    private static final Logger accessLogger = LoggerFactory.getLogger("dev.lbkit.l7.access");
    private static final DateTimeFormatter LOG_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.US);

    /** Why an attempt failed, in nginx's terms. */
    enum Failure {
        /** Could not connect (refused, unreachable). */
        CONNECT,
        /** The connect timeout passed: a timeout (504, max_fails), but nothing was sent. */
        CONNECT_TIMEOUT,
        /** Send or read timeout. */
        TIMEOUT,
        /** Malformed, truncated or missing response. */
        INVALID,
        /** The connection was reset or closed before a response began. */
        ERROR
    }

    private static final int TIMER_NONE = 0;
    private static final int TIMER_KEEPALIVE = 1;
    private static final int TIMER_HEADER = 2;
    private static final int TIMER_BODY = 3;

    private final ProxyState state;
    private final boolean tls;
    private ChannelHandlerContext ctx;
    Codecs.ResponseEncoder encoder;
    private UpstreamConnectionPool connPool;
    private final dev.lbkit.api.scheduler.PickContext pick = new dev.lbkit.api.scheduler.PickContext();
    /** Where the request's keys lie (hash key, limits), read in place. */
    private KeySpan keySpan;
    private Deadline clientTimer;
    private int clientTimerKind;
    /** send_timeout towards the client; created the first time the client stops taking data. */
    private Deadline clientSendTimer;
    private Deadline upReadTimer;
    /** proxy_send_timeout; created the first time an upstream stops taking data. */
    private Deadline upSendTimer;
    /** Messages read but not yet wanted (pipelined requests); bounded by what one socket read decodes. */
    private final java.util.ArrayDeque<Object> inbound = new java.util.ArrayDeque<>(2);
    private volatile boolean closed;
    private volatile boolean requestActive;
    /**
     * The connection closes after the response going out, set at the latest when that response's head is
     * written: once the request it answers is over, whatever the client sends is dropped ({@link #readsNoMore()}).
     */
    private boolean closeAfterResponse;
    /**
     * The connection closes after the response going out while the end of the request it answers has not
     * been read (its body is still coming): what comes meanwhile is read and dropped, and once the response
     * is out the connection lingers ({@link LingeringClose}) instead of closing at once, so the client reads
     * the response, not a reset. Cleared when that end is read.
     */
    private boolean lingerOnClose;
    /**
     * The client sent, or may send, more than the request being answered on a connection that closes after
     * it (the request's framing was unknown or broken, or requests were pipelined behind it): it lingers.
     */
    private boolean moreInput;
    /**
     * Bytes of the next request's head have arrived and the head is not decoded yet: a client the header
     * timeout cuts off now may still be sending it.
     */
    private boolean headBegun;
    /**
     * The request was answered without being forwarded on a connection that stays open ({@link #answerAndKeep}),
     * and its body is being read and dropped ({@link #discardBody}); the next request is read once it ends.
     */
    private volatile boolean discarding;
    /** The write of the answer whose request's body is being discarded: a close waits for it. */
    private ChannelFuture discardAnswer;
    /** The request asked for an Upgrade or is a CONNECT: a 101 (or a 2xx to CONNECT) turns it into a tunnel. */
    private boolean tunnelRequested;
    /** Bytes now flow both ways unchanged between the client and {@link #tunnelPeer}. */
    private boolean tunnel;
    private Channel tunnelPeer;

    // The request being served.
    private HttpRequest request;
    /** This connection's request decoder (null before {@link #newDecoder(ClientLimits)}, in tests). */
    private Codecs.RequestDecoder requestDecoder;
    private RouteTable.RouteEntry route;
    /** The routed request's route's own error pages, or null: the balancer's apply. */
    private ErrorResponses routePages;
    /** Matchers for the routes' regex redirect and cookie rules, kept for the connection's responses. */
    private final Rewrites.Matchers rewriteMatchers = new Rewrites.Matchers();
    private ProxyTimeouts timeouts;
    private RetryPolicy retry;
    private UpstreamGroup group;
    /** The member the request's sticky cookie names (null: none, or the group has no sticky cookie). */
    private Member stickyMember;
    private boolean requestComplete;
    /**
     * The request head frames no body: the decoder passes its (empty) last content in the same read,
     * right after the head, and that write flushes the head together with the end of the request.
     */
    private boolean noBody;
    private boolean clientKeepAlive;
    private boolean idempotent;
    private boolean http10Client;
    private String clientHost;
    private String logRequestLine;
    private String logReferer;
    private String logUserAgent;
    private final ArrayList<ByteBuf> body = new ArrayList<>();
    private int bodyWritten;
    private boolean replayable;
    private boolean bodyDropped;
    private long bodyBytes;
    private long pendingBytes;
    private HttpHeaders trailers;
    private long requestStartNanos;

    // The current attempt.
    private UpstreamConnection up;
    private Member member;
    private TrafficCounters upCounters;
    private int tries;
    private long firstAttemptNanos;
    private long attemptStartNanos;
    private boolean reused;
    private boolean headWriteDone;
    private boolean freshRetried;
    private boolean headWritten;
    private boolean lastWritten;
    private boolean responseBegun;
    private boolean responseStarted;
    private boolean skipInterim;
    private int status;
    private boolean upstreamKeepAlive;
    private boolean statusCounts;
    /** The upstream's status whose response is being replaced by its error page, its body dropped; 0: none. */
    private int interceptedCode;
    private long bytesToClient;
    private StringBuilder upstreamLog;
    private long upstreamNanos;
    private ChannelFuture pendingConnect;
    /** Tells a late connect completion which attempt it belonged to. */
    private int attemptId;

    /**
     * One {@link System#nanoTime()} reading for everything a read event does ({@link #now()}): a request
     * arms and stamps about a dozen timers and latencies, and a clock reading each is a measurable part of
     * a proxied request. Valid while {@link #inEvent}; an event takes microseconds, timeouts milliseconds.
     */
    private long eventNanos;
    private boolean inEvent;

    /** The entries of the route's concurrency limits this request holds (null before a route had any). */
    private LimitTable.Entry[] heldLimits;
    /** The end of a rate limit's delay of this request, or null. */
    private io.netty.util.concurrent.ScheduledFuture<?> limitDelay;
    /** The request expects 100-continue and a rate limit delays it: the 100 goes out when the delay ends. */
    private boolean continueAfterDelay;

    // Waiting in the group's request queue (null when not waiting).
    private GroupQueue.Waiter waiter;
    /** The queue's timeout; created the first time a request of this connection waits. */
    private Deadline queueTimer;

    /**
     * The client and the address it connected to: the socket's, or those its PROXY header names (nginx's
     * {@code $remote_addr} after {@code real_ip_header proxy_protocol}). Null for a channel without IP peers.
     */
    private InetSocketAddress clientAddress;
    private InetSocketAddress localAddress;
    /** The listener's {@link dev.lbkit.l7.RealIp} reading for this connection; null without the option. */
    private RealAddress realIp;
    /**
     * The current request's client address when {@link #realIp} took another one from its header (nginx's
     * {@code $remote_addr} after realip); null for the connection's. Reset per request.
     */
    private InetAddress realAddress;
    /** The port that came with {@link #realAddress} (0: none, as nginx's empty {@code $remote_port}). */
    private int realPort;
    /** The {@link #realAddress} the private idle connection's PROXY header names (null: the connection's). */
    private InetAddress privateIdleFor;
    /** The {@link #realPort} the private idle connection's PROXY header names. */
    private int privateIdlePort;
    /** The listener requires a PROXY header and it has not been read yet. */
    private boolean proxyHeaderPending;
    /**
     * The idle upstream connection this client connection opened with a PROXY header naming it, kept for
     * its own next request only (see {@link UpstreamGroup.Builder#proxyProtocol}); null if none.
     */
    private UpstreamConnection privateIdle;
    /** Closes {@link #privateIdle} when the group's keep-alive idle timeout passes; made at first use. */
    private Deadline privateIdleTimer;

    /** The last Host value of this connection and its route key (without port, lower case). */
    private String lastHost;
    private String lastHostKey;
    /**
     * This handler serves one HTTP/2 stream ({@link #http2Stream}): one request, and the stream ends with its
     * response; the connection's count, idle timeout and stop are {@link Http2Frontend}'s.
     */
    private boolean stream;
    /**
     * An HTTP/2-enabled listener's connection whose protocol is chosen after it opens (ALPN, or the
     * cleartext preface): a refusal at that point waits for the choice ({@link #refusalPending}).
     */
    private boolean protocolPending;
    /**
     * The connection is refused (over {@code maxConnections}, or a stop) before its protocol is chosen: the
     * 503 goes out as HTTP/1.1 once HTTP/1.1 is chosen ({@link #http1Chosen}); HTTP/2 refuses in its own
     * way ({@link Http2Frontend}).
     */
    private boolean refusalPending;
    /** This stream's connection was refused over {@code maxConnections}: its request gets 503. */
    private boolean refusedStream;

    FrontendHandler(ProxyState state, boolean tls) {
        this.state = state;
        this.tls = tls;
    }

    /** Called by this connection's request decoder before it decodes newly read bytes. */
    void clientBytesArrived() {
        if (!requestActive && !discarding) {
            headBegun = true;
            if (clientTimerKind == TIMER_KEEPALIVE) {
                armClient(TIMER_HEADER, state.timeouts.clientHeader().toNanos());
            }
        }
    }

    /**
     * Serves one HTTP/2 stream, whose connection's client and listener addresses (the socket's, or those its
     * PROXY header named) are {@code client} and {@code local}; called before the stream's channel registers.
     */
    void http2Stream(InetSocketAddress client, InetSocketAddress local, boolean refused) {
        stream = true;
        refusedStream = refused;
        clientAddress = client;
        localAddress = local;
        // Never in the stream's pipeline (Netty's HTTP/2 codec writes the responses): it carries the
        // request's HEAD flag, which the responses and error answers read as on HTTP/1.1.
        encoder = new Codecs.ResponseEncoder();
    }

    /**
     * The connection turns to HTTP/2 (ALPN chose h2, or it began with the prior-knowledge preface) before a
     * request was read: unless it is closing, this handler lets go of it (its timer, its place among the
     * balancer's frontends) and the caller takes it out of the pipeline; the connection's count, and its
     * refusal if it is refused ({@link #refused()}), go to {@link Http2Frontend}.
     *
     * @return whether the connection may turn to HTTP/2
     */
    boolean handOverToHttp2() {
        if (closed || closeAfterResponse && !refusalPending || requestActive) {
            return false;
        }
        refusalPending = false;
        clientTimer.cancel();
        upReadTimer.cancel();
        state.frontends.remove(this);
        return true;
    }

    /** Whether the connection is refused (over {@code maxConnections}, or a stop) and is to be told so. */
    boolean refused() {
        return refusalPending;
    }

    /** Called as an HTTP/2-enabled listener's connection opens: its protocol is chosen later. */
    void awaitProtocol() {
        protocolPending = true;
    }

    /** The connection's protocol is HTTP/1.1: a refusal waiting for the choice is sent now. */
    void http1Chosen() {
        protocolPending = false;
        if (refusalPending && !closed) {
            refusalPending = false;
            disarmClient();
            sendError(HttpResponseStatus.SERVICE_UNAVAILABLE, true);
        }
    }

    /** The response encoder of this connection's pipeline. */
    public void encoder(io.netty.channel.ChannelHandler encoder) {
        this.encoder = (Codecs.ResponseEncoder) encoder;
    }

    /**
     * An upstream response decoder on its own (benchmarks): with {@code fastPath} false, Netty's decoder
     * alone, as lb-l7's decoder behaves for the responses its fast path declines.
     */
    public static io.netty.channel.ChannelHandler newResponseDecoder(boolean fastPath) {
        return new Codecs.ResponseDecoder(fastPath);
    }

    /** A request decoder on its own (benchmarks, tests): no frontend is told when bytes arrive. */
    public static io.netty.channel.ChannelHandler newDecoder(int maxInitialLine, int maxHeaderSize) {
        return new Codecs.RequestDecoder(Codecs.requestConfig(maxInitialLine, maxHeaderSize), null);
    }

    /**
     * Gives {@code head} back to {@code decoder} (one made by {@link #newDecoder(int, int)}) as a client
     * connection does once the head's request is over (benchmarks); a no-op for any other decoder.
     */
    public static void recycleRequest(io.netty.channel.ChannelHandler decoder, HttpRequest head) {
        if (decoder instanceof Codecs.RequestDecoder) {
            ((Codecs.RequestDecoder) decoder).recycle(head);
        }
    }

    /** lb-l7's removal of the hop-by-hop fields (RFC 9110 §7.6.1) from a head it forwards (benchmarks). */
    public static void removeHopByHop(HttpHeaders h) {
        Headers.removeHopByHop(h);
    }

    /**
     * This connection's request decoder: besides decoding, it moves the client timer from keep-alive to
     * header timeout when the first bytes of a request arrive (one pipeline stage fewer than a watcher).
     */
    public io.netty.channel.ChannelHandler newDecoder(ClientLimits limits) {
        requestDecoder = new Codecs.RequestDecoder(
                Codecs.requestConfig(limits.maxInitialLineLength(), limits.maxHeaderSize()), this);
        return requestDecoder;
    }

    /** A response encoder for a new client pipeline. */
    public static io.netty.channel.ChannelHandler newEncoder() {
        return new Codecs.ResponseEncoder();
    }

    // ---------------------------------------------------------------- client side

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.connPool = state.pool(ctx.channel().eventLoop());
        // The client timer alternates keep-alive and header timeouts; see Deadline's note on maxAhead.
        this.clientTimer = new Deadline(ctx.executor(), this::clientTimerExpired, Math.min(
                state.timeouts.clientHeader().toNanos(), state.timeouts.clientBody().toNanos()));
        this.upReadTimer = new Deadline(ctx.executor(), this::upstreamTimedOut);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (stream) {
            // The stream opens with its request's head: no header timer, and the connection is counted once.
            state.frontends.add(this);
            readClient();
            return;
        }
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress) {
            clientAddress = (InetSocketAddress) ctx.channel().remoteAddress();
            localAddress = (InetSocketAddress) ctx.channel().localAddress();
        }
        state.frontends.add(this);
        state.trackClient(ctx.channel());
        int max = state.limits.maxConnections();
        if (state.connections.incrementAndGet() > max && max > 0 || state.stopping) {
            closeAfterResponse = true;
            if (protocolPending) {
                // 503 in HTTP/1.1 bytes would break an HTTP/2 connection: the refusal waits for the choice,
                // which a client that never makes it does not get to delay beyond client_header_timeout.
                refusalPending = true;
                armClient(TIMER_HEADER, state.timeouts.clientHeader().toNanos());
                resume(ctx.channel());
                return;
            }
            sendError(HttpResponseStatus.SERVICE_UNAVAILABLE, true);
            return;
        }
        // A new connection has client_header_timeout for its first request; keepalive_timeout is for
        // the wait between requests.
        armClient(TIMER_HEADER, state.timeouts.clientHeader().toNanos());
        readClient();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        state.frontends.remove(this);
        if (!stream) {
            state.connections.decrementAndGet();
        }
        clientTimer.cancel();
        if (clientSendTimer != null) {
            clientSendTimer.cancel();
        }
        if (queueTimer != null) {
            queueTimer.cancel();
        }
        if (tunnel) {
            closeTunnel();
        }
        if (privateIdleTimer != null) {
            privateIdleTimer.cancel();
        }
        closePrivateIdle();
        if (requestActive) {
            // The client went away (nginx's 499): the upstream is not to blame.
            abortAttempt();
            finishRequest(499, true);
        }
        releaseBody();
        Object m;
        while ((m = inbound.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        boolean outer = beginEvent();
        try {
            clientMessage(msg);
        } finally {
            inEvent = outer;
        }
    }

    /** Starts a read event's clock (see {@link #eventNanos}); returns what to restore at its end. */
    private boolean beginEvent() {
        boolean outer = inEvent;
        eventNanos = System.nanoTime();
        inEvent = true;
        return outer;
    }

    /** The current read event's clock reading, or a fresh one outside read events. */
    private long now() {
        return inEvent ? eventNanos : System.nanoTime();
    }

    private void clientMessage(Object msg) {
        if (tunnel) {
            relay(msg, tunnelPeer);
            return;
        }
        if (readsNoMore()) {
            dropInput(msg);
            return;
        }
        if (!inbound.isEmpty() || requestActive && requestComplete) {
            // A pipelined request: it waits until the current response is out, so answers stay in order,
            // and nothing more is read meanwhile (the queue holds at most what one socket read decoded).
            inbound.add(msg);
            pause(ctx.channel());
            return;
        }
        dispatch(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (tunnel) {
            Channel peer = tunnelPeer;
            if (peer != null) {
                peer.flush();
                if (peer.isWritable()) {
                    readClient();
                } else {
                    pause(ctx.channel());
                }
            }
            return;
        }
        if (requestActive) {
            readRequestBody();
        } else if (!closed && !closeAfterResponse) {
            readClient();
        } else if (!closed && refusalPending) {
            resume(ctx.channel()); // the TLS handshake or the first bytes that choose the protocol
        } else if (!closed && lingerOnClose) {
            resume(ctx.channel()); // the rest of a refused request, dropped (see sendError)
        } else {
            pause(ctx.channel());
        }
    }

    private void dispatch(Object msg) {
        if (msg instanceof HttpRequest) {
            onRequest((HttpRequest) msg);
        }
        if (msg instanceof HttpContent) {
            onRequestContent((HttpContent) msg);
        } else if (!(msg instanceof HttpRequest)) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // A tunnel's upstream side is read as a response is (up, responseStarted): paused the same way.
        if (ctx.channel().isWritable()) {
            disarmClientSend();
            if (up != null && responseStarted) {
                resumeResponse(up.channel);
            }
        } else {
            // The client cannot take more: stop reading what would be written to it.
            if (up != null && responseStarted) {
                pauseResponse(up.channel);
            }
            if (responseStarted || requestActive) {
                armClientSend();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        logger.debug("client connection {} failed", ctx.channel(), cause);
        if (proxyHeaderPending) {
            // A malformed PROXY header (the decoder has closed the connection: no response, as nginx),
            // or a TLS handshake that timed out before the header came.
            proxyHeaderPending = false;
            state.malformedProxyHeader();
        }
        ctx.close();
    }

    /** The listener requires a PROXY header before anything else (called before the channel is registered). */
    void expectProxyHeader() {
        proxyHeaderPending = true;
    }

    /** The PROXY header was read: {@code client} and {@code local} stand for the socket's addresses from now on. */
    void proxyHeaderRead(InetSocketAddress client, InetSocketAddress local) {
        proxyHeaderPending = false;
        clientAddress = client;
        localAddress = local;
    }

    /** Reads each request's client address from a header, as {@code config} says (before registration). */
    public void realIp(RealAddress.Config config) {
        this.realIp = new RealAddress(config);
    }

    /** This request's client address: the real one taken from its header, else the connection's; or null. */
    private InetAddress clientIp() {
        return realAddress != null ? realAddress : clientAddress != null ? clientAddress.getAddress() : null;
    }

    /** The client's address: the socket's peer or what its PROXY header names; null without an IP peer. */
    InetSocketAddress clientAddress() {
        return clientAddress;
    }

    /** The address the client connected to, likewise. */
    InetSocketAddress localAddress() {
        return localAddress;
    }

    private ProxyTimeouts timeouts() {
        return timeouts != null ? timeouts : state.timeouts;
    }

    private void waitForRequest() {
        armKeepAlive();
        readClient();
    }

    private void armKeepAlive() {
        // nginx's keepalive_timeout of the location that served the request before: the route's, or the
        // balancer's when that request was not routed or its route has no timeouts of its own.
        armClient(TIMER_KEEPALIVE, timeouts().keepAlive().toNanos());
        routePages = null; // what comes next is not routed yet: the balancer's error pages
    }

    private void readClient() {
        if (closed) {
            return;
        }
        if (tunnel) {
            resume(ctx.channel());
            return;
        }
        // Messages that arrived with an earlier read come first.
        Object m;
        while (!(requestActive && requestComplete) && (m = inbound.poll()) != null) {
            if (readsNoMore()) {
                // One of them was refused (or the connection closes after its response): what was
                // pipelined behind it is never forwarded (RFC 9112 §9.6, as nginx after an error).
                dropInput(m);
            } else {
                dispatch(m);
            }
        }
        if (!readsNoMore() && !(requestActive && requestComplete)) {
            resumeClient();
        }
    }

    private void resumeClient() {
        Channel ch = ctx.channel();
        boolean paused = !ch.config().isAutoRead();
        resume(ch);
        if (stream && paused) {
            // Resuming a stream writes its WINDOW_UPDATE, whose flush Netty skips while the connection is
            // within a read (see Http2Frontend.ParentFlush): flushed here, or the client may wait for it forever.
            ch.parent().flush();
        }
    }

    /**
     * The connection is closing, or closes once the response going out is written and no request is
     * being read: anything read from the client now is dropped unread.
     */
    private boolean readsNoMore() {
        return closed || closeAfterResponse && !requestActive && !discarding;
    }

    /**
     * Drops a message read from a closing connection ({@link #readsNoMore()}), noting whether it was the
     * end of the request being answered or more than that request.
     */
    private void dropInput(Object msg) {
        if (lingerOnClose && msg instanceof LastHttpContent) {
            lingerOnClose = false;
        } else if (!lingerOnClose) {
            moreInput = true;
        }
        ReferenceCountUtil.release(msg);
    }

    /**
     * Whether the client may still be sending on a connection about to close, nginx's test before a
     * lingering close: the end of the request not read yet, bytes read but not decoded (part of a message),
     * requests pipelined behind it, or a request whose framing was unknown.
     */
    private boolean inputPending() {
        return lingerOnClose || moreInput || !inbound.isEmpty()
                || requestDecoder != null && requestDecoder.hasUnread();
    }

    /**
     * Lets a channel read on its own (auto-read). A no-op while it already does, so the steady state
     * costs no system call; switching it on re-arms the epoll interest once. A reset that reached the
     * channel while it was paused arrives as {@code exceptionCaught} ({@link Transport#resumeReads}).
     */
    private static void resume(Channel ch) {
        Transport.resumeReads(ch);
    }

    /** Stops a channel reading (back-pressure) until {@link #resume(Channel)}. */
    private static void pause(Channel ch) {
        if (ch.config().isAutoRead()) {
            ch.config().setAutoRead(false);
        }
    }

    /**
     * Stops reading the response, or a tunnel's upstream side, while the client cannot take more. As in
     * nginx, which deletes the upstream read timer while it leaves the upstream unread (in
     * {@code ngx_http_upstream_process_upgraded} too), the read timeout is off meanwhile: the wait is the
     * client's (send_timeout), not the upstream's.
     */
    private void pauseResponse(Channel ch) {
        pause(ch);
        upReadTimer.disarm();
    }

    /**
     * Reads the upstream again after {@link #pauseResponse(Channel)}, with the read timeout running once the
     * whole request is sent (in a tunnel, always).
     */
    private void resumeResponse(Channel ch) {
        resume(ch);
        if (lastWritten || tunnel) {
            upReadTimer.arm(now(), timeouts().read().toNanos());
        }
    }

    // The send timers are rarely needed (only when a peer stops taking data), so an idle or steadily
    // served connection never allocates them.
    private void armClientSend() {
        if (clientSendTimer == null) {
            clientSendTimer = new Deadline(ctx.executor(), this::clientSendExpired);
        }
        clientSendTimer.arm(now(), timeouts().clientSend().toNanos());
    }

    private void disarmClientSend() {
        if (clientSendTimer != null) {
            clientSendTimer.disarm();
        }
    }

    private void armUpSend() {
        if (upSendTimer == null) {
            upSendTimer = new Deadline(ctx.executor(), this::upstreamTimedOut);
        }
        upSendTimer.arm(now(), timeouts().send().toNanos());
    }

    private void disarmUpSend() {
        if (upSendTimer != null) {
            upSendTimer.disarm();
        }
    }

    private void armClient(int kind, long nanos) {
        clientTimerKind = kind;
        clientTimer.arm(now(), nanos);
    }

    private void disarmClient() {
        clientTimerKind = TIMER_NONE;
        clientTimer.disarm();
    }

    private void clientTimerExpired() {
        int kind = clientTimerKind;
        clientTimerKind = TIMER_NONE;
        if (kind == TIMER_KEEPALIVE) {
            ctx.close();
        } else if (kind == TIMER_HEADER && refusalPending) {
            // Refused, and no protocol chosen in client_header_timeout: nothing to answer in.
            refusalPending = false;
            ctx.close();
        } else if (kind == TIMER_HEADER && proxyHeaderPending) {
            // No complete PROXY header in client_header_timeout: closed without a response, as nginx.
            proxyHeaderPending = false;
            state.malformedProxyHeader();
            ctx.close();
        } else if (kind == TIMER_HEADER) {
            // No head, so no route: the balancer's timeouts apply (nginx's server level), not those of the
            // route of a request before it. A client cut off in the middle of a head may still be sending
            // it: the 408 lingers, or the client's next bytes would reset the connection and could destroy
            // the 408 before it is read.
            timeouts = null;
            closeAfterResponse = true;
            lingerOnClose = headBegun;
            sendError(HttpResponseStatus.REQUEST_TIMEOUT, true);
        } else if (kind == TIMER_BODY) {
            abortAttempt();
            if (!responseStarted) {
                closeAfterResponse = true;
                lingerOnClose = true;
                finishRequest(sentCode(HttpResponseStatus.REQUEST_TIMEOUT), true);
                sendError(HttpResponseStatus.REQUEST_TIMEOUT, true);
            } else {
                finishRequest(status, true);
                ctx.close();
            }
        }
    }

    /** proxy_read_timeout or proxy_send_timeout passed. */
    private void upstreamTimedOut() {
        if (tunnel) {
            // As nginx: an upgraded connection closes when the upstream sends nothing for proxy_read_timeout,
            // or takes nothing for proxy_send_timeout.
            closeTunnel();
        } else {
            attemptFailed(Failure.TIMEOUT, null);
        }
    }

    private void clientSendExpired() {
        logger.debug("send_timeout on {}", ctx.channel());
        abortAttempt();
        if (requestActive) {
            finishRequest(status, true);
        }
        ctx.close();
    }

    private void onRequest(HttpRequest req) {
        disarmClient();
        requestActive = true;
        headBegun = false;
        request = req;
        requestStartNanos = now();
        requestComplete = false;
        bodyBytes = 0;
        pendingBytes = 0;
        bodyWritten = 0;
        bodyDropped = false;
        trailers = null;
        tries = 0;
        freshRetried = false;
        responseStarted = false;
        status = 0;
        bytesToClient = 0;
        upstreamLog = null;
        upstreamNanos = 0;
        route = null;
        routePages = null;
        timeouts = null;
        group = null;
        stickyMember = null;
        encoder.headRequest = HttpMethod.HEAD.equals(req.method());
        tunnelRequested = false;
        http10Client = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
        clientKeepAlive = !stream && !closeAfterResponse && !state.stopping;
        logRequestLine = state.accessLog
                ? req.method() + " " + req.uri() + " " + (stream ? "HTTP/2.0" : req.protocolVersion()) : null;
        if (refusedStream) {
            // The stream's connection is over maxConnections: 503, as an HTTP/1.1 connection gets.
            reject(HttpResponseStatus.SERVICE_UNAVAILABLE);
            return;
        }

        DecoderResult dr = req.decoderResult();
        if (dr.isFailure()) {
            Throwable c = dr.cause();
            HttpResponseStatus s = c instanceof TooLongHttpHeaderException
                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : c instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : c instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : unknownCoding(req) ? HttpResponseStatus.NOT_IMPLEMENTED
                    : HttpResponseStatus.BAD_REQUEST;
            rejectUnframed(s);
            return;
        }
        HttpHeaders h = req.headers();
        if (realIp != null) {
            realAddress = realIp.of(h, clientAddress != null ? clientAddress.getAddress() : null);
            realPort = realIp.port();
        }
        HttpVersion v = req.protocolVersion();
        if (v.majorVersion() != 1 || v.minorVersion() > 1) {
            reject(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED);
            return;
        }
        clientKeepAlive &= HttpUtil.isKeepAlive(req);
        if (h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            String te = h.get(HttpHeaderNames.TRANSFER_ENCODING).trim();
            if (http10Client || Headers.count(h, HttpHeaderNames.TRANSFER_ENCODING) > 1) {
                rejectUnframed(HttpResponseStatus.BAD_REQUEST);
                return;
            }
            if (!te.equalsIgnoreCase("chunked")) {
                rejectUnframed(HttpResponseStatus.NOT_IMPLEMENTED);
                return;
            }
        }
        int hosts = Headers.count(h, HttpHeaderNames.HOST);
        if (hosts > 1 || hosts == 0 && !http10Client) {
            reject(HttpResponseStatus.BAD_REQUEST);
            return;
        }
        HttpMethod method = req.method();
        String uri = req.uri();
        String host = h.get(HttpHeaderNames.HOST);
        boolean connect = HttpMethod.CONNECT.equals(method);
        // CONNECT over HTTP/2 (RFC 9113 §8.5) is not tunnelled: 405, as nginx answers it.
        if (connect && (!state.limits.allowConnect() || stream)) {
            reject(HttpResponseStatus.METHOD_NOT_ALLOWED);
            return;
        }
        String routePath = uri;
        if (connect) {
            // Authority form (RFC 9112 §3.2.3): routed by its host, as a request for "/".
            if (uri.isEmpty() || uri.startsWith("/") || uri.indexOf(':') < 0) {
                reject(HttpResponseStatus.BAD_REQUEST);
                return;
            }
            host = uri;
            routePath = "/";
        } else if (uri.regionMatches(true, 0, "http://", 0, 7) || uri.regionMatches(true, 0, "https://", 0, 8)) {
            // Absolute form (RFC 9112 §3.2.2): its authority replaces Host.
            int start = uri.indexOf("//") + 2;
            int slash = uri.indexOf('/', start);
            int query = uri.indexOf('?', start);
            int end = slash < 0 ? (query < 0 ? uri.length() : query) : (query >= 0 && query < slash ? query : slash);
            String authority = uri.substring(start, end);
            if (authority.isEmpty() || authority.indexOf('@') >= 0) {
                reject(HttpResponseStatus.BAD_REQUEST);
                return;
            }
            host = authority;
            h.set(HttpHeaderNames.HOST, authority);
            String rest = uri.substring(end);
            uri = rest.isEmpty() ? "/" : rest.startsWith("?") ? "/" + rest : rest;
            routePath = uri;
        } else if (!uri.startsWith("/") && !("*".equals(uri) && HttpMethod.OPTIONS.equals(method))) {
            reject(HttpResponseStatus.BAD_REQUEST);
            return;
        }
        String matchPath = connect ? routePath : Paths.normalize(routePath);
        if (matchPath == null) {
            reject(HttpResponseStatus.BAD_REQUEST);
            return;
        }
        if (host != null && !host.equals(lastHost)) {
            // A keep-alive client sends the same Host every time: check and normalise it once per connection.
            if (!Headers.validHost(host)) {
                // RFC 9112 §3.2: a Host with an invalid value is refused with 400.
                reject(HttpResponseStatus.BAD_REQUEST);
                return;
            }
            lastHost = host;
            lastHostKey = Headers.hostWithoutPort(host);
        }
        RouteTable.RouteEntry e = state.routeTable().match(host == null ? null : lastHostKey, matchPath);
        if (e != null) {
            // From here a refusal answers a routed request: the route's timeouts apply to it, its lingering
            // ones included, as nginx's location settings once the location is found.
            timeouts = e.route().timeouts().orElse(state.timeouts);
            routePages = e.errorPages;
        }
        long limit = state.limits.maxBodySize();
        if (limit > 0 && HttpUtil.getContentLength(req, -1L) > limit) {
            // After routing, as nginx checks client_max_body_size once the location is found.
            reject(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
            return;
        }
        if (e == null) {
            answerAndKeep(HttpResponseStatus.NOT_FOUND);
            return;
        }
        long delayMillis = 0;
        if (e.limits != null) {
            // limit_req and limit_conn (nginx's preaccess phase): keyed by the request as the client sent it.
            if (heldLimits == null || heldLimits.length < e.limits.holds()) {
                heldLimits = new LimitTable.Entry[e.limits.holds()];
            }
            delayMillis = e.limits.admit(clientIp(), keySpan(), uri,
                    matchPath, matchPath == routePath, h, heldLimits);
            if (delayMillis < 0) {
                refuseByLimit(e, HttpResponseStatus.valueOf((int) -delayMillis));
                return;
            }
        }
        if (h.contains(HttpHeaderNames.EXPECT)) {
            if (!h.get(HttpHeaderNames.EXPECT).equalsIgnoreCase("100-continue")) {
                reject(HttpResponseStatus.EXPECTATION_FAILED);
                return;
            }
            h.remove(HttpHeaderNames.EXPECT);
            // Like nginx, the proxy itself invites the body; the upstream never sees the Expect. An HTTP/1.0
            // client's expectation is ignored (RFC 9110 §10.1.1, nginx's ngx_http_test_expect): it cannot
            // take a 1xx response, and sends its body anyway. nginx invites the body when it starts reading
            // it, after limit_req's delay: a delayed request gets its 100 when the delay ends.
            if (!http10Client) {
                if (delayMillis > 0) {
                    continueAfterDelay = true;
                } else {
                    sendContinue();
                }
            }
        }
        route = e;
        Route r = e.route();
        group = r.group();
        retry = r.retry();
        replayable = true;
        idempotent = isIdempotent(method);
        if (state.accessLog) {
            logReferer = h.get(HttpHeaderNames.REFERER);
            logUserAgent = h.get(HttpHeaderNames.USER_AGENT);
        }
        clientHost = host;
        pick.reset();
        InetAddress client = clientIp();
        if (client != null) {
            pick.clientAddress(client);
        }
        Affinity affinity = e.affinity;
        if (affinity != null) {
            // From the request as the client sent it: before the route's header rules and prefix rewrite.
            affinity.hashKey(pick, keySpan(), uri, matchPath, matchPath == routePath, h);
            if (affinity.sticky()) {
                stickyMember = affinity.stickyMember(group.pool(), h);
                affinity.removeCookie(h);
            }
        }
        if (r.rewritePrefix().isPresent() && !connect) {
            // As nginx, a rewritten path is built from the normalized one (the prefix matched that), which
            // is escaped again: a decoded "%3F" must not become the start of a query.
            if (matchPath.equals(uri)) {
                uri = r.rewritePrefix().get() + uri.substring(r.pathPrefix().length());
            } else {
                int q = uri.indexOf('?');
                uri = Paths.rewrite(r.rewritePrefix().get(), matchPath, r.pathPrefix().length(),
                        q < 0 ? "" : uri.substring(q));
            }
        }
        req.setUri(uri);
        boolean chunked = HttpUtil.isTransferEncodingChunked(req);
        // (Hixie-76's Sec-WebSocket-Key1 makes Netty's decoder read an 8-byte body without a length.)
        noBody = !chunked && (!h.contains(HttpHeaderNames.CONTENT_LENGTH)
                || h.containsValue(HttpHeaderNames.CONTENT_LENGTH, "0", false))
                && !h.contains(HttpHeaderNames.SEC_WEBSOCKET_KEY1);
        String upgrade = !http10Client && h.contains(HttpHeaderNames.UPGRADE)
                && Headers.containsToken(h, HttpHeaderNames.CONNECTION, "upgrade") ? h.get(HttpHeaderNames.UPGRADE) : null;
        tunnelRequested = upgrade != null || connect;
        encoder.headRequest |= connect;
        Headers.removeHopByHop(h);
        addForwarded(r, h, host);
        r.headers().applyToRequest(h);
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (chunked) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (upgrade != null) {
            // The one hop-by-hop exchange a proxy passes on: the upstream decides on the upgrade.
            h.set(HttpHeaderNames.UPGRADE, upgrade);
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        } else if (group.keepAlive().maxIdle() == 0) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        e.counters.requests.increment();
        e.counters.inFlight.increment();
        if (delayMillis > 0) {
            limitDelay = ctx.executor().schedule(this::limitDelayOver, delayMillis, TimeUnit.MILLISECONDS);
            // The body comes into the replay buffer meanwhile, as in a request queue, with the client body
            // timeout; reading also sees a client that goes away, which ends the wait (finishRequest).
            readRequestBody();
            return;
        }
        forward();
    }

    /**
     * A request refused by a route limit: answered with the limit's status on a connection kept alive, its
     * body discarded, as nginx's 503 (or limit_req_status) from limit_req and limit_conn.
     */
    private void refuseByLimit(RouteTable.RouteEntry e, HttpResponseStatus s) {
        route = e;
        e.counters.requests.increment();
        e.counters.inFlight.increment();
        answerAndKeep(s);
    }

    /** The connection's key span, made when a route with affinity or limits first needs it. */
    private KeySpan keySpan() {
        KeySpan k = keySpan;
        if (k == null) {
            keySpan = k = new KeySpan();
        }
        return k;
    }

    /** A request delayed by a rate limit may go on; invited to send its body now if it expects that. */
    private void limitDelayOver() {
        limitDelay = null;
        if (requestActive && !closed) {
            if (continueAfterDelay) {
                continueAfterDelay = false;
                sendContinue();
            }
            forward();
        }
    }

    /** Answers {@code Expect: 100-continue}: the client may send the body. */
    private void sendContinue() {
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                Unpooled.EMPTY_BUFFER), ctx.voidPromise());
    }

    /** Sends the routed, admitted request on: to its group's queue, or to the member picked. */
    private void forward() {
        RouteTable.RouteEntry e = route;
        GroupQueue q = e.queue;
        if (q != null && q.size() > 0 && (q.limitedOnly() || q.slotFree())) {
            // Others wait for this group already: first come, first served, even when a slot has just
            // freed (it is on its way to the oldest waiter).
            enqueue(q);
            return;
        }
        firstAttemptNanos = now();
        Member m = group.pool().pick(pick, stickyMember);
        if (m == null) {
            if (q != null && q.limitedOnly()) {
                enqueue(q);
            } else {
                respondError(HttpResponseStatus.BAD_GATEWAY);
            }
            return;
        }
        startAttempt(m, false);
        readRequestBody();
    }

    // ---------------------------------------------------------------- request queue

    /** Every upstream that could take the request is at its connection limit: wait, or 503 if the queue is full. */
    private void enqueue(GroupQueue q) {
        GroupQueue.Waiter w = new GroupQueue.Waiter(q, this);
        if (!q.offer(w)) {
            respondError(HttpResponseStatus.SERVICE_UNAVAILABLE);
            return;
        }
        waiter = w;
        if (queueTimer == null) {
            queueTimer = new Deadline(ctx.executor(), this::queueExpired);
        }
        queueTimer.arm(now(), q.config.timeout().toNanos());
        // The body keeps coming into the replay buffer meanwhile, as while connecting.
        readRequestBody();
        // A slot may have freed between the pick and the offer, unseen by the queue: look once more.
        q.wake();
    }

    /** The event loop of this connection (where its queue turns run). */
    EventExecutor executor() {
        return ctx.executor();
    }

    /** The queue gave this request its turn: a member may be free. */
    void queueTurn(GroupQueue.Waiter w) {
        GroupQueue q = w.queue;
        if (w != waiter) {
            // It left meanwhile (timed out, client gone): the freed slot goes to the next in line.
            q.handedOver();
            q.wake();
            return;
        }
        Member m = group.pool().pick(pick, stickyMember);
        if (m == null) {
            if (q.limitedOnly()) {
                // Someone else took the slot: wait at the head of the line for the next one.
                q.requeue(w);
                if (w.rewakes > 0 && q.slotFree()) {
                    w.rewakes--;
                    q.wake();
                }
                return;
            }
            leftQueue();
            respondError(HttpResponseStatus.BAD_GATEWAY);
            return;
        }
        leftQueue();
        firstAttemptNanos = now();
        startAttempt(m, false);
        readRequestBody();
        // Several slots may have freed at once (an upstream was added): the next in line tries too.
        q.wake();
    }

    /** The waiter's turn ran and it leaves the queue for good. */
    private void leftQueue() {
        GroupQueue.Waiter w = waiter;
        waiter = null;
        queueTimer.disarm();
        w.queue.handedOver();
    }

    /** Leaves the queue early (timeout, client gone, stop); a turn already on its way passes the slot on. */
    private void leaveQueue() {
        GroupQueue.Waiter w = waiter;
        if (w == null) {
            return;
        }
        waiter = null;
        queueTimer.disarm();
        w.queue.remove(w);
    }

    private void queueExpired() {
        GroupQueue.Waiter w = waiter;
        if (w == null) {
            return;
        }
        leaveQueue();
        w.queue.timedOut.increment();
        respondError(HttpResponseStatus.SERVICE_UNAVAILABLE);
    }

    /** A request whose only fault is a transfer coding other than chunked: nginx answers 501. */
    private static boolean unknownCoding(HttpRequest req) {
        HttpHeaders h = req.headers();
        if (!h.contains(HttpHeaderNames.TRANSFER_ENCODING) || h.contains(HttpHeaderNames.CONTENT_LENGTH)
                || req.decoderResult().cause() instanceof Codecs.AmbiguousFramingException) {
            return false;
        }
        return !h.get(HttpHeaderNames.TRANSFER_ENCODING).trim().equalsIgnoreCase("chunked");
    }

    private void addForwarded(Route r, HttpHeaders h, String host) {
        if (r.forwarded().isEmpty()) {
            return;
        }
        InetAddress client = clientIp();
        String ip = client != null ? addressText(client) : "unknown";
        String proto = tls ? "https" : "http";
        if (r.forwarded().contains(ForwardedHeader.X_FORWARDED_FOR)) {
            String old = allValues(h, Headers.X_FORWARDED_FOR);
            h.set(Headers.X_FORWARDED_FOR, old == null ? ip : old + ", " + ip);
        }
        if (r.forwarded().contains(ForwardedHeader.X_FORWARDED_PROTO)) {
            h.set(Headers.X_FORWARDED_PROTO, proto);
        }
        if (r.forwarded().contains(ForwardedHeader.X_FORWARDED_HOST) && host != null) {
            h.set(Headers.X_FORWARDED_HOST, host);
        }
        if (r.forwarded().contains(ForwardedHeader.FORWARDED)) {
            StringBuilder sb = new StringBuilder("for=");
            if (ip.indexOf(':') >= 0) {
                sb.append("\"[").append(ip).append("]\"");
            } else {
                sb.append(ip);
            }
            sb.append(";proto=").append(proto);
            if (host != null) {
                // A quoted-string (RFC 7239 §4, RFC 9110 §5.6.4): a quote in the client's Host must not end it,
                // or the Host could add parameters (a forged for=) to this element.
                sb.append(";host=\"");
                for (int i = 0; i < host.length(); i++) {
                    char c = host.charAt(i);
                    if (c == '"' || c == '\\') {
                        sb.append('\\');
                    }
                    sb.append(c);
                }
                sb.append('"');
            }
            String old = allValues(h, Headers.FORWARDED);
            h.set(Headers.FORWARDED, old == null ? sb.toString() : old + ", " + sb);
        }
    }

    /**
     * Every line of a list field as one value (RFC 9110 §5.3), or null when absent: replacing only the
     * first line would drop the hops the others name (nginx joins them since 1.23.0).
     */
    private static String allValues(HttpHeaders h, CharSequence name) {
        return Headers.count(h, name) > 1 ? String.join(", ", h.getAll(name)) : h.get(name);
    }

    /**
     * The client's address as nginx's {@code $remote_addr}: IPv6 in RFC 5952's short form ({@code ::1},
     * not {@code 0:0:0:0:0:0:0:1}) and without a scope id, which RFC 7239's node syntax has no room for.
     */
    private static String addressText(InetAddress a) {
        return NetUtil.toAddressString(a);
    }

    private static boolean isIdempotent(HttpMethod m) {
        return HttpMethod.GET.equals(m) || HttpMethod.HEAD.equals(m) || HttpMethod.PUT.equals(m)
                || HttpMethod.DELETE.equals(m) || HttpMethod.OPTIONS.equals(m) || HttpMethod.TRACE.equals(m);
    }

    /**
     * Answers a request the proxy refuses to forward, and closes: what the client still sends of it (its
     * body, or for a head the end that follows it) is read and dropped, never forwarded or parsed as a
     * request; the connection lingers while it may still come.
     */
    private void reject(HttpResponseStatus s) {
        closeAfterResponse = true;
        clientKeepAlive = false;
        lingerOnClose = !requestComplete;
        requestComplete = true;
        finishRequest(sentCode(s), false);
        sendError(s, true);
    }

    /**
     * Answers a well-framed request the proxy does not forward without closing when the client asked for
     * keep-alive, as nginx does: its {@code ngx_http_special_response_handler} turns keep-alive off only
     * for 400, 413, 414, 500 and 501 (and heads it refuses before it decides on keep-alive, 405 and 505
     * among them, close too), and discards the request's body before it reads the next request. So here:
     * the body is read and dropped ({@link #discardBody}), never forwarded or parsed as a request, and
     * requests pipelined behind it are served in turn. Otherwise {@link #reject}s it.
     */
    private void answerAndKeep(HttpResponseStatus s) {
        if (!clientKeepAlive) {
            reject(s);
            return;
        }
        discarding = true;
        finishRequest(sentCode(s), false);
        discardAnswer = sendError(s, false);
        armClient(TIMER_BODY, timeouts().clientBody().toNanos());
    }

    /**
     * Drops a piece of the body of a request answered by {@link #answerAndKeep}; once its end is read, the
     * connection waits for the next request (the loop or read that passed this piece reads on). A body
     * over the limit ({@code maxBodySize}) or whose chunked framing breaks ends the keep-alive: the
     * connection closes once the answer is out, lingering while the client may still be sending, as after a
     * refusal; a body that stalls for {@code clientBody} closes it (the client timer).
     */
    private void discardBody(HttpContent c) {
        boolean broken = c.decoderResult().isFailure();
        boolean last = c instanceof LastHttpContent;
        bodyBytes += c.content().readableBytes();
        c.release();
        long limit = state.limits.maxBodySize();
        if (broken || limit > 0 && bodyBytes > limit) {
            discarding = false;
            disarmClient();
            closeAfterResponse = true;
            lingerOnClose = !last && !broken;
            moreInput |= broken;
            discardAnswer.addListener((ChannelFutureListener) this::closeOrLinger);
            discardAnswer = null;
        } else if (last) {
            discarding = false;
            ChannelFuture answer = discardAnswer;
            discardAnswer = null;
            if (closeAfterResponse) {
                // A graceful stop came while the body was being dropped: the connection ends with it.
                answer.addListener((ChannelFutureListener) this::closeOrLinger);
            } else {
                armKeepAlive();
            }
        } else {
            armClient(TIMER_BODY, timeouts().clientBody().toNanos());
        }
    }

    /** {@link #reject}s a request whose framing is unknown or broken: where it ends cannot be read. */
    private void rejectUnframed(HttpResponseStatus s) {
        moreInput = true;
        reject(s);
    }

    private void onRequestContent(HttpContent c) {
        if (discarding) {
            discardBody(c);
            return;
        }
        if (!requestActive || requestComplete) {
            // The rest of a rejected request, or of one answered early: dropped.
            c.release();
            return;
        }
        if (c.decoderResult().isFailure()) {
            c.release();
            abortAttempt();
            if (!responseStarted) {
                rejectUnframed(HttpResponseStatus.BAD_REQUEST);
            } else {
                finishRequest(status, true);
                ctx.close();
            }
            return;
        }
        ByteBuf content = c.content();
        int n = content.readableBytes();
        bodyBytes += n;
        route.counters.bytesIn.add(n);
        long limit = state.limits.maxBodySize();
        if (limit > 0 && bodyBytes > limit) {
            c.release();
            abortAttempt();
            if (!responseStarted) {
                requestComplete = c instanceof LastHttpContent;
                reject(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
            } else {
                finishRequest(status, true);
                ctx.close();
            }
            return;
        }
        if (replayable && bodyBytes > retry.replayBufferBytes()) {
            replayable = false;
        }
        boolean last = c instanceof LastHttpContent;
        if (last) {
            requestComplete = true;
            disarmClient();
            HttpHeaders t = ((LastHttpContent) c).trailingHeaders();
            if (!t.isEmpty()) {
                trailers = t.copy();
            }
        }
        if (n > 0) {
            body.add(content.retain());
            pendingBytes += n;
        }
        c.release();
        if (headWritten && up != null) {
            writeBody();
        }
        if (!last) {
            readRequestBody();
        }
    }

    /**
     * Reads more of the request body while the upstream can take it, or, before the request reaches an
     * upstream (connecting, queued), while the replay buffer has room. What is read goes out at once
     * ({@link #writeBody()}), so a connection holds at most the upstream channel's write buffer up to its
     * high-water mark plus one read; the upstream's channelWritabilityChanged reads on.
     */
    private void readRequestBody() {
        if (!requestActive || requestComplete || closed) {
            return;
        }
        if (headWritten && up != null ? up.channel.isWritable()
                : pendingBytes < Math.max(retry.replayBufferBytes(), 16 * 1024)) {
            if (continueAfterDelay) {
                // The client waits for its 100 Continue before it sends the body: no body timeout runs until
                // it is invited (nginx reads nothing during the delay), but reading sees a client that leaves.
                disarmClient();
            } else {
                armClient(TIMER_BODY, timeouts().clientBody().toNanos());
            }
            readClient();
        } else {
            disarmClient();
            pause(ctx.channel());
        }
    }

    /** Writes the body chunks not yet sent in this attempt, and the end of the request when complete. */
    private void writeBody() {
        Channel ch = up.channel;
        int n = body.size();
        for (int i = bodyWritten; i < n; i++) {
            ByteBuf b = body.get(i);
            upCounters.bytesOut.add(b.readableBytes());
            if (replayable) {
                ch.write(new DefaultHttpContent(b.retainedDuplicate()), ch.voidPromise());
            } else {
                body.set(i, null);
                ch.write(new DefaultHttpContent(b), ch.voidPromise());
            }
        }
        bodyWritten = n;
        pendingBytes = 0;
        if (!replayable && n > 0) {
            // Past the replay limit: what was kept for a retry goes, and a retry is no longer possible.
            releaseBody();
            bodyDropped = true;
        }
        if (requestComplete && !lastWritten) {
            lastWritten = true;
            LastHttpContent end = trailers == null ? LastHttpContent.EMPTY_LAST_CONTENT
                    : new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, trailers.copy());
            ch.writeAndFlush(end, ch.voidPromise());
            upReadTimer.arm(now(), timeouts().read().toNanos());
        } else if (!noBody || requestComplete) {
            ch.flush();
        }
        if (!ch.isWritable()) {
            armUpSend();
        }
    }

    private void releaseBody() {
        for (int i = 0; i < body.size(); i++) {
            ByteBuf b = body.get(i);
            if (b != null) {
                b.release();
            }
        }
        body.clear();
        bodyWritten = 0;
        pendingBytes = 0;
    }

    // ---------------------------------------------------------------- attempts

    private void startAttempt(Member m, boolean fresh) {
        member = m;
        if (!fresh) {
            tries++;
            pick.addTried(m);
        }
        m.incrementActive();
        upCounters = state.upstreamCounters(m, group);
        upCounters.requests.increment();
        upCounters.inFlight.increment();
        if (tries > 1 || fresh) {
            route.counters.retries.increment();
        }
        attemptStartNanos = now();
        attemptId++;
        headWritten = false;
        headWriteDone = false;
        lastWritten = false;
        responseBegun = false;
        skipInterim = false;
        statusCounts = false;
        bodyWritten = 0;
        pendingBytes = 0;
        for (ByteBuf b : body) {
            if (b != null) {
                pendingBytes += b.readableBytes();
            }
        }
        if (upstreamLog != null) {
            upstreamLog.append(", ");
        } else if (state.accessLog) {
            upstreamLog = new StringBuilder();
        }
        if (upstreamLog != null) {
            upstreamLog.append(m.upstream().key());
        }
        UpstreamConnection c = fresh ? null
                : group.proxyProtocol() != ProxyProtocol.NONE ? takePrivateIdle(m) : connPool.acquire(m);
        if (c != null) {
            reused = true;
            attach(c);
            return;
        }
        reused = false;
        connect(m);
    }

    /** This client connection's own idle upstream connection, if it is to {@code m} and still usable. */
    private UpstreamConnection takePrivateIdle(Member m) {
        UpstreamConnection c = privateIdle;
        if (c == null || c.member != m || !java.util.Objects.equals(privateIdleFor, realAddress)
                || privateIdlePort != realPort) {
            // Another member, or its header names another client than this request's.
            return null;
        }
        privateIdle = null;
        privateIdleTimer.disarm();
        if (!c.channel.isActive() || now() - c.idleSince >= group.keepAlive().idleTimeout().toNanos()) {
            c.channel.close();
            return null;
        }
        return c;
    }

    /** Closes the idle upstream connection kept for this client, if any. */
    private void closePrivateIdle() {
        UpstreamConnection c = privateIdle;
        if (c != null) {
            privateIdle = null;
            c.channel.close();
        }
    }

    /** Keeps {@code c}, whose header names this client, for this client's next request only. */
    private void keepPrivateIdle(UpstreamConnection c) {
        if (!UpstreamConnectionPool.idles(c, group.keepAlive(), now())) {
            return;
        }
        closePrivateIdle();
        privateIdle = c;
        privateIdleFor = realAddress;
        privateIdlePort = realPort;
        if (privateIdleTimer == null) {
            privateIdleTimer = new Deadline(ctx.executor(), this::closePrivateIdle);
        }
        // As a pooled connection, it is closed when the group's idle timeout passes, not at its next use.
        privateIdleTimer.arm(now(), group.keepAlive().idleTimeout().toNanos());
    }

    private void connect(Member m) {
        final Member target = m;
        final int id = attemptId;
        final UpstreamGroup g = group;
        final UpstreamConnection conn = new UpstreamConnection(m, connPool);
        final int connectMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeouts().connect().toMillis()));
        InetSocketAddress address = target.upstream().address();
        // Netty turns TCP_NODELAY on by default (setting it again would cost a system call per connection).
        Bootstrap b = new Bootstrap().group(ctx.channel().eventLoop())
                .channelFactory(state.transport.socketChannelFactory(address))
                .resolver(state.resolvers)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOCATOR, io.netty.buffer.PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis)
                .option(ChannelOption.RECVBUF_ALLOCATOR, state.reads())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (g.proxyProtocol() != ProxyProtocol.NONE) {
                            // First, so that the header precedes a TLS handshake (HAProxy send-proxy with ssl).
                            ch.pipeline().addLast(ProxyHeaders.sender(g.proxyProtocol() == ProxyProtocol.V1
                                    ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2,
                                    realAddress != null ? new InetSocketAddress(realAddress, realPort) : clientAddress,
                                    localAddress));
                        }
                        if (g.tls().isPresent()) {
                            ch.pipeline().addLast(sslHandler(ch, g.tls().get(), target, connectMillis));
                        }
                        ch.pipeline().addLast(conn.decoder, new Codecs.RequestEncoder(), conn);
                    }
                });
        ChannelFuture f = b.connect(address);
        state.trackUpstream(f.channel());
        f.addListener((ChannelFutureListener) future -> {
            if (attemptId != id || up != null || !requestActive) {
                // This attempt was abandoned meanwhile.
                future.channel().close();
                return;
            }
            if (!future.isSuccess()) {
                Throwable cause = future.cause();
                attemptFailed(cause instanceof ConnectTimeoutException ? Failure.CONNECT_TIMEOUT : Failure.CONNECT,
                        cause);
                return;
            }
            if (g.tls().isPresent()) {
                SslHandler ssl = conn.channel.pipeline().get(SslHandler.class);
                if (ssl == null) {
                    // Closed as soon as connected: the pipeline is already gone.
                    attemptFailed(Failure.CONNECT, null);
                    return;
                }
                ssl.handshakeFuture().addListener(hs -> upstreamHandshaken(conn, hs, g.tls().get(), target, id));
                return;
            }
            attach(conn);
        });
        pendingConnect = f;
    }


    private static SslHandler sslHandler(Channel ch, TlsOptions tls, Member m, long handshakeMillis) {
        String name = tls.serverName().orElse(m.upstream().host());
        // With SNI off the engine gets no peer name (OpenSSL would send it as SNI whatever the
        // parameters say), so the name is then checked after the handshake, in upstreamHandshaken.
        SslHandler h = tls.sni() ? tls.sslContext().newHandler(ch.alloc(), name, m.upstream().port())
                : tls.sslContext().newHandler(ch.alloc());
        // proxy_connect_timeout covers the TLS handshake too, as in nginx.
        h.setHandshakeTimeoutMillis(handshakeMillis);
        SSLEngine engine = h.engine();
        SSLParameters p = engine.getSSLParameters();
        // Said either way: Netty 4.2's client contexts verify host names by default, and the JDK keeps
        // the old algorithm when given null, so "off" is the empty string.
        p.setEndpointIdentificationAlgorithm(tls.verifyHostname() && tls.sni() ? "HTTPS" : "");
        engine.setSSLParameters(p);
        return h;
    }

    /**
     * The TLS handshake with an upstream ended: the request goes out only now, so that nothing reaches a
     * server whose certificate or name was refused; a refused or timed-out handshake is a connect
     * failure (nothing was sent, so any request may go to the next upstream).
     */
    private void upstreamHandshaken(UpstreamConnection conn, Future<?> hs,
            TlsOptions tls, Member target, int id) {
        if (attemptId != id || up != null || !requestActive) {
            conn.channel.close();
            return;
        }
        if (!hs.isSuccess()) {
            Throwable cause = hs.cause();
            attemptFailed(cause instanceof SslHandshakeTimeoutException ? Failure.CONNECT_TIMEOUT
                    : Failure.CONNECT, cause);
            return;
        }
        if (!tls.sni() && tls.verifyHostname()) {
            String name = tls.serverName().orElse(target.upstream().host());
            boolean ok;
            try {
                Certificate[] chain = conn.channel.pipeline().get(SslHandler.class).engine().getSession()
                        .getPeerCertificates();
                ok = chain.length > 0 && chain[0] instanceof X509Certificate
                        && HostNames.matches((X509Certificate) chain[0], name);
            } catch (SSLPeerUnverifiedException e) {
                ok = false;
            }
            if (!ok) {
                conn.channel.close();
                attemptFailed(Failure.CONNECT, new SSLPeerUnverifiedException(
                        "the certificate of " + target.upstream().key() + " is not valid for " + name));
                return;
            }
        }
        attach(conn);
    }

    private void attach(UpstreamConnection c) {
        pendingConnect = null;
        up = c;
        c.user = this;
        c.requests++;
        c.decoder.headRequest = HttpMethod.HEAD.equals(request.method());
        c.decoder.connectRequest = HttpMethod.CONNECT.equals(request.method());
        setHost();
        Channel ch = c.channel;
        if (reused && !idempotent) {
            // Only here does it matter whether the head left: a non-idempotent request is sent again
            // on a fresh connection only if it was never written.
            ch.write(request).addListener(f -> {
                if (f.isSuccess()) {
                    headWriteDone = true;
                }
            });
        } else {
            ch.write(request, ch.voidPromise());
            headWriteDone = true;
        }
        headWritten = true;
        writeBody();
        resume(ch);
        readRequestBody();
    }

    private void setHost() {
        if (route.hostByRule) {
            return;
        }
        HttpHeaders h = request.headers();
        HostHeader policy = route.route().hostHeader();
        switch (policy.kind()) {
            case PRESERVE -> {
                if (clientHost != null) {
                    h.set(HttpHeaderNames.HOST, clientHost);
                } else {
                    h.set(HttpHeaderNames.HOST, Headers.hostOf(member.upstream()));
                }
            }
            case GROUP_NAME -> h.set(HttpHeaderNames.HOST, group.name());
            case UPSTREAM_ADDRESS -> h.set(HttpHeaderNames.HOST, Headers.hostOf(member.upstream()));
            default -> h.set(HttpHeaderNames.HOST, policy.value());
        }
    }

    void onUpstreamMessage(UpstreamConnection c, Object msg) {
        boolean outer = beginEvent();
        try {
            upstreamMessage(c, msg);
        } finally {
            inEvent = outer;
        }
    }

    private void upstreamMessage(UpstreamConnection c, Object msg) {
        if (tunnel && c.channel == tunnelPeer) {
            upReadTimer.arm(now(), timeouts().read().toNanos());
            relay(msg, ctx.channel());
            return;
        }
        if (c != up) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (lastWritten) {
            upReadTimer.arm(now(), timeouts().read().toNanos());
        }
        if (msg instanceof HttpResponse) {
            HttpResponse r = (HttpResponse) msg;
            if (r.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                attemptFailed(Failure.INVALID, r.decoderResult().cause());
                return;
            }
            int code = r.status().code();
            if (code / 100 == 1 && code != 101) {
                // Interim responses (103 Early Hints …) are not relayed; 100 was answered by the proxy.
                skipInterim = true;
                ReferenceCountUtil.release(msg);
                return;
            }
            responseBegun = true;
            status = code;
            // Upstream latency is the header time (nginx's $upstream_header_time): every attempt that got
            // a final head is booked once, next to its response() count, so the two always agree.
            upCounters.latency(now() - attemptStartNanos);
            if (tunnelRequested && (code == 101 || HttpMethod.CONNECT.equals(request.method()) && code / 100 == 2)) {
                upCounters.response(code);
                writeSwitchingHead(r);
                // Netty's client codec may or may not follow a 101 with an empty LastHttpContent;
                // whatever it still emits reaches relay(), which drops non-byte messages.
                startTunnel();
                return;
            }
            NextUpstream cond = NextUpstream.ofStatus(code);
            if (cond != null && retry.retriesOn(cond)) {
                statusCounts = code != 403 && code != 404;
                if (canRetry(cond)) {
                    Member next = group.pool().pick(pick, stickyMember);
                    if (next != null) {
                        ReferenceCountUtil.release(msg);
                        upCounters.response(code);
                        endAttempt(statusCounts ? Outcome.ERROR_STATUS : Outcome.SUCCESS, true);
                        upCounters.retries.increment();
                        startAttempt(next, false);
                        return;
                    }
                }
            }
            upCounters.response(code);
            if (code >= 300 && route.route().interceptErrors() && errorPage(code) != null) {
                intercept(r, code);
                if (interceptedCode == 0 || !(msg instanceof HttpContent)) {
                    ReferenceCountUtil.release(msg);
                    return;
                }
            } else {
                writeResponseHead(r);
            }
        }
        if (msg instanceof HttpContent) {
            HttpContent content = (HttpContent) msg;
            if (skipInterim) {
                content.release();
                if (content instanceof LastHttpContent) {
                    skipInterim = false;
                }
                return;
            }
            if (content.decoderResult().isFailure()) {
                content.release();
                attemptFailed(Failure.INVALID, content.decoderResult().cause());
                return;
            }
            if (interceptedCode != 0) {
                content.release();
                if (content instanceof LastHttpContent) {
                    interceptedBodyDropped();
                }
                return;
            }
            int n = content.content().readableBytes();
            bytesToClient += n;
            upCounters.bytesIn.add(n);
            route.counters.bytesOut.add(n);
            if (content instanceof LastHttpContent) {
                responseComplete((LastHttpContent) content);
            } else {
                ctx.write(content, ctx.voidPromise());
            }
        }
    }

    private void writeResponseHead(HttpResponse r) {
        HttpHeaders h = r.headers();
        boolean bodyless = encoder.headRequest || status == 204 || status == 304;
        boolean chunked = HttpUtil.isTransferEncodingChunked(r);
        boolean hasLength = h.contains(HttpHeaderNames.CONTENT_LENGTH);
        upstreamKeepAlive = HttpUtil.isKeepAlive(r) && (bodyless || chunked || hasLength);
        Headers.removeHopByHop(h);
        if (!requestComplete) {
            // The upstream answered before the whole body arrived: the rest will not be read.
            clientKeepAlive = false;
        }
        if (!bodyless && !hasLength) {
            if (http10Client) {
                clientKeepAlive = false;
            } else {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
        rewriteUpstreamFields(h);
        addStickyCookie(h);
        route.route().headers().applyToResponse(h);
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (closeAfterResponse) {
            // A graceful stop began while the request was served: the connection closes after this response.
            clientKeepAlive = false;
        }
        if (!clientKeepAlive) {
            // Decided now, not once the response is out: as nginx once a request's keepalive is off, nothing
            // after this request is processed, or a request pipelined behind it would be forwarded while this
            // response is still on its way to a slow client.
            closeAfterResponse = true;
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10Client) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        responseStarted = true;
        ctx.write(r, ctx.voidPromise());
    }

    /**
     * The sticky cookie of the member that answered, unless the client named it already ({@code indirect});
     * before the route's response header rules, which may still remove it. A response that gets it is
     * private to the client ({@code nocache}).
     */
    private void addStickyCookie(HttpHeaders h) {
        Affinity a = route.affinity;
        if (a != null && a.sticky() && member != stickyMember) {
            h.add(HttpHeaderNames.SET_COOKIE, a.setCookie(group.pool(), member));
            h.add(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.PRIVATE);
        }
    }

    /**
     * {@code proxy_redirect}, {@code proxy_cookie_path}, {@code proxy_cookie_domain} and
     * {@code proxy_cookie_flags}: the upstream's Location, Refresh and Set-Cookie as the route's rules
     * rewrite them, before the balancer adds its sticky cookie (never rewritten) and before the route's
     * response header rules (which may still set them), as nginx copies the upstream's headers before
     * {@code add_header}.
     */
    private void rewriteUpstreamFields(HttpHeaders h) {
        Redirects redirects = route.redirects;
        if (redirects != null) {
            redirects.apply(h, rewriteMatchers);
        }
        SetCookies cookies = route.cookies;
        if (cookies != null) {
            cookies.apply(h, rewriteMatchers);
        }
    }

    void onUpstreamReadComplete(UpstreamConnection c) {
        // A tunnel's upstream side is c == up with the response started: read on as a response.
        if (c != up) {
            return;
        }
        if (responseStarted) {
            ctx.flush();
            if (ctx.channel().isWritable()) {
                resume(c.channel);
            } else {
                pauseResponse(c.channel);
            }
        } else {
            resume(c.channel);
        }
    }

    void onUpstreamWritabilityChanged(UpstreamConnection c) {
        if (c != up) {
            return;
        }
        // proxy_send_timeout runs while the upstream takes nothing, in a tunnel too (as nginx).
        if (c.channel.isWritable()) {
            disarmUpSend();
            if (tunnel) {
                readClient();
            } else {
                readRequestBody();
            }
        } else {
            armUpSend();
            if (tunnel) {
                pause(ctx.channel());
            }
        }
    }

    void onUpstreamClosed(UpstreamConnection c, Throwable cause) {
        if (tunnel && c.channel == tunnelPeer) {
            closeTunnel();
            return;
        }
        if (c != up) {
            return;
        }
        attemptFailed(responseBegun ? Failure.INVALID : Failure.ERROR, cause);
    }

    /**
     * {@code proxy_intercept_errors}: the upstream's response with {@code code}, which has an error page, is
     * answered with the page. Its body is read and dropped, to reuse the connection, when it is short and
     * framed (at most the route's {@link Route#interceptDiscardLimit()} bytes by Content-Length, or none); otherwise the connection
     * is closed at once rather than read for an unknown time, and the page goes out now.
     */
    private void intercept(HttpResponse r, int code) {
        boolean bodyless = encoder.headRequest || code == 304;
        long length = HttpUtil.getContentLength(r, -1L);
        upstreamKeepAlive = HttpUtil.isKeepAlive(r) && lastWritten && requestComplete
                && (bodyless || length >= 0 && length <= route.route().interceptDiscardLimit() && !HttpUtil.isTransferEncodingChunked(r));
        if (upstreamKeepAlive) {
            interceptedCode = code;
        } else {
            endAttempt(statusCounts ? Outcome.ERROR_STATUS : Outcome.SUCCESS, true);
            route.counters.latency(now() - requestStartNanos);
            answerError(HttpResponseStatus.valueOf(code), false);
        }
    }

    /** The body of an intercepted response is read: the connection is reused, and the page sent. */
    private void interceptedBodyDropped() {
        int code = interceptedCode;
        endResponse(upstreamKeepAlive);
        route.counters.latency(now() - requestStartNanos);
        answerError(HttpResponseStatus.valueOf(code), false);
    }

    private void responseComplete(LastHttpContent last) {
        endResponse(upstreamKeepAlive && lastWritten && requestComplete);
        long nanos = now() - requestStartNanos;
        route.counters.latency(nanos);
        boolean keep = clientKeepAlive && !closeAfterResponse;
        // Counters first: once the last byte is out, the client may read the stats.
        finishRequest(status, false);
        if (!keep) {
            // An upstream that answered before the whole body came: the client may still be sending it.
            lingerOnClose = !requestComplete;
            ctx.writeAndFlush(last).addListener((ChannelFutureListener) this::closeOrLinger);
        } else {
            ctx.writeAndFlush(last, ctx.voidPromise());
            waitForRequest();
        }
    }

    /** Ends the attempt whose response is read whole: its connection reused when {@code reusable}, else closed. */
    private void endResponse(boolean reusable) {
        UpstreamConnection c = up;
        if (reusable && c.decoder.hasUnread()) {
            // Bytes after the response (a body on a 204 or a HEAD response, more than Content-Length):
            // kept, they would be read as the next exchange's response (RFC 9112 §6.3). As nginx ("upstream
            // sent more data than specified"), the connection is closed, not reused.
            logger.debug("upstream {} sent more data than its response", c.member.upstream().key());
            reusable = false;
        }
        endAttempt(statusCounts ? Outcome.ERROR_STATUS : Outcome.SUCCESS, false);
        if (reusable && group.proxyProtocol() != ProxyProtocol.NONE) {
            keepPrivateIdle(c);
        } else if (reusable) {
            connPool.release(c, group.keepAlive(), now());
        } else {
            c.channel.close();
        }
    }

    /** Ends the current attempt: timers off, the member's count down, the outcome reported. */
    private void endAttempt(Outcome outcome, boolean closeConnection) {
        interceptedCode = 0;
        upReadTimer.disarm();
        disarmUpSend();
        UpstreamConnection c = up;
        up = null;
        if (c != null) {
            c.user = null;
            if (closeConnection) {
                c.channel.close();
            }
        }
        if (pendingConnect != null) {
            pendingConnect.channel().close();
            pendingConnect = null;
        }
        Member m = member;
        if (m != null) {
            m.decrementActive();
            state.queues.slotFreed(m);
            upCounters.inFlight.decrement();
            if (outcome != null) {
                group.pool().report(m, outcome);
                if (outcome.isFailure()) {
                    upCounters.failures.increment();
                }
            }
            member = null;
        }
        upstreamNanos += now() - attemptStartNanos;
    }

    /** Drops the current attempt without blaming the upstream (the client failed or went away). */
    private void abortAttempt() {
        if (member != null) {
            endAttempt(null, true);
        }
    }

    private void attemptFailed(Failure failure, Throwable cause) {
        if (member == null || !requestActive) {
            return;
        }
        if (logger.isDebugEnabled()) {
            logger.debug("attempt on {} failed: {}", member.upstream().key(), failure, cause);
        }
        Member m = member;
        // A keep-alive connection the upstream closed before our request reached it: not the upstream's
        // fault and not a try, as long as sending it again is safe.
        if (failure == Failure.ERROR && reused && !freshRetried && !responseBegun && (idempotent || !headWriteDone)
                && (replayable || !bodyDropped)) {
            freshRetried = true;
            endAttempt(null, true);
            startAttempt(m, true);
            return;
        }
        Outcome outcome = switch (failure) {
            case CONNECT -> Outcome.CONNECT_FAILURE;
            case CONNECT_TIMEOUT, TIMEOUT -> Outcome.TIMEOUT;
            default -> Outcome.INVALID_RESPONSE;
        };
        endAttempt(outcome, true);
        if (responseStarted) {
            // Part of the response is out: the client must see a broken response, never a complete one.
            finishRequest(status, true);
            ctx.close();
            return;
        }
        NextUpstream cond = switch (failure) {
            case CONNECT_TIMEOUT, TIMEOUT -> NextUpstream.TIMEOUT;
            case INVALID -> NextUpstream.INVALID_RESPONSE;
            default -> NextUpstream.ERROR;
        };
        boolean unsent = failure == Failure.CONNECT || failure == Failure.CONNECT_TIMEOUT;
        if (canRetry(cond) || unsent && canRetryUnsent(cond)) {
            Member next = group.pool().pick(pick, stickyMember);
            if (next != null) {
                state.upstreamCounters(m, group).retries.increment();
                startAttempt(next, false);
                return;
            }
        }
        respondError(failure == Failure.TIMEOUT || failure == Failure.CONNECT_TIMEOUT
                ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY);
    }

    private boolean canRetryUnsent(NextUpstream cond) {
        // A connection never made (refused, or timed out) never carried the request: safe to retry even
        // a POST, as nginx does while its request_sent is 0.
        return retry.retriesOn(cond) && triesLeft() && (replayable || !bodyDropped);
    }

    private boolean triesLeft() {
        int max = retry.tries();
        if (max > 0 && tries >= max) {
            return false;
        }
        long limit = retry.timeout().toNanos();
        return limit == 0 || now() - firstAttemptNanos < limit;
    }

    private boolean canRetry(NextUpstream cond) {
        return retry.retriesOn(cond) && triesLeft() && !responseStarted && !closed
                && (idempotent || retry.retriesOn(NextUpstream.NON_IDEMPOTENT))
                && (replayable || !bodyDropped);
    }

    private void respondError(HttpResponseStatus s) {
        answerError(s, s.code() >= 500);
    }

    /**
     * Answers the request with the error {@code s} (its page if it has one) once nothing more is read from
     * an upstream for it; the connection is kept while the client's request is read whole and keep-alive.
     */
    private void answerError(HttpResponseStatus s, boolean failed) {
        status = sentCode(s);
        if (!requestComplete) {
            clientKeepAlive = false;
            lingerOnClose = true;
        }
        boolean keep = clientKeepAlive && !closeAfterResponse;
        finishRequest(status, failed);
        sendError(s, !keep);
        if (keep) {
            waitForRequest();
        }
    }

    /** The error page for {@code code}: the routed request's route's, else the balancer's; null: none. */
    private ErrorResponses.Page errorPage(int code) {
        return (routePages != null ? routePages : state.errorPages).get(code);
    }

    /** The status sent for the error {@code s}: its error page's, if it has one that changes it. */
    private int sentCode(HttpResponseStatus s) {
        ErrorResponses.Page p = errorPage(s.code());
        return p == null ? s.code() : p.status(s).code();
    }

    /**
     * Writes the error {@code s}: its error page if it has one (the shared bytes, not copied), else the
     * built-in body; a HEAD gets the head alone, with the body's length.
     */
    private ChannelFuture sendError(HttpResponseStatus s, boolean close) {
        boolean head = encoder != null && encoder.headRequest;
        ErrorResponses.Page page = errorPage(s.code());
        FullHttpResponse resp;
        if (page != null) {
            resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, page.status(s),
                    head ? Unpooled.EMPTY_BUFFER : page.body());
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, page.contentType);
            resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, page.length);
            if (page.retryAfter != null) {
                resp.headers().set(HttpHeaderNames.RETRY_AFTER, page.retryAfter);
            }
        } else {
            byte[] text = ("<html><head><title>" + s + "</title></head><body><center><h1>" + s
                    + "</h1></center><hr><center>lbkit</center></body></html>\n").getBytes(StandardCharsets.US_ASCII);
            resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, s,
                    head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(text));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html");
            resp.headers().set(HttpHeaderNames.CONTENT_LENGTH, text.length);
        }
        if (close) {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10Client) {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        responseStarted = true;
        ChannelFuture f = ctx.writeAndFlush(resp);
        if (close) {
            closeAfterResponse = true;
            // Until it closes, the client is read only while the rest of the request may come, to drop it: a
            // client which reads only once it has sent everything then gets to read the answer.
            if (lingerOnClose) {
                resume(ctx.channel());
            } else {
                pause(ctx.channel());
            }
            f.addListener((ChannelFutureListener) this::closeOrLinger);
        }
        return f;
    }

    /**
     * Once a response after which the connection closes is written: lingers, the way nginx's lingering
     * close does ({@link LingeringClose}), while the client may still be sending ({@link #inputPending()}),
     * else closes at once. Decided in a task, once the read in progress is decoded: a body that came whole
     * with a refused head then counts as read. Lingers with the timeouts of the request's route, or the
     * balancer's before a route is found (nginx's location and server levels).
     */
    private void closeOrLinger(ChannelFuture f) {
        ctx.executor().execute(() -> {
            if (stream) {
                // RFC 9113 §8.1: the rest of a request already answered is declined without error (a stream
                // closed before its client finished would be reset with CANCEL).
                if (inputPending()) {
                    f.channel().writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
                }
                f.channel().close();
            } else if (inputPending()) {
                ProxyTimeouts t = timeouts();
                new LingeringClose(t.lingeringTime().toNanos(), t.lingeringTimeout().toNanos()).operationComplete(f);
            } else {
                f.channel().close();
            }
        });
    }

    /** Books the end of the request: counters, access log, state reset. */
    private void finishRequest(int code, boolean failed) {
        if (!requestActive) {
            return;
        }
        requestActive = false;
        continueAfterDelay = false;
        if (limitDelay != null) {
            limitDelay.cancel(false);
            limitDelay = null;
        }
        if (heldLimits != null) {
            RouteLimits.release(heldLimits);
        }
        leaveQueue();
        if (!stream || ctx.channel().isWritable()) {
            // A stream ends once its response is out: send_timeout keeps watching a client that takes none.
            disarmClientSend();
        }
        if (route != null) {
            TrafficCounters rc = route.counters;
            rc.inFlight.decrement();
            if (code >= 100 && code < 600) {
                rc.response(code);
            }
            if (failed) {
                rc.failures.increment();
            }
        }
        if (state.accessLog && accessLogger.isInfoEnabled()) {
            logAccess(code);
        }
        releaseBody();
        trailers = null;
        if (requestDecoder != null) {
            // Everything that reads the head is done with it: the upstream's encoder wrote it with the
            // request's end, the response is complete, the access log line is written.
            requestDecoder.recycle(request);
        }
        request = null;
        realAddress = null; // the next request on this connection is read anew
        realPort = 0;
        if (!closed && !clientKeepAlive && !ctx.channel().isActive()) {
            closed = true;
        }
    }

    private void logAccess(int code) {
        InetAddress client = clientIp();
        String ip = client != null ? addressText(client) : "-";
        accessLogger.info("{} - - [{}] \"{}\" {} {} \"{}\" \"{}\" upstream={} upstream_time={} tries={}", ip,
                LOG_TIME.format(ZonedDateTime.now()), logEscape(logRequestLine), code,
                bytesToClient, logEscape(logReferer), logEscape(logUserAgent),
                upstreamLog == null ? "-" : upstreamLog,
                String.format(Locale.ROOT, "%.3f", upstreamNanos / 1e9), tries);
    }

    /**
     * A client-sent value as nginx logs it ({@code escape=default}): {@code "}, {@code \}, control
     * characters and bytes above 0x7E as {@code \xHH}, so that a value cannot end its quoted field or
     * forge a log line; {@code -} when absent.
     */
    private static String logEscape(String v) {
        if (v == null) {
            return "-";
        }
        StringBuilder sb = null;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            boolean escape = c < ' ' || c > '~' || c == '"' || c == '\\';
            if (escape && sb == null) {
                sb = new StringBuilder(v.length() + 16).append(v, 0, i);
            }
            if (escape) {
                // Header values and targets hold one byte per char (Latin-1).
                sb.append("\\x").append(Paths.HEX[c >> 4 & 0xf]).append(Paths.HEX[c & 0xf]);
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? v : sb.toString();
    }

    // ---------------------------------------------------------------- tunnels (Upgrade, CONNECT)

    private void writeSwitchingHead(HttpResponse r) {
        HttpHeaders h = r.headers();
        String upgrade = h.get(HttpHeaderNames.UPGRADE);
        Headers.removeHopByHop(h);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        if (upgrade != null) {
            h.set(HttpHeaderNames.UPGRADE, upgrade);
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        }
        rewriteUpstreamFields(h);
        addStickyCookie(h);
        route.route().headers().applyToResponse(h);
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        responseStarted = true;
        ctx.write(r, ctx.voidPromise());
    }

    /** After the 101 (or the 2xx to CONNECT): both sides drop HTTP and bytes flow unchanged. */
    private void startTunnel() {
        UpstreamConnection c = up;
        tunnel = true;
        tunnelPeer = c.channel;
        disarmUpSend();
        upReadTimer.arm(now(), timeouts().read().toNanos());
        group.pool().report(member, Outcome.SUCCESS);
        ctx.write(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
        ctx.flush();
        finishRequest(status, false);
        disarmClient();
        // The member stays busy while the tunnel is open; closeTunnel() gives it back.
        ctx.pipeline().remove(encoder);
        c.channel.pipeline().remove(Codecs.RequestEncoder.class);
        c.channel.pipeline().remove(c.decoder);
        // Bytes the decoder held beyond the request head reach channelRead as ByteBufs when it goes.
        ctx.pipeline().remove("decoder");
        Object m;
        while ((m = inbound.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
        readClient();
        resume(c.channel);
    }

    private void relay(Object msg, Channel to) {
        if (msg instanceof ByteBuf && to != null && to.isActive()) {
            to.write(msg, to.voidPromise());
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void closeTunnel() {
        if (!tunnel) {
            return;
        }
        tunnel = false;
        upReadTimer.disarm();
        disarmUpSend();
        Channel peer = tunnelPeer;
        tunnelPeer = null;
        up = null;
        if (member != null) {
            member.decrementActive();
            state.queues.slotFreed(member);
            upCounters.inFlight.decrement();
            member = null;
        }
        // As nginx ends an upgraded connection: each side gets what is still on its way to it, for at most
        // its send timeout (a side that takes nothing would otherwise hold its connection open for good).
        closeAfterFlush(peer, timeouts().send());
        closeAfterFlush(ctx.channel(), timeouts().clientSend());
    }

    /** Closes {@code ch} once what was written to it is sent, or after {@code timeout} if it is not. */
    private static void closeAfterFlush(Channel ch, Duration timeout) {
        ChannelFuture f = ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        if (!f.isDone()) {
            ScheduledFuture<?> t = ch.eventLoop().schedule((Runnable) ch::close, timeout.toNanos(),
                    TimeUnit.NANOSECONDS);
            f.addListener(done -> t.cancel(false));
        }
    }

    // ---------------------------------------------------------------- shutdown

    /**
     * Whether a request is being served, or the body of one answered without forwarding is still being
     * read and dropped (nginx's request discarding its body is not idle either). Any thread.
     */
    boolean busy() {
        return requestActive || discarding;
    }

    /** Closes now if idle, otherwise after the current response. Any thread. */
    void stopGracefully() {
        if (ctx == null) {
            return;
        }
        ctx.executor().execute(() -> {
            closeAfterResponse = true;
            if (!requestActive && !discarding) {
                ctx.close();
            }
        });
    }

    /**
     * Answers 503 and closes if a request waits in a queue (a stop's deadline passed). Any thread.
     *
     * @return done once the answer is written, or null before the connection is set up
     */
    Future<?> rejectIfQueued() {
        if (ctx == null) {
            return null;
        }
        return ctx.executor().submit(() -> {
            if (waiter != null) {
                leaveQueue();
                closeAfterResponse = true;
                respondError(HttpResponseStatus.SERVICE_UNAVAILABLE);
            }
        });
    }
}
