package dev.lbkit.l4.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.Native;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;

/**
 * Zero-copy forwarding of one connection pair with splice(2), socket to pipe to socket, driven on the
 * pair's event loop (HAProxy's splicing, done with Netty's public native helpers).
 *
 * <p>Why not Netty's {@code spliceTo}: after a splice pass it shuts the input down as soon as the
 * peer's FIN has been seen, even when the pass stopped because the pipe was full (the reader was slow):
 * what was still in the socket is lost. Here the end of a stream is only declared when a FIN (or
 * error) event came, a splice into the empty pipe moved nothing, and a one-byte read says end of file
 * (Netty's splice reports "nothing now" and "end of file" alike, as 0).
 *
 * <p>The two Netty channels are deregistered from their loop first (nothing of theirs reads or writes
 * any more); each socket is then registered here, edge-triggered, for reads, writes and the peer's FIN,
 * and never modified: every event marks what may have changed and both directions run until the
 * kernel says "not now". Per direction: first {@code prefix} (bytes Netty read before the hand-over),
 * then the pipe's bytes into the destination, then (pipe empty) a splice from the source into the pipe.
 * At most one splice of bytes (lb-l4's buffer size, at most a pipe's 64 KiB) waits per direction: while
 * it is not empty the source is not read, so a slow reader pushes back on the writer through TCP. A FIN
 * is passed on (shutdown of output) only once the pipe and prefix are empty. A socket error or reset
 * ends the pair as the copying path does. When no pipe can be made (the process is out of descriptors,
 * or the user's pipe memory is used up), a read copies into a buffer instead, so such a connection is
 * slower, not broken.
 *
 * <p>Everything runs on the event loop; not thread-safe.
 */
final class SplicePump {
    /** Splices from sockets per direction before other connections of the loop get their turn. */
    private static final int BUDGET = 16;
    private static final int IN = Native.EPOLLIN;
    private static final int OUT = Native.EPOLLOUT;
    private static final int ERR = Native.EPOLLERR;
    private static final EpollIoOps INTEREST =
            EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLOUT).with(EpollIoOps.EPOLLRDHUP).with(EpollIoOps.EPOLLET);

    private final TcpConnection conn;
    private final Pipes pipes;
    private final ByteBufAllocator alloc;
    /** The most bytes one splice moves into a pipe (or one read copies): at most a pipe's capacity. */
    private final int chunk;
    private final End client;
    private final End server;
    private final Direction up;
    private final Direction down;
    private final Runnable resume = this::resume;
    private boolean resumeQueued;
    private boolean stopped;
    /** Nothing is taken from the client ({@code expire_nodest_conn = 0}): it waits in the kernel. */
    private boolean clientHeld;

    /**
     * @param chunk      the most bytes one splice into a pipe moves (at most 64 KiB, a pipe's capacity)
     * @param upPrefix   client bytes Netty read and that must reach the real server first, or {@code null}
     * @param downPrefix real-server bytes for the client, or {@code null}
     * @param clientEof  whether Netty saw the client's FIN already (then {@code upPrefix} is all there is)
     * @param serverEof  likewise for the real server
     */
    SplicePump(TcpConnection conn, Pipes pipes, ByteBufAllocator alloc, int chunk, UnixChannel clientChannel,
            UnixChannel serverChannel, ByteBuf upPrefix, ByteBuf downPrefix, boolean clientEof, boolean serverEof) {
        this.conn = conn;
        this.pipes = pipes;
        this.alloc = alloc;
        this.chunk = chunk;
        this.client = new End((Socket) clientChannel.fd());
        this.server = new End((Socket) serverChannel.fd());
        this.up = new Direction(client, server, true, upPrefix, clientEof);
        this.down = new Direction(server, client, false, downPrefix, serverEof);
    }

    /** Registers both sockets with {@code loop} (the channels' own, which they have left) and starts. */
    void start(IoEventLoop loop) {
        try {
            client.register(loop);
            server.register(loop);
        } catch (IOException | RuntimeException e) {
            conn.spliceFailed(e);
            return;
        }
        pump();
    }

    /** Leaves the loop and gives back the pipes; bytes still held are dropped with the connection. Idempotent. */
    void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        client.deregister();
        server.deregister();
        up.drop();
        down.drop();
    }

    private void pump() {
        if (stopped) {
            return;
        }
        try {
            boolean upWaits = up.pump();
            boolean downWaits = !stopped && down.pump();
            if (!stopped && (!upWaits || !downWaits) && !resumeQueued) {
                // Edge-triggered: nothing will wake this pair again for bytes already there.
                resumeQueued = true;
                client.loop.execute(resume);
            }
        } catch (IOException | RuntimeException e) {
            conn.spliceFailed(e);
        }
    }

    /** Stops or resumes taking what the client sends; what was taken in already still goes on. */
    void holdClient(boolean hold) {
        clientHeld = hold;
        if (!hold) {
            // Edge-triggered: bytes that came while held raise no new event.
            pump();
        }
    }

    private void resume() {
        resumeQueued = false;
        pump();
    }

    /** One socket of the pair, registered with the loop in place of its Netty channel. */
    private final class End implements EpollIoHandle {
        final Socket socket;
        IoEventLoop loop;
        IoRegistration registration;
        boolean readable = true;
        boolean writable = true;
        /** The peer may have sent its FIN (or an error came): a splice of nothing may mean end of file. */
        boolean hangup;

        End(Socket socket) {
            this.socket = socket;
        }

        void register(IoEventLoop loop) throws IOException {
            this.loop = loop;
            Future<IoRegistration> f = loop.register(this);
            if (!f.isSuccess()) {
                throw new IOException("cannot register " + socket.intValue() + " for splicing", f.cause());
            }
            registration = f.getNow();
            registration.submit(INTEREST);
        }

        void deregister() {
            if (registration != null) {
                registration.cancel();
                registration = null;
            }
        }

        @Override
        public FileDescriptor fd() {
            return socket;
        }

        @Override
        public void handle(IoRegistration r, IoEvent event) {
            int ops = ((EpollIoEvent) event).ops().value();
            if ((ops & ERR) != 0) {
                int err;
                try {
                    err = socket.getSoError();
                } catch (IOException e) {
                    conn.spliceFailed(e);
                    return;
                }
                if (err != 0) {
                    conn.spliceFailed(new SocketException("socket error " + err + " on " + socket.intValue()));
                    return;
                }
            }
            boolean other = (ops & ~(IN | OUT)) != 0;
            if ((ops & IN) != 0 || other) {
                readable = true;
            }
            if ((ops & OUT) != 0 || other) {
                writable = true;
            }
            if (other) {
                hangup = true;
            }
            pump();
        }

        @Override
        public void close() {
            // The loop is shutting down with this socket registered.
            conn.spliceFailed(new IOException("event loop closed"));
        }
    }

    /** One direction: source socket, pipe, destination socket. */
    private final class Direction {
        final End src;
        final End dst;
        final boolean fromClient;
        ByteBuf prefix;
        FileDescriptor[] pipe;
        int pending;
        boolean eof;
        boolean done;

        Direction(End src, End dst, boolean fromClient, ByteBuf prefix, boolean eof) {
            this.src = src;
            this.dst = dst;
            this.fromClient = fromClient;
            this.prefix = prefix != null && prefix.isReadable() ? prefix : release(prefix);
            this.eof = eof;
        }

        /**
         * Moves what can be moved now. Returns {@code true} when it waits for the kernel (an event will
         * come), {@code false} when its budget ran out with work left.
         */
        boolean pump() throws IOException {
            int budget = BUDGET;
            while (!done && !stopped) {
                if (prefix != null) {
                    if (!dst.writable) {
                        return true;
                    }
                    ByteBuffer nio = prefix.internalNioBuffer(prefix.readerIndex(), prefix.readableBytes());
                    int n = dst.socket.write(nio, nio.position(), nio.limit());
                    if (n == 0) {
                        dst.writable = false;
                        return true;
                    }
                    prefix.skipBytes(n);
                    conn.spliceActivity();
                    if (!prefix.isReadable()) {
                        prefix = release(prefix);
                    }
                    continue;
                }
                if (pending > 0) {
                    if (!dst.writable) {
                        return true;
                    }
                    int n = Native.splice(pipe[0].intValue(), -1, dst.socket.intValue(), -1, pending);
                    if (n == 0) {
                        dst.writable = false;
                        return true;
                    }
                    pending -= n;
                    conn.spliceActivity();
                    if (pending > 0) {
                        continue;
                    }
                    releasePipe();
                }
                if (eof) {
                    finish();
                    return true;
                }
                if (!src.readable || fromClient && clientHeld) {
                    return true;
                }
                if (budget-- == 0) {
                    return false;
                }
                if (pipe == null) {
                    pipe = pipes.acquire();
                    if (pipe == null) {
                        // No pipe can be made now (descriptor or pipe-memory limits): this read copies.
                        if (!copyIn()) {
                            return true;
                        }
                        continue;
                    }
                }
                int n = Native.splice(src.socket.intValue(), -1, pipe[1].intValue(), -1, chunk);
                if (n > 0) {
                    pending = n;
                    conn.spliceRead(fromClient, n);
                    continue;
                }
                // Nothing came into an empty pipe: the socket has nothing now, or its stream has ended
                // (Netty reports both as 0). Only after a FIN or error event is it worth a read to tell.
                if (!src.hangup) {
                    src.readable = false;
                    releasePipe();
                    return true;
                }
                ByteBuffer probe = pipes.probe;
                int r = src.socket.read(probe, 0, 1);
                if (r == 0) {
                    src.readable = false;
                    releasePipe();
                    return true;
                }
                if (r < 0) {
                    releasePipe();
                    eof = true;
                    conn.spliceEof(fromClient);
                    continue;
                }
                // A byte came after all: it goes first into the (empty) pipe, in order.
                if (pipe[1].write(probe, 0, 1) != 1) {
                    throw new IOException("cannot write one byte into an empty pipe");
                }
                pending = 1;
                conn.spliceRead(fromClient, 1);
            }
            return true;
        }

        /**
         * Reads from the source into a buffer that becomes the prefix. Returns {@code false} when the
         * socket has nothing now; a read tells the end of the stream by itself.
         */
        private boolean copyIn() throws IOException {
            ByteBuf b = alloc.directBuffer(chunk);
            int n;
            try {
                ByteBuffer nio = b.internalNioBuffer(0, chunk);
                n = src.socket.read(nio, nio.position(), nio.limit());
            } catch (IOException | RuntimeException e) {
                b.release();
                throw e;
            }
            if (n > 0) {
                prefix = b.writerIndex(n);
                conn.spliceRead(fromClient, n);
                return true;
            }
            b.release();
            if (n == 0) {
                src.readable = false;
                return false;
            }
            eof = true;
            conn.spliceEof(fromClient);
            return true;
        }

        /** The source ended and everything reached the destination: pass the FIN on, or end the pair. */
        private void finish() throws IOException {
            done = true;
            Direction other = this == up ? down : up;
            if (other.done) {
                conn.spliceDone();
            } else {
                dst.socket.shutdown(false, true);
            }
        }

        private void releasePipe() {
            if (pipe != null) {
                pipes.release(pipe);
                pipe = null;
            }
        }

        void drop() {
            prefix = release(prefix);
            if (pipe != null) {
                if (pending == 0) {
                    pipes.release(pipe);
                } else {
                    Pipes.discard(pipe);
                }
                pipe = null;
                pending = 0;
            }
        }
    }

    private static ByteBuf release(ByteBuf b) {
        if (b != null) {
            b.release();
        }
        return null;
    }
}
