package dev.lbkit.l4.internal;

import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel pipes one event loop splices through, as HAProxy's pipe pool: a connection holds a pipe
 * only while bytes wait in it, so idle connections hold none and a busy loop reuses a few without a
 * system call. Used on its event loop only, except {@link #close} once the loop has terminated.
 */
final class Pipes {
    private static final Logger logger = LoggerFactory.getLogger(Pipes.class);
    /** Empty pipes kept for reuse (two descriptors each); more are closed when released. */
    static final int MAX_FREE = 16;

    private final FileDescriptor[][] free = new FileDescriptor[MAX_FREE][];
    private int size;
    private boolean closed;
    /** One byte, to tell the end of a stream from a socket with nothing to read (see SplicePump). */
    final ByteBuffer probe = ByteBuffer.allocateDirect(1);

    /** When set, no new pipe can be made, as when the process is out of descriptors (for tests). */
    static volatile boolean unavailable;

    /**
     * An empty pipe ({@code [0]} the read end, {@code [1]} the write end), or {@code null} when none
     * can be made now: the caller copies instead.
     */
    FileDescriptor[] acquire() {
        if (size > 0) {
            FileDescriptor[] p = free[--size];
            free[size] = null;
            return p;
        }
        if (unavailable) {
            return null;
        }
        try {
            return FileDescriptor.pipe();
        } catch (IOException e) {
            logger.debug("no pipe to splice through, copying: {}", e.toString());
            return null;
        }
    }

    /** Takes back a pipe that is empty; one with bytes in it must go to {@link #discard}. */
    void release(FileDescriptor[] pipe) {
        if (closed || size == MAX_FREE) {
            discard(pipe);
        } else {
            free[size++] = pipe;
        }
    }

    /** Closes a pipe that is not empty (its bytes are lost with the connection) or not wanted. */
    static void discard(FileDescriptor[] pipe) {
        for (FileDescriptor fd : pipe) {
            try {
                fd.close();
            } catch (IOException e) {
                logger.debug("cannot close pipe {}", fd.intValue(), e);
            }
        }
    }

    /** Empty pipes held now. */
    int free() {
        return size;
    }

    /** Closes the pooled pipes; later releases close theirs. */
    void close() {
        closed = true;
        while (size > 0) {
            discard(free[--size]);
            free[size] = null;
        }
    }
}
