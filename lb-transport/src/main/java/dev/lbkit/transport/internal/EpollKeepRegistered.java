package dev.lbkit.transport.internal;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Netty's epoll I/O handlers, with a socket never left out of epoll while its channel is registered.
 *
 * <p>Why: Netty 4.2.18 removes a socket from epoll when the channel's interest set becomes empty (a
 * half-closed socket with nothing pending to write: its peer's FIN was read, and EPOLLOUT is off), but
 * asks for the next interest with {@code EPOLL_CTL_MOD}, which then fails with ENOENT. The write that
 * needed EPOLLOUT fails, Netty shuts the output down, and the peer sees a clean end of stream with bytes
 * missing (a proxied download after the client's half-close; found by a forwarding test under CPU
 * contention, 5 % of runs). An empty interest set is submitted here as edge-triggered nothing
 * ({@code EPOLLET}) instead: the socket stays registered, a hang-up or an error is reported at most once,
 * and the next interest is a modify that succeeds. Thread-safety: as the wrapped handler's.
 */
final class EpollKeepRegistered implements IoHandlerFactory {
    private static final EpollIoOps NOTHING = EpollIoOps.EPOLLET;

    private final IoHandlerFactory epoll = EpollIoHandler.newFactory();

    @Override
    public IoHandler newHandler(ThreadAwareExecutor executor) {
        return new Handler(epoll.newHandler(executor));
    }

    @Override
    public boolean isChangingThreadSupported() {
        return epoll.isChangingThreadSupported();
    }

    private static final class Handler implements IoHandler {
        private final IoHandler delegate;

        Handler(IoHandler delegate) {
            this.delegate = delegate;
        }

        @Override
        public void initialize() {
            delegate.initialize();
        }

        @Override
        public int run(IoHandlerContext context) {
            return delegate.run(context);
        }

        @Override
        public void prepareToDestroy() {
            delegate.prepareToDestroy();
        }

        @Override
        public void destroy() {
            delegate.destroy();
        }

        @Override
        public IoRegistration register(IoHandle handle) throws Exception {
            return new Registration(delegate.register(handle));
        }

        @Override
        public void wakeup() {
            delegate.wakeup();
        }

        @Override
        public boolean isCompatible(Class<? extends IoHandle> handleType) {
            return delegate.isCompatible(handleType);
        }
    }

    private static final class Registration implements IoRegistration {
        private final IoRegistration delegate;

        Registration(IoRegistration delegate) {
            this.delegate = delegate;
        }

        @Override
        public <T> T attachment() {
            return delegate.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            return delegate.submit(ops instanceof EpollIoOps && ((EpollIoOps) ops).value() == 0 ? NOTHING : ops);
        }

        @Override
        public boolean isValid() {
            return delegate.isValid();
        }

        @Override
        public boolean cancel() {
            return delegate.cancel();
        }
    }
}
