package dev.lbkit.api.health;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.health.internal.MemberStates;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.internal.DaemonExecutors;
import dev.lbkit.api.internal.NanoTimes;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Slow start (nginx's {@code slow_start}, HAProxy's {@code slowstart}, Envoy's slow start mode): an
 * upstream that comes back ramps its {@linkplain Member#effectiveWeight() effective weight} up from 1 to
 * its configured weight, linearly over {@code window}, so that a cold server is not handed its full
 * share at once.
 *
 * <p>An upstream "comes back" when it turns healthy again: not marked down by an operator or by active
 * checks, and not ejected by a passive policy or outlier detection. Upstreams that join the pool after
 * the policy was attached ramp up too; those present when it is attached do not. A ramp that is
 * interrupted (the upstream goes down again) starts over at the next comeback. Weighted schedulers see
 * the ramp because {@link Member#effectiveWeight(int)} rebuilds the pool's pickers, which is why weights
 * are recomputed every {@code updateInterval} (default 1 s) rather than per pick; a comeback is noticed
 * at the next update.
 *
 * <p>Compose it with the policies that decide health ({@link HealthPolicies#compose}); it never refuses
 * an upstream itself. Time is the pool's {@link dev.lbkit.api.Ticker}, so {@link #updateWeights()} with a
 * fake ticker tests a ramp without waiting. A {@code window} of 0 (the default) turns slow start off.
 *
 * <p>Thread-safe. Immutable configuration; one instance per pool.
 */
public final class SlowStartPolicy implements HealthPolicy {
    /** Slow start is off by default (as in nginx and HAProxy). */
    public static final Duration DEFAULT_WINDOW = Duration.ZERO;
    /** How often weights are recomputed during ramps. */
    public static final Duration DEFAULT_UPDATE_INTERVAL = Duration.ofSeconds(1);

    private static final Logger logger = LoggerFactory.getLogger(SlowStartPolicy.class);
    private static final long NOT_RAMPING = Long.MIN_VALUE;
    private static final Duration MAX_DURATION = Duration.ofDays(1);

    private final Duration window;
    private final long windowNanos;
    private final Duration updateInterval;
    private final ScheduledExecutorService suppliedExecutor;
    private final MemberStates<RampState> states = new MemberStates<>(m -> new RampState());
    private final Object lock = new Object();
    /** Guarded by lock. */
    private PoolSnapshot snapshot;
    /** Guarded by lock. */
    private boolean attached;
    /** Guarded by lock. */
    private boolean closed;
    /** Guarded by lock. */
    private ScheduledExecutorService executor;
    /** Guarded by lock. */
    private ScheduledFuture<?> task;

    private SlowStartPolicy(Builder b) {
        this.window = b.window;
        this.windowNanos = b.window.toNanos();
        this.updateInterval = b.updateInterval;
        this.suppliedExecutor = b.executor;
    }

    /** A slow start over {@code window}, with the other defaults. */
    public static SlowStartPolicy of(Duration window) {
        return builder().window(window).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Duration window() {
        return window;
    }

    public Duration updateInterval() {
        return updateInterval;
    }

    /** Whether {@code member} is ramping up now. */
    public boolean isRamping(Member member) {
        RampState st = states.get(Objects.requireNonNull(member, "member"));
        return st != null && st.rampStart != NOT_RAMPING;
    }

    @Override
    public void onMembershipChange(PoolSnapshot snapshot) {
        if (windowNanos == 0) {
            return;
        }
        synchronized (lock) {
            if (closed) {
                return;
            }
            boolean first = !attached;
            attached = true;
            this.snapshot = snapshot;
            states.retain(snapshot);
            long now = snapshot.size() == 0 ? 0 : snapshot.members().get(0).pool().ticker().nanoTime();
            for (Member m : snapshot.members()) {
                if (states.get(m) == null) {
                    RampState st = states.getOrCreate(m);
                    if (st == null) {
                        continue;
                    }
                    st.healthy = healthy(m, now);
                    if (!first && st.healthy) {
                        st.rampStart = NanoTimes.stamp(now);
                    }
                }
            }
            if (first) {
                executor = DaemonExecutors.supplyOrNew(suppliedExecutor, "slow-start");
                try {
                    long period = updateInterval.toNanos();
                    task = executor.scheduleWithFixedDelay(this::update, period, period, TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException e) {
                    logger.warn("slow start disabled: executor {} rejected its task", executor);
                }
            }
        }
        // Pool edits reset effective weights: put ramping ones back at once.
        updateWeights();
    }

    /**
     * Notices comebacks and sets every ramping upstream's effective weight for the pool's current time.
     * Runs every {@code updateInterval} on the executor; public so that tests (with a fake ticker) and
     * operators can run it at will.
     */
    public void updateWeights() {
        synchronized (lock) {
            PoolSnapshot s = snapshot;
            if (closed || s == null || s.size() == 0) {
                return;
            }
            long now = s.members().get(0).pool().ticker().nanoTime();
            for (Member m : s.members()) {
                RampState st = states.getOrCreate(m);
                if (st == null) {
                    continue;
                }
                boolean healthy = healthy(m, now);
                if (!healthy) {
                    st.healthy = false;
                    st.rampStart = NOT_RAMPING;
                    continue;
                }
                if (!st.healthy) {
                    st.healthy = true;
                    st.rampStart = NanoTimes.stamp(now);
                }
                if (st.rampStart == NOT_RAMPING) {
                    continue;
                }
                long elapsed = now - st.rampStart;
                int weight = m.weight();
                if (elapsed >= windowNanos) {
                    st.rampStart = NOT_RAMPING;
                    m.effectiveWeight(weight);
                } else {
                    // Linear from 1 at the start to the full weight at the end of the window.
                    int w = (int) Math.ceil(weight * (Math.max(0, elapsed) / (double) windowNanos));
                    m.effectiveWeight(Math.max(1, w));
                }
            }
        }
    }

    private void update() {
        try {
            updateWeights();
        } catch (RuntimeException e) {
            logger.warn("slow start update failed", e);
        }
    }

    private static boolean healthy(Member m, long now) {
        long until = m.ejectedUntil();
        boolean ejected = until != Member.NOT_EJECTED && now - until < 0;
        return !m.isAdminDown() && !m.isCheckDown() && !ejected && !m.isRemoved();
    }

    /** Stops the updates, gives ramping upstreams their full weight, and shuts an owned executor down. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (task != null) {
                task.cancel(false);
            }
            DaemonExecutors.shutdownIfOwned(executor, suppliedExecutor);
            if (snapshot != null) {
                for (Member m : snapshot.members()) {
                    RampState st = states.get(m);
                    if (st != null && st.rampStart != NOT_RAMPING) {
                        st.rampStart = NOT_RAMPING;
                        m.effectiveWeight(m.weight());
                    }
                }
            }
        }
    }

    @Override
    public String toString() {
        return "SlowStartPolicy{window=" + window + "}";
    }

    /** Guarded by the policy's lock. */
    private static final class RampState {
        boolean healthy;
        long rampStart = NOT_RAMPING;
    }

    /**
     * Builds a {@link SlowStartPolicy}. Not thread-safe. Defaults: {@code window} 0 (off),
     * {@code updateInterval} 1 s, an owned one-thread daemon executor (created only when the window is
     * not 0).
     */
    public static final class Builder {
        private Duration window = DEFAULT_WINDOW;
        private Duration updateInterval = DEFAULT_UPDATE_INTERVAL;
        private ScheduledExecutorService executor;

        private Builder() {}

        /** The ramp's length; 0 turns slow start off; at most a day. Default 0. */
        public Builder window(Duration window) {
            this.window = Checks.atMost(Checks.positiveOrZero(window, "window"), MAX_DURATION, "window");
            return this;
        }

        /** How often weights are recomputed; &gt; 0, at most a day. Default 1 s. */
        public Builder updateInterval(Duration updateInterval) {
            this.updateInterval = Checks.positive(updateInterval, MAX_DURATION, "updateInterval");
            return this;
        }

        /** The executor updates run on; the application keeps ownership. Default: one owned daemon thread. */
        public Builder executor(ScheduledExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        public SlowStartPolicy build() {
            return new SlowStartPolicy(this);
        }
    }
}
