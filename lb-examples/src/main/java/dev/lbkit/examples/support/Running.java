package dev.lbkit.examples.support;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a started command holds: the servers it runs (closed in reverse order of start by {@link #close()}),
 * the addresses they are bound to (by name, so tests that bind port 0 learn the real ports), and the
 * objects a test may want to inspect.
 *
 * <p>Thread-safe. {@link #close()} is idempotent and may be called from a shutdown hook while another
 * thread waits in {@link #awaitClose()}.
 */
public final class Running implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Running.class);

    private final String command;
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final Map<String, InetSocketAddress> addresses = new LinkedHashMap<>();
    private final Map<String, Object> parts = new LinkedHashMap<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean serving = true;
    private volatile int exitCode;

    public Running(String command) {
        this.command = Objects.requireNonNull(command, "command");
    }

    public String command() {
        return command;
    }

    /** Takes ownership of {@code resource}: it is closed with this handle. Returns it. */
    public synchronized <T extends AutoCloseable> T own(T resource) {
        resources.push(Objects.requireNonNull(resource, "resource"));
        return resource;
    }

    /** Records that the part called {@code name} listens on {@code address}. */
    public synchronized void address(String name, InetSocketAddress address) {
        addresses.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(address, "address"));
    }

    /**
     * The address the part called {@code name} is bound to.
     *
     * @throws NoSuchElementException naming the part if there is none by that name
     */
    public synchronized InetSocketAddress address(String name) {
        InetSocketAddress a = addresses.get(name);
        if (a == null) {
            throw new NoSuchElementException(command + " has no address named '" + name + "'; it has " + addresses.keySet());
        }
        return a;
    }

    /** Every bound address by part name, in start order. */
    public synchronized Map<String, InetSocketAddress> addresses() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(addresses));
    }

    /** Exposes {@code part} under {@code name} (a backend, a balancer) for tests and the tour. */
    public synchronized void part(String name, Object part) {
        parts.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(part, "part"));
    }

    /**
     * The part called {@code name}.
     *
     * @throws NoSuchElementException if there is none by that name and type
     */
    public synchronized <T> T part(String name, Class<T> type) {
        Object p = parts.get(name);
        if (!type.isInstance(p)) {
            throw new NoSuchElementException(command + " has no " + type.getSimpleName() + " named '" + name + "'");
        }
        return type.cast(p);
    }

    /** Whether the command keeps serving until closed (false for a command that ran to completion). */
    public boolean serving() {
        return serving;
    }

    /** Marks the command as done (it does not serve): {@code Main} closes it and exits with {@code exitCode}. */
    public void finished(int exitCode) {
        this.exitCode = exitCode;
        this.serving = false;
    }

    /** The process exit status the command asks for; 0 unless {@link #finished(int)} said otherwise. */
    public int exitCode() {
        return exitCode;
    }

    /** Waits until {@link #close()} has completed. */
    public void awaitClose() throws InterruptedException {
        closed.await();
    }

    /** Waits at most {@code timeout} until {@link #close()} has completed. */
    public boolean awaitClose(long timeout, TimeUnit unit) throws InterruptedException {
        return closed.await(timeout, unit);
    }

    /** Stops every owned server, last started first. Errors are logged, not thrown. */
    @Override
    public void close() {
        Deque<AutoCloseable> toClose;
        synchronized (this) {
            if (closed.getCount() == 0) {
                return;
            }
            toClose = new ArrayDeque<>(resources);
            resources.clear();
        }
        try {
            for (AutoCloseable r : toClose) {
                try {
                    r.close();
                } catch (Exception e) {
                    log.warn("{}: error while stopping {}: {}", command, r, e.toString());
                }
            }
        } finally {
            closed.countDown();
        }
    }
}
