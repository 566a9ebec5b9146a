package dev.lbkit.l7.internal;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Resolves upstream host names with the JDK's resolver on one thread of its own, so that a slow lookup
 * never blocks an event loop (Netty's default resolver would run {@code InetAddress.getByName} on the
 * loop that connects). Upstreams given as address literals never get here. Thread-safe.
 */
public final class OffLoopResolverGroup extends AddressResolverGroup<InetSocketAddress> {
    private final DefaultEventExecutor lookups =
            new DefaultEventExecutor(new DefaultThreadFactory("lb-l7-resolver", true));

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor executor) {
        return new Resolver(lookups).asAddressResolver();
    }

    /** Closes the resolvers and stops the lookup thread. */
    public void shutdown() {
        close();
        lookups.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static final class Resolver extends InetNameResolver {
        Resolver(EventExecutor lookups) {
            super(lookups);
        }

        @Override
        protected void doResolve(String host, Promise<InetAddress> promise) {
            executor().execute(() -> {
                try {
                    promise.trySuccess(InetAddress.getByName(host));
                } catch (UnknownHostException e) {
                    promise.tryFailure(e);
                }
            });
        }

        @Override
        protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
            executor().execute(() -> {
                try {
                    promise.trySuccess(Arrays.asList(InetAddress.getAllByName(host)));
                } catch (UnknownHostException e) {
                    promise.tryFailure(e);
                }
            });
        }
    }
}
