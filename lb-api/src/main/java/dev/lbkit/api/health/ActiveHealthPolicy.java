package dev.lbkit.api.health;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.health.internal.MemberStates;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.internal.DaemonExecutors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checks: every {@code interval} each upstream of the pool is probed through a
 * {@link HealthProbe}; {@code fall} failed checks in a row take it out of service
 * ({@link Member#checkDown}), {@code rise} passed checks in a row bring it back. These are HAProxy's
 * {@code check inter 2s rise 2 fall 3} (its defaults, and ours); keepalived's {@code delay_loop} is the
 * interval and its {@code retry} roughly {@code fall} with {@code rise 1}.
 *
 * <p>The verdict follows HAProxy's health counter exactly: it runs from 0 to {@code rise + fall - 1}
 * and the upstream is up while it is at least {@code rise}. A passed check raises it by one, and to the
 * top once it reaches {@code rise}; a failed check lowers it by one while it is above {@code rise}, and
 * otherwise drops it to 0 (down). An upstream whose first check has not completed yet counts as up, with
 * the counter at {@code rise}: as in HAProxy ("up, but will fall down at first failure"), a new upstream
 * whose very first check fails goes down at once, while one that passed a check needs {@code fall}
 * failures.
 *
 * <p>Rounds run on a {@link ScheduledExecutorService}, the application's or one the policy owns (one
 * daemon thread, shut down by {@link #close}). The first round starts one interval after the policy is
 * attached to its pool; each later one an interval (± a random jitter, if set) after the previous one
 * started its probes. A probe still running when the next round comes is not started twice. A probe
 * that has not answered within {@code timeout} counts as failed. {@link #checkNow()} runs a round at
 * once, for tests and for operators. Verdict changes reach the pool's listeners with source
 * {@code "active"}, so DNS, L4 and L7 tiers sharing the pool share the verdict; {@link #status} gives the
 * last result per upstream for monitoring.
 *
 * <p>Not implemented: HAProxy's {@code fastinter}/{@code downinter} and agent checks.
 *
 * <p>Thread-safe. Immutable configuration; one instance per pool.
 */
public final class ActiveHealthPolicy implements HealthPolicy {
    /** HAProxy's default {@code inter}. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    /** The default check timeout (HAProxy uses {@code inter} when {@code timeout check} is unset; we keep it shorter). */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
    /** HAProxy's default {@code rise}. */
    public static final int DEFAULT_RISE = 2;
    /** HAProxy's default {@code fall}. */
    public static final int DEFAULT_FALL = 3;

    private static final Logger logger = LoggerFactory.getLogger(ActiveHealthPolicy.class);
    private static final int MAX_THRESHOLD = 1000;
    private static final Duration MAX_DURATION = Duration.ofDays(1);

    private final HealthProbe probe;
    private final Duration interval;
    private final Duration timeout;
    private final Duration jitter;
    private final int rise;
    private final int fall;
    private final ScheduledExecutorService executor;
    /** The application's executor, or null when this policy owns {@link #executor}. */
    private final ScheduledExecutorService suppliedExecutor;
    private final MemberStates<CheckState> states;
    private final Object lock = new Object();
    private volatile PoolSnapshot snapshot;
    private volatile boolean closed;
    /** Guarded by lock. */
    private boolean started;
    /** Guarded by lock. */
    private ScheduledFuture<?> next;

    private ActiveHealthPolicy(Builder b) {
        this.probe = b.probe;
        this.interval = b.interval;
        this.timeout = b.timeout;
        this.jitter = b.jitter;
        this.rise = b.rise;
        this.fall = b.fall;
        this.suppliedExecutor = b.executor;
        this.executor = DaemonExecutors.supplyOrNew(b.executor, "health");
        this.states = new MemberStates<>(m -> new CheckState(rise));
    }

    /** A builder checking with {@code probe}. */
    public static Builder builder(HealthProbe probe) {
        return new Builder(probe);
    }

    public HealthProbe probe() {
        return probe;
    }

    public Duration interval() {
        return interval;
    }

    public Duration timeout() {
        return timeout;
    }

    public Duration jitter() {
        return jitter;
    }

    public int rise() {
        return rise;
    }

    public int fall() {
        return fall;
    }

    /** The check status of the pool's upstream with {@code upstream}'s key; empty before its first completed check. */
    public Optional<CheckStatus> status(Upstream upstream) {
        Objects.requireNonNull(upstream, "upstream");
        PoolSnapshot s = snapshot;
        if (s == null) {
            return Optional.empty();
        }
        for (Member m : s.members()) {
            if (m.upstream().key().equals(upstream.key())) {
                return status(m);
            }
        }
        return Optional.empty();
    }

    /** The check status of {@code member}; empty before its first completed check. */
    public Optional<CheckStatus> status(Member member) {
        CheckState cs = states.get(Objects.requireNonNull(member, "member"));
        return cs == null ? Optional.empty() : Optional.ofNullable(cs.status);
    }

    @Override
    public void onMembershipChange(PoolSnapshot snapshot) {
        this.snapshot = snapshot;
        states.retain(snapshot);
        synchronized (lock) {
            if (!started && !closed) {
                started = true;
                scheduleNextLocked();
            }
        }
    }

    /**
     * Runs one round of checks now: starts a probe for every upstream of the pool that has none in
     * flight. Does not move the periodic schedule.
     *
     * @return completes when every probe this round started has been recorded (never exceptionally)
     */
    public CompletionStage<Void> checkNow() {
        PoolSnapshot s = snapshot;
        if (s == null || closed) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<Void>> checks = new ArrayList<>(s.size());
        for (Member m : s.members()) {
            CheckState cs = states.getOrCreate(m);
            if (cs != null && cs.inFlight.compareAndSet(false, true)) {
                checks.add(check(m, cs));
            }
        }
        return CompletableFuture.allOf(checks.toArray(new CompletableFuture<?>[0]));
    }

    private CompletableFuture<Void> check(Member m, CheckState cs) {
        CompletableFuture<ProbeResult> done = new CompletableFuture<>();
        ScheduledFuture<?> guard;
        try {
            guard = executor.schedule(() -> done.complete(ProbeResult.unhealthy(timeout, "no answer within " + timeout)),
                    timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // Closed while starting the round.
            cs.inFlight.set(false);
            return CompletableFuture.completedFuture(null);
        }
        CompletionStage<ProbeResult> stage;
        try {
            stage = Objects.requireNonNull(probe.probe(m.upstream(), timeout), "probe returned null");
        } catch (RuntimeException e) {
            stage = CompletableFuture.completedFuture(ProbeResult.unhealthy(Duration.ZERO, TcpConnectProbe.describe(e)));
        }
        stage.whenComplete((r, e) -> done.complete(
                e != null || r == null ? ProbeResult.unhealthy(Duration.ZERO, e == null ? "no result" : TcpConnectProbe.describe(e)) : r));
        return done.handle((r, e) -> {
            guard.cancel(false);
            try {
                record(m, cs, r);
            } catch (RuntimeException ex) {
                logger.warn("recording the check of {} failed", m.upstream().key(), ex);
            } finally {
                cs.inFlight.set(false);
            }
            return null;
        });
    }

    private void record(Member m, CheckState cs, ProbeResult r) {
        if (closed || m.isRemoved()) {
            return;
        }
        long now = m.pool().ticker().nanoTime();
        boolean wasUp;
        boolean up;
        synchronized (cs) {
            wasUp = cs.up;
            int top = rise + fall - 1;
            if (r.healthy()) {
                if (cs.health < top) {
                    cs.health++;
                    if (cs.health >= rise) {
                        cs.health = top;
                        cs.up = true;
                    }
                }
            } else if (cs.health > rise) {
                cs.health--;
            } else {
                cs.health = 0;
                cs.up = false;
            }
            up = cs.up;
            cs.checks++;
            cs.status = new CheckStatus(up, r, now, cs.health, cs.checks);
        }
        if (up != wasUp) {
            m.checkDown(!up, up ? "check passed " + rise + " times: " + r.detail() : "check failed: " + r.detail());
        }
    }

    private void scheduleNextLocked() {
        if (closed) {
            return;
        }
        long delay = interval.toNanos();
        long j = jitter.toNanos();
        if (j > 0) {
            delay += ThreadLocalRandom.current().nextLong(-j, j + 1);
        }
        try {
            next = executor.schedule(this::runScheduledRound, delay, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            logger.warn("active health checks stopped: executor {} rejected the next round", executor);
        }
    }

    private void runScheduledRound() {
        try {
            checkNow();
        } catch (RuntimeException e) {
            logger.warn("active health check round failed", e);
        } finally {
            synchronized (lock) {
                scheduleNextLocked();
            }
        }
    }

    /**
     * Stops checking, lifts the check verdicts this policy set (nothing would ever lift them
     * otherwise) and shuts the owned executor down. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (next != null) {
                next.cancel(false);
            }
        }
        PoolSnapshot s = snapshot;
        if (s != null) {
            for (Member m : s.members()) {
                if (m.isCheckDown()) {
                    m.checkDown(false, "active checks stopped");
                }
            }
        }
        DaemonExecutors.shutdownIfOwned(executor, suppliedExecutor);
    }

    @Override
    public String toString() {
        return "ActiveHealthPolicy{probe=" + probe + ", interval=" + interval + ", timeout=" + timeout + ", rise="
                + rise + ", fall=" + fall + "}";
    }

    private static final class CheckState {
        final AtomicBoolean inFlight = new AtomicBoolean();
        /** Guarded by this. */
        int health;
        /** Guarded by this. */
        boolean up = true;
        /** Guarded by this. */
        long checks;
        volatile CheckStatus status;

        CheckState(int rise) {
            this.health = rise;
        }
    }

    /**
     * Builds an {@link ActiveHealthPolicy}. Not thread-safe. Defaults: {@code interval} 2 s,
     * {@code timeout} 1 s, {@code rise} 2, {@code fall} 3 (HAProxy's), {@code jitter} 0, an owned
     * one-thread daemon executor.
     */
    public static final class Builder {
        private final HealthProbe probe;
        private Duration interval = DEFAULT_INTERVAL;
        private Duration timeout = DEFAULT_TIMEOUT;
        private Duration jitter = Duration.ZERO;
        private int rise = DEFAULT_RISE;
        private int fall = DEFAULT_FALL;
        private ScheduledExecutorService executor;

        private Builder(HealthProbe probe) {
            this.probe = Objects.requireNonNull(probe, "probe");
        }

        /** Time between rounds (HAProxy {@code inter}, keepalived {@code delay_loop}); &gt; 0, at most a day. Default 2 s. */
        public Builder interval(Duration interval) {
            this.interval = Checks.positive(interval, MAX_DURATION, "interval");
            return this;
        }

        /** How long one probe may take before it counts as failed; &gt; 0, at most a day. Default 1 s. */
        public Builder timeout(Duration timeout) {
            this.timeout = Checks.positive(timeout, MAX_DURATION, "timeout");
            return this;
        }

        /** Each round starts up to this much earlier or later than {@code interval}, at random; below the interval. Default 0. */
        public Builder jitter(Duration jitter) {
            this.jitter = Checks.positiveOrZero(jitter, "jitter");
            return this;
        }

        /** Passed checks in a row that bring an upstream back, 1..1000. Default 2. */
        public Builder rise(int rise) {
            this.rise = Checks.inRange(rise, 1, MAX_THRESHOLD, "rise");
            return this;
        }

        /** Failed checks in a row that take an upstream out, 1..1000. Default 3. */
        public Builder fall(int fall) {
            this.fall = Checks.inRange(fall, 1, MAX_THRESHOLD, "fall");
            return this;
        }

        /**
         * The executor rounds and timeouts run on; the application keeps ownership (the policy does not
         * shut it down). Default: one daemon thread owned by the policy.
         */
        public Builder executor(ScheduledExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** @throws IllegalArgumentException if {@code jitter} is not below {@code interval} */
        public ActiveHealthPolicy build() {
            if (jitter.compareTo(interval) >= 0) {
                throw new IllegalArgumentException("jitter (" + jitter + ") must be < interval (" + interval + ")");
            }
            return new ActiveHealthPolicy(this);
        }
    }
}
