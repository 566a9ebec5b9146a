package dev.lbkit.api.resolve;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.internal.DaemonExecutors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mechanism every resolver that follows a membership store shares (ZooKeeper, etcd, xDS): entries
 * kept by the store's id, changes coalesced into one result per burst, the last known membership kept
 * and reported {@linkplain ResolutionResult#isStale() stale} while the store is unreachable, and bad
 * entries skipped, logged once and counted. Subclasses only translate their store's reads and events
 * into {@link #resync}, {@link #put}, {@link #remove}, {@link #reject} and {@link #stale}.
 *
 * <p>Semantics: nothing is told before the first complete read ({@link #resync}), which also completes
 * {@link #whenReady()}; after it, a change is told {@code coalesceDelay} after the first event of a
 * burst, with every event of the burst applied; a full resynchronisation and a loss of the store are
 * told at once. Results list upstreams in the order of their ids, so that every balancer following the
 * same store sees the same order; when two ids name the same {@code host:port}, the first id wins.
 *
 * <p>Thread-safe: subclasses may call the protected methods from any thread (their client's callback
 * threads). Each resolver owns one daemon thread, on which {@link #start()} runs and listeners are told,
 * in order, never concurrently.
 */
public abstract class CoalescingResolver implements Resolver {
    private static final Logger logger = LoggerFactory.getLogger(CoalescingResolver.class);

    /** The default coalescing delay: short against the 100 ms a change may take to reach a pool. */
    public static final Duration DEFAULT_COALESCE_DELAY = Duration.ofMillis(20);

    private final String name;
    private final long coalesceNanos;
    private final ScheduledExecutorService executor;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}. Sorted by id, the order results list upstreams in. */
    private final TreeMap<String, Upstream> entries = new TreeMap<>();
    /** Guarded by {@link #lock}: the bad text last logged per id, so each bad entry is logged once. */
    private final Map<String, String> rejected = new HashMap<>();
    /**
     * Guarded by {@link #lock}: the ids rejected since the last complete read or loss of the store. A
     * complete read forgets every other rejection: its id was deleted, maybe while the store was away.
     */
    private final Set<String> rejectedSinceRead = new HashSet<>();
    private final AtomicLong rejectedCount = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    /** Touched only on the resolver's thread. */
    private final List<ResolverListener> listeners = new ArrayList<>();
    /** Touched only on the resolver's thread: the last result told. */
    private ResolutionResult last;
    /** Guarded by {@link #lock}. */
    private boolean started;
    private boolean publishScheduled;
    private boolean isReady;
    private Throwable staleCause;
    private Throwable failure;
    private volatile boolean closed;

    /**
     * @param name for logs and the thread's name
     * @param coalesceDelay how long a burst of changes is collected before it is told; zero tells every
     *     change on its own
     */
    protected CoalescingResolver(String name, Duration coalesceDelay) {
        this.name = Checks.notBlank(name, "name");
        this.coalesceNanos = Checks.positiveOrZero(coalesceDelay, "coalesceDelay").toNanos();
        this.executor = DaemonExecutors.newScheduler("resolver-" + name);
    }

    /**
     * Starts reading the store: a complete read ending in {@link #resync}, then watching. Called once, on
     * the resolver's thread, when the first listener subscribes. May throw; the failure is told to
     * listeners (or makes the membership stale once ready) and the subclass is expected to retry.
     */
    protected abstract void start() throws Exception;

    /** Stops watching and releases what {@link #start()} opened. Called once by {@link #close()}. */
    protected abstract void stop();

    /** The resolver's name, as given to the constructor. */
    public final String name() {
        return name;
    }

    /** Completes after the first complete read of the store; never completes exceptionally. */
    public final CompletableFuture<Void> whenReady() {
        return ready.thenApply(v -> v);
    }

    /** Whether the membership is the last known one, kept while the store is unreachable. */
    public final boolean isStale() {
        synchronized (lock) {
            return staleCause != null;
        }
    }

    /** How many bad entries were skipped (each distinct bad value of an id counts once). */
    public final long rejectedEntries() {
        return rejectedCount.get();
    }

    /** How many results were told to listeners so far (a measure of coalescing). */
    public final long publishedResults() {
        return published.get();
    }

    /**
     * The membership as it stands, including changes still waiting for the coalescing delay; empty before
     * the first complete read.
     */
    public final Optional<ResolutionResult> current() {
        synchronized (lock) {
            if (!isReady) {
                return Optional.empty();
            }
            return Optional.of(buildLocked());
        }
    }

    @Override
    public final AutoCloseable subscribe(ResolverListener listener) {
        Objects.requireNonNull(listener, "listener");
        if (closed) {
            throw new IllegalStateException("resolver " + name + " is closed");
        }
        boolean first;
        synchronized (lock) {
            first = !started;
            started = true;
        }
        // Adding on the resolver's thread orders the first result before any later change.
        execute(() -> {
            listeners.add(listener);
            if (last != null) {
                tell(listener, last);
            }
        });
        if (first) {
            execute(this::runStart);
        }
        return () -> execute(() -> listeners.remove(listener));
    }

    @Override
    public final void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            stop();
        } catch (RuntimeException e) {
            logger.warn("resolver {}: stop failed", name, e);
        } finally {
            executor.shutdownNow();
        }
    }

    /**
     * Replaces the whole membership with a complete read of the store: marks the resolver ready, clears
     * staleness and tells the result at once. Bad entries of the read must have been {@link #reject}ed
     * (again) before it. The read forgets every bad entry not rejected since the previous read (or since
     * the store was lost, if it was lost later): such an entry was deleted, maybe while the store was
     * away, and one written again is logged and counted anew.
     */
    protected final void resync(Map<String, Upstream> all) {
        Objects.requireNonNull(all, "all");
        synchronized (lock) {
            entries.clear();
            entries.putAll(all);
            rejected.keySet().retainAll(rejectedSinceRead);
            rejected.keySet().removeAll(all.keySet());
            rejectedSinceRead.clear();
            staleCause = null;
            failure = null;
            isReady = true;
            scheduleLocked(0);
        }
        ready.complete(null);
    }

    /** Adds or edits the entry {@code id}; told after the coalescing delay. */
    protected final void put(String id, Upstream upstream) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(upstream, "upstream");
        synchronized (lock) {
            forgetRejectionLocked(id);
            Upstream old = entries.put(id, upstream);
            if (old == null || !old.sameAs(upstream)) {
                scheduleLocked(coalesceNanos);
            }
        }
    }

    /** Removes the entry {@code id}; told after the coalescing delay. */
    protected final void remove(String id) {
        Objects.requireNonNull(id, "id");
        synchronized (lock) {
            forgetRejectionLocked(id);
            if (entries.remove(id) != null) {
                scheduleLocked(coalesceNanos);
            }
        }
    }

    /**
     * Skips a bad entry: the id stops standing for an upstream, the problem is logged the first time
     * this id holds this text, and counted then. The watch goes on. The entry is remembered until the id
     * is {@link #put}, {@link #remove}d or rejected with another text, or a {@link #resync} forgets it.
     */
    protected final void reject(String id, String text, String reason) {
        Objects.requireNonNull(id, "id");
        String t = String.valueOf(text);
        boolean fresh;
        synchronized (lock) {
            fresh = !t.equals(rejected.put(id, t));
            rejectedSinceRead.add(id);
            if (entries.remove(id) != null) {
                scheduleLocked(coalesceNanos);
            }
        }
        if (fresh) {
            rejectedCount.incrementAndGet();
            logger.warn("resolver {}: skipping bad entry {}: {}", name, id, reason);
        }
    }

    /**
     * The store cannot be reached: keeps the last known membership and tells it at once as stale (or,
     * before the first complete read, tells the failure). Repeated calls tell nothing new. The next
     * {@link #resync} keeps only the bad entries rejected after this call.
     */
    protected final void stale(Throwable cause) {
        Objects.requireNonNull(cause, "cause");
        synchronized (lock) {
            // Changes made while the store is away are missed: the next read must reject its bad entries anew.
            rejectedSinceRead.clear();
            if (isReady) {
                if (staleCause != null) {
                    return;
                }
                staleCause = cause;
                logger.warn("resolver {}: store unreachable, keeping the last {} entries: {}", name,
                        entries.size(), cause.toString());
            } else {
                failure = cause;
            }
            scheduleLocked(0);
        }
    }

    private void forgetRejectionLocked(String id) {
        rejected.remove(id);
        rejectedSinceRead.remove(id);
    }

    private void scheduleLocked(long delayNanos) {
        if (closed) {
            return;
        }
        if (delayNanos == 0) {
            execute(this::publish);
        } else if (!publishScheduled) {
            publishScheduled = true;
            try {
                executor.schedule(this::publish, delayNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                publishScheduled = false;
            }
        }
    }

    private void publish() {
        ResolutionResult r;
        synchronized (lock) {
            publishScheduled = false;
            if (isReady) {
                r = buildLocked();
            } else if (failure != null) {
                r = ResolutionResult.failed(failure);
            } else {
                return;
            }
        }
        if (last != null && last.sameAs(r)) {
            return;
        }
        last = r;
        published.incrementAndGet();
        for (ResolverListener l : List.copyOf(listeners)) {
            tell(l, r);
        }
    }

    private ResolutionResult buildLocked() {
        List<Upstream> list = new ArrayList<>(entries.size());
        Set<String> keys = new HashSet<>();
        for (Upstream u : entries.values()) {
            if (keys.add(u.key())) {
                list.add(u);
            }
        }
        return staleCause != null ? ResolutionResult.stale(list, staleCause) : ResolutionResult.of(list);
    }

    private void tell(ResolverListener l, ResolutionResult r) {
        try {
            l.onResult(r);
        } catch (RuntimeException e) {
            logger.warn("resolver {}: listener {} failed", name, l, e);
        }
    }

    private void runStart() {
        try {
            start();
        } catch (Exception e) {
            logger.warn("resolver {}: start failed: {}", name, e.toString());
            stale(e);
        }
    }

    private void execute(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            // Closed: nothing more is told.
        }
    }

    /** The resolver's own thread, for subclasses' retries and periodic checks. */
    protected final ScheduledExecutorService executor() {
        return executor;
    }

    /** Whether {@link #close()} was called. */
    protected final boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + "]";
    }
}
