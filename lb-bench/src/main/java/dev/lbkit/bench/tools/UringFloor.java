package dev.lbkit.bench.tools;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.unix.Socket;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The least a TCP forwarder on io_uring does per connection, below Netty's channels: a measuring stick
 * for lb-l4's new-connection cost, as {@link NettyFloor} is the least a forwarder on Netty's channels
 * does. One event loop of Netty's {@link IoUringIoHandler}; each connection is one {@link IoUringIoHandle}
 * that submits its own operations: a multishot {@code accept}, {@code socket} and {@code connect} to the
 * real server, one {@code recv} then {@code send} at a time each way (so a slow reader stops the other
 * side: bounded memory), {@code shutdown(SHUT_WR)} to pass each FIN on, and {@code close} once both
 * directions ended. No channel objects, pipelines or promises, and no {@code getsockname},
 * {@code getpeername} or {@code setsockopt} calls per connection (Netty's channels make about eight).
 *
 * <p>A benchmark tool, not a proxy: no timeouts, no scheduler, no counters; an error on either side
 * resets nothing, it shuts both sockets down and closes them. Usage: {@code UringFloor LISTEN REAL}
 * (IPv4 {@code HOST:PORT} addresses). Needs Linux with io_uring (kernel 5.19 or later for
 * {@code IORING_OP_SOCKET}). Measured against lb-l4, the Netty floor and nginx in the README's lb-l4
 * section.
 */
public final class UringFloor {
    private static final byte OP_ACCEPT = 13;
    private static final byte OP_CONNECT = 16;
    private static final byte OP_CLOSE = 19;
    private static final byte OP_SEND = 26;
    private static final byte OP_RECV = 27;
    private static final byte OP_SHUTDOWN = 34;
    private static final byte OP_SOCKET = 45;
    private static final short ACCEPT_MULTISHOT = 1;
    private static final int CQE_F_MORE = 1 << 1;
    private static final int AF_INET = 2;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SHUT_WR = 1;
    private static final int SHUT_RDWR = 2;
    private static final int BUFFER = 16 * 1024;

    // The data of each operation: which one, on which side.
    private static final short RECV_CLIENT = 1;
    private static final short SEND_REAL = 2;
    private static final short RECV_REAL = 3;
    private static final short SEND_CLIENT = 4;
    private static final short SOCKET = 5;
    private static final short CONNECT = 6;
    private static final short SHUT_REAL = 7;
    private static final short SHUT_CLIENT = 8;
    private static final short CLOSE = 9;
    private static final short ABORT = 10;

    private UringFloor() {}

    private static final String USAGE = "usage: UringFloor LISTEN REAL   (IPv4 HOST:PORT addresses)";

    /**
     * Runs the forwarder until the process is stopped.
     *
     * @param args {@code LISTEN REAL}, each an IPv4 {@code HOST:PORT}
     * @throws InterruptedException if interrupted while serving
     */
    public static void main(String[] args) throws InterruptedException {
        LbkitContender.serve("UringFloor", USAGE, args, UringFloor::start);
    }

    /** Starts the forwarder args describe, adding what must be closed to parts. */
    static LbkitContender.Started start(String[] args, List<AutoCloseable> parts) {
        if (args.length != 2) {
            throw new IllegalArgumentException("takes 2 arguments, got " + args.length);
        }
        InetSocketAddress listen = ipv4(args[0]);
        InetSocketAddress real = ipv4(args[1]);
        if (!IoUring.isAvailable()) {
            throw new IllegalStateException("io_uring is not available", IoUring.unavailabilityCause());
        }
        // The real server's sockaddr_in, shared by every connect (the kernel copies it at submission).
        ByteBuffer sockaddr = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
        sockaddr.putShort(0, (short) AF_INET);
        sockaddr.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) real.getPort());
        sockaddr.put(4, real.getAddress().getAddress());
        long sockaddrAddress = PlatformDependent.directBufferAddress(sockaddr);

        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, IoUringIoHandler.newFactory());
        parts.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
        IoEventLoop loop = group.next();
        Socket listener = Socket.newSocketStream();
        parts.add(listener::close);
        InetSocketAddress bound;
        try {
            listener.setReuseAddress(true);
            listener.setTcpNoDelay(true); // inherited by every accepted socket
            listener.bind(listen);
            listener.listen(4096);
            bound = listener.localAddress();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + listen, e);
        }
        Acceptor acceptor = new Acceptor(loop, listener.intValue(), sockaddrAddress, sockaddr);
        loop.register(acceptor).syncUninterruptibly().getNow().submit(acceptor.accept());
        InetSocketAddress address = new InetSocketAddress(listen.getAddress(), bound.getPort());
        return new LbkitContender.Started("UringFloor listening on " + address + ", forwarding to " + real, address);
    }

    private static InetSocketAddress ipv4(String hostPort) {
        InetSocketAddress a = LbkitContender.address(hostPort);
        if (!(a.getAddress() instanceof Inet4Address)) {
            throw new IllegalArgumentException("not an IPv4 address: '" + hostPort + "'");
        }
        return a;
    }

    private static IoUringIoOps op(byte opcode, int fd, long union1, long union2, int len, int union3, short data) {
        return new IoUringIoOps(opcode, (byte) 0, (short) 0, fd, union1, union2, len, union3, (long) data, (short) 0,
                (short) 0, 0, 0L);
    }

    /** The listener: a multishot accept, re-armed if the kernel ends it. */
    private static final class Acceptor implements IoUringIoHandle {
        private final IoEventLoop loop;
        private final int fd;
        private final long sockaddr;
        /** Holds the memory at {@link #sockaddr}. */
        @SuppressWarnings("unused")
        private final ByteBuffer sockaddrBuffer;

        Acceptor(IoEventLoop loop, int fd, long sockaddr, ByteBuffer sockaddrBuffer) {
            this.loop = loop;
            this.fd = fd;
            this.sockaddr = sockaddr;
            this.sockaddrBuffer = sockaddrBuffer;
        }

        IoUringIoOps accept() {
            return new IoUringIoOps(OP_ACCEPT, (byte) 0, ACCEPT_MULTISHOT, fd, 0L, 0L, 0, SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0L, (short) 0, (short) 0, 0, 0L);
        }

        @Override
        public void handle(IoRegistration registration, IoEvent ioEvent) {
            IoUringIoEvent e = (IoUringIoEvent) ioEvent;
            if (e.res() >= 0) {
                Conn c = new Conn(e.res(), sockaddr);
                c.registration = loop.register(c).getNow();
                c.start();
            }
            if ((e.flags() & CQE_F_MORE) == 0 && e.res() >= 0) {
                // The kernel ended the multishot accept (it may, e.g. on overflow): arm it again. An error
                // ends it for good (the listener was closed).
                registration.submit(accept());
            }
        }

        @Override
        public void close() {}
    }

    /** One client and its real server: two sockets, one buffer each way, one operation at a time each way. */
    private static final class Conn implements IoUringIoHandle {
        private final int client;
        private final long sockaddr;
        private final ByteBuf up = PooledByteBufAllocator.DEFAULT.directBuffer(BUFFER, BUFFER);
        private final ByteBuf down = PooledByteBufAllocator.DEFAULT.directBuffer(BUFFER, BUFFER);
        IoRegistration registration;
        private int real = -1;
        private boolean connected;
        private int pendingUp;      // bytes in 'up' received before the connect completed
        private int upEnd;          // bytes in 'up' being sent, and how many were
        private int sentUp;
        private int downEnd;
        private int sentDown;
        private boolean clientEof;
        private boolean realEof;
        private boolean realShut;
        private boolean clientShut;
        private boolean aborted;
        private int outstanding;
        private int closes;

        Conn(int client, long sockaddr) {
            this.client = client;
            this.sockaddr = sockaddr;
        }

        void start() {
            submit(op(OP_RECV, client, 0, up.memoryAddress(), BUFFER, 0, RECV_CLIENT));
            submit(op(OP_SOCKET, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 0, 0, SOCKET));
        }

        private void submit(IoUringIoOps ops) {
            outstanding++;
            registration.submit(ops);
        }

        @Override
        public void handle(IoRegistration r, IoEvent ioEvent) {
            IoUringIoEvent e = (IoUringIoEvent) ioEvent;
            outstanding--;
            int res = e.res();
            if (aborted) {
                if ((short) e.userData() == SOCKET && res >= 0) {
                    real = res; // created after the abort began: closed with the client
                }
                finishAbort();
                return;
            }
            switch ((short) e.userData()) {
                case RECV_CLIENT -> {
                    if (res < 0) {
                        abort();
                    } else if (res == 0) {
                        clientEof = true;
                        if (connected) {
                            shutReal();
                        }
                    } else if (connected) {
                        sentUp = 0;
                        sendUp(res);
                    } else {
                        pendingUp = res;
                    }
                }
                case SOCKET -> {
                    if (res < 0) {
                        abort();
                        return;
                    }
                    real = res;
                    submit(op(OP_CONNECT, real, 16, sockaddr, 0, 0, CONNECT));
                }
                case CONNECT -> {
                    if (res < 0) {
                        abort();
                        return;
                    }
                    connected = true;
                    submit(op(OP_RECV, real, 0, down.memoryAddress(), BUFFER, 0, RECV_REAL));
                    if (pendingUp > 0) {
                        sentUp = 0;
                        sendUp(pendingUp);
                        pendingUp = 0;
                    } else if (clientEof) {
                        shutReal();
                    }
                }
                case SEND_REAL -> {
                    if (res < 0) {
                        abort();
                        return;
                    }
                    sentUp += res;
                    onSentUp();
                }
                case RECV_REAL -> {
                    if (res < 0) {
                        abort();
                    } else if (res == 0) {
                        realEof = true;
                        shutClient();
                    } else {
                        sentDown = 0;
                        downEnd = res;
                        submit(op(OP_SEND, client, 0, down.memoryAddress(), res, 0, SEND_CLIENT));
                    }
                }
                case SEND_CLIENT -> {
                    if (res < 0) {
                        abort();
                        return;
                    }
                    sentDown += res;
                    if (sentDown < downEnd) {
                        submit(op(OP_SEND, client, 0, down.memoryAddress() + sentDown, downEnd - sentDown, 0,
                                SEND_CLIENT));
                    } else {
                        submit(op(OP_RECV, real, 0, down.memoryAddress(), BUFFER, 0, RECV_REAL));
                    }
                }
                case SHUT_REAL, SHUT_CLIENT -> maybeClose();
                case CLOSE -> {
                    if (++closes == 2) {
                        release();
                    }
                }
                default -> throw new IllegalStateException("unknown operation " + e.userData());
            }
        }

        private void sendUp(int length) {
            upEnd = length;
            submit(op(OP_SEND, real, 0, up.memoryAddress(), length, 0, SEND_REAL));
        }

        private void onSentUp() {
            if (sentUp < upEnd) {
                submit(op(OP_SEND, real, 0, up.memoryAddress() + sentUp, upEnd - sentUp, 0, SEND_REAL));
            } else {
                submit(op(OP_RECV, client, 0, up.memoryAddress(), BUFFER, 0, RECV_CLIENT));
            }
        }

        private void shutReal() {
            realShut = true;
            submit(op(OP_SHUTDOWN, real, 0, 0, SHUT_WR, 0, SHUT_REAL));
        }

        private void shutClient() {
            clientShut = true;
            submit(op(OP_SHUTDOWN, client, 0, 0, SHUT_WR, 0, SHUT_CLIENT));
        }

        private void maybeClose() {
            if (clientEof && realEof && realShut && clientShut && outstanding == 0) {
                submit(op(OP_CLOSE, client, 0, 0, 0, 0, CLOSE));
                submit(op(OP_CLOSE, real, 0, 0, 0, 0, CLOSE));
            }
        }

        /** Shuts both sockets down, which ends any receive in flight; closes once none is left. */
        private void abort() {
            aborted = true;
            submit(op(OP_SHUTDOWN, client, 0, 0, SHUT_RDWR, 0, ABORT));
            if (real >= 0) {
                submit(op(OP_SHUTDOWN, real, 0, 0, SHUT_RDWR, 0, ABORT));
            }
        }

        private void finishAbort() {
            if (outstanding == 0 && closes == 0) {
                closes = real >= 0 ? 0 : 1;
                submit(op(OP_CLOSE, client, 0, 0, 0, 0, CLOSE));
                if (real >= 0) {
                    submit(op(OP_CLOSE, real, 0, 0, 0, 0, CLOSE));
                }
                aborted = false;
            }
        }

        private void release() {
            up.release();
            down.release();
            registration.cancel();
        }

        @Override
        public void close() {}
    }
}
