package dev.lbkit.l7.internal;

import dev.lbkit.api.Upstream;
import dev.lbkit.transport.internal.ProxyHeaders;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * An HTTP/1.1 health probe whose connection starts with a PROXY header naming no client (v2 LOCAL, v1
 * {@code PROXY UNKNOWN}), as HAProxy's checks with {@code send-proxy}: the JDK's HTTP client cannot put
 * bytes before a request. It runs on one event loop of its own, made on first use (a daemon thread:
 * probes are few and short) and shared by every such probe. Thread-safe.
 */
public final class ProxiedProbe {
    private ProxiedProbe() {}

    private static final class Loop {
        static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("lb-l7-probe", true), NioIoHandler.newFactory());
        static final OffLoopResolverGroup RESOLVERS = new OffLoopResolverGroup();
    }

    /**
     * Sends {@code method path} to {@code upstream} (over TLS with {@code ssl} if not null, host name
     * verified) after the header; completes with the response's status, or exceptionally (a
     * {@link TimeoutException} when {@code timeout} passes first). The connection is closed then.
     */
    public static CompletableFuture<Integer> status(HAProxyProtocolVersion version, SSLContext ssl,
            Upstream upstream, String method, String path, Duration timeout) {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        String host = upstream.host().indexOf(':') >= 0 ? "[" + upstream.host() + "]" : upstream.host();
        int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
        Bootstrap b = new Bootstrap().group(Loop.GROUP).channel(NioSocketChannel.class).resolver(Loop.RESOLVERS)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, millis)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(ProxyHeaders.sender(version, null, null));
                        if (ssl != null) {
                            SSLEngine engine = ssl.createSSLEngine(upstream.host(), upstream.port());
                            engine.setUseClientMode(true);
                            SSLParameters p = engine.getSSLParameters();
                            p.setEndpointIdentificationAlgorithm("HTTPS");
                            engine.setSSLParameters(p);
                            ch.pipeline().addLast(new SslHandler(engine));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(),
                                new Exchange(result, method, path, host + ":" + upstream.port()));
                    }
                });
        Channel ch = b.connect(upstream.address()).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
            }
        }).channel();
        var timer = ch.eventLoop().schedule(() -> {
            result.completeExceptionally(new TimeoutException("timeout"));
        }, millis, TimeUnit.MILLISECONDS);
        result.whenComplete((s, e) -> {
            timer.cancel(false);
            ch.close();
        });
        return result;
    }

    /** Completes with the status of the response head; any failure before it ends the probe. */
    private static final class Exchange extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<Integer> result;
        private final String method;
        private final String path;
        private final String host;

        Exchange(CompletableFuture<Integer> result, String method, String path, String host) {
            this.result = result;
            this.method = method;
            this.path = path;
            this.host = host;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), path,
                    Unpooled.EMPTY_BUFFER);
            req.headers().set(HttpHeaderNames.HOST, host).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            // After the PROXY header; a TLS handler holds it until its handshake is done.
            ctx.writeAndFlush(req);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpResponse) {
                    HttpResponse r = (HttpResponse) msg;
                    if (r.decoderResult().isFailure()) {
                        result.completeExceptionally(r.decoderResult().cause());
                    } else {
                        result.complete(r.status().code());
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IOException("connection closed before a response"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }
    }
}
