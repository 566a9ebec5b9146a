package dev.lbkit.api.health;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.health.internal.MemberStates;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.internal.NanoTimes;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Envoy-style outlier detection by consecutive failures: an upstream that fails
 * {@code consecutiveFailures} times in a row is ejected for {@code baseEjectionTime} multiplied by its
 * ejection multiplier, at most {@code maxEjectionTime}, unless that would eject more than
 * {@code maxEjectionPercent} of the pool.
 *
 * <p>What is implemented, in Envoy's terms:
 * <ul>
 *   <li>{@code consecutive_5xx}: every failure {@link Outcome} counts (the tier decides what a failure
 *       is); a success resets the run. Outcomes reported while the upstream is ejected (requests that
 *       were in flight) are ignored.</li>
 *   <li>Ejection time: Envoy's multiplier starts at 0 and grows by one with each ejection while
 *       {@code baseEjectionTime × multiplier} is still below {@code maxEjectionTime}; the upstream is
 *       ejected for {@code min(baseEjectionTime × multiplier, maxEjectionTime)}: 30 s, 60 s, 90 s …
 *       300 s with the defaults, and 30 s, 60 s, 90 s, 100 s with a maximum of 100 s.</li>
 *   <li>The multiplier decreases by one for every full {@code interval} the upstream spends un-ejected
 *       (Envoy decrements it at each interval timer tick while the host is healthy). lbkit needs no
 *       timer for this: the decrease is computed at the next ejection.</li>
 *   <li>{@code max_ejection_percent}: an ejection is refused when the ejected upstreams, this one
 *       included, would exceed that share of the pool; but when none is ejected, one always may be
 *       (Envoy's documented rule: "will eject at least one host regardless of the value"; recent Envoy
 *       versions put this behind {@code always_eject_one_host}). So a pool of fewer than ten upstreams
 *       can still eject one at the default 10%. A refused upstream keeps its count, and its next
 *       failure tries again.</li>
 *   <li>The ejection ends lazily when its time has passed (no timer; see {@link HealthEvent}); the first
 *       success after it tells listeners the upstream is available again. There is no single-probe
 *       phase: the upstream gets its full share at once, and needs another run of failures to be
 *       ejected again.</li>
 * </ul>
 * Not implemented: success-rate and failure-percentage detection, the split between local-origin and
 * upstream errors, {@code enforcing_*} percentages, ejection-time jitter, and the panic threshold (which
 * belongs to the scheduler side).
 *
 * <p>Writes {@link Member#ejectedUntil()}, so it must not be composed with {@link PassiveHealthPolicy}
 * ({@link HealthPolicies#compose} refuses). Thread-safe: outcomes are counted lock-free and without
 * allocation; only the rare ejection decision takes a lock, so that the cap is never overshot.
 * Immutable configuration; one instance per pool.
 */
public final class OutlierDetectionPolicy implements HealthPolicy {
    /** Envoy's default {@code consecutive_5xx}. */
    public static final int DEFAULT_CONSECUTIVE_FAILURES = 5;
    /** Envoy's default {@code base_ejection_time}. */
    public static final Duration DEFAULT_BASE_EJECTION_TIME = Duration.ofSeconds(30);
    /** Envoy's default {@code max_ejection_time}. */
    public static final Duration DEFAULT_MAX_EJECTION_TIME = Duration.ofSeconds(300);
    /** Envoy's default {@code max_ejection_percent}. */
    public static final int DEFAULT_MAX_EJECTION_PERCENT = 10;
    /** Envoy's default {@code interval}, here only the period by which the multiplier decays. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    static final String SOURCE = "outlier";
    private static final Duration MAX_DURATION = Duration.ofDays(365);

    private final int consecutiveFailures;
    private final Duration baseEjectionTime;
    private final Duration maxEjectionTime;
    private final int maxEjectionPercent;
    private final Duration interval;
    private final long baseNanos;
    private final long maxNanos;
    private final long intervalNanos;
    private final MemberStates<State> states = new MemberStates<>(m -> new State());
    private final Object ejectLock = new Object();

    private OutlierDetectionPolicy(Builder b) {
        this.consecutiveFailures = b.consecutiveFailures;
        this.baseEjectionTime = b.baseEjectionTime;
        this.maxEjectionTime = b.maxEjectionTime;
        this.maxEjectionPercent = b.maxEjectionPercent;
        this.interval = b.interval;
        this.baseNanos = baseEjectionTime.toNanos();
        this.maxNanos = maxEjectionTime.toNanos();
        this.intervalNanos = interval.toNanos();
    }

    /** Envoy's defaults: 5 consecutive failures, 30 s base, 300 s max, 10%, 10 s interval. */
    public static OutlierDetectionPolicy envoyDefaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    public Duration baseEjectionTime() {
        return baseEjectionTime;
    }

    public Duration maxEjectionTime() {
        return maxEjectionTime;
    }

    public int maxEjectionPercent() {
        return maxEjectionPercent;
    }

    public Duration interval() {
        return interval;
    }

    /** The current run of consecutive failures of {@code member}, for monitoring. */
    public int consecutiveFailures(Member member) {
        State st = states.get(Objects.requireNonNull(member, "member"));
        return st == null ? 0 : st.consecutive.get();
    }

    /** How many times {@code member} was ejected since it joined the pool, for monitoring. */
    public int ejections(Member member) {
        State st = states.get(Objects.requireNonNull(member, "member"));
        return st == null ? 0 : st.ejections;
    }

    @Override
    public void onOutcome(Member member, Outcome outcome, PoolSnapshot snapshot, long nanoTime) {
        long until = member.ejectedUntil();
        boolean ejected = until != Member.NOT_EJECTED && nanoTime - until < 0;
        if (ejected) {
            return;
        }
        if (outcome.isFailure()) {
            State st = states.getOrCreate(member);
            if (st != null && countFailure(st.consecutive) >= consecutiveFailures) {
                tryEject(member, st, snapshot, nanoTime);
            }
        } else {
            State st = states.get(member);
            if (st != null && st.consecutive.get() != 0) {
                st.consecutive.set(0);
            }
            if (until != Member.NOT_EJECTED) {
                member.clearEjection(SOURCE, "success after ejection");
            }
        }
    }

    /**
     * Adds one failure to a run and returns the new length. Saturates: while the ejection cap refuses an
     * upstream its run keeps growing, and wrapped to a negative count it would not be ejected again for
     * another 2^31 failures.
     */
    static int countFailure(AtomicInteger run) {
        for (;;) {
            int c = run.get();
            if (c == Integer.MAX_VALUE) {
                return c;
            }
            if (run.compareAndSet(c, c + 1)) {
                return c + 1;
            }
        }
    }

    private void tryEject(Member member, State st, PoolSnapshot snapshot, long now) {
        synchronized (ejectLock) {
            long until = member.ejectedUntil();
            if (member.isRemoved() || until != Member.NOT_EJECTED && now - until < 0
                    || st.consecutive.get() < consecutiveFailures) {
                return;
            }
            int ejected = 0;
            for (Member m : snapshot.members()) {
                long u = m.ejectedUntil();
                if (u != Member.NOT_EJECTED && now - u < 0) {
                    ejected++;
                }
            }
            // Envoy: allowed if within the percentage, or if nothing is ejected at all.
            if (ejected > 0 && (long) (ejected + 1) * 100 > (long) maxEjectionPercent * snapshot.size()) {
                return;
            }
            int multiplier = st.multiplier;
            if (multiplier > 0 && st.ejectionEnd != Long.MIN_VALUE && now - st.ejectionEnd > 0) {
                long decay = (now - st.ejectionEnd) / intervalNanos;
                multiplier = (int) Math.max(0, multiplier - decay);
            }
            // Grow while the last ejection was shorter than the maximum, so that the maximum is reached
            // even when it is not a multiple of the base (Envoy: backoff * base < max + base).
            if (baseNanos * multiplier < maxNanos) {
                multiplier++;
            }
            st.multiplier = multiplier;
            long time = Math.min(baseNanos * multiplier, maxNanos);
            long end = NanoTimes.stamp(now + time);
            st.ejectionEnd = end;
            st.ejections++;
            st.consecutive.set(0);
            member.eject(end, SOURCE, consecutiveFailures + " consecutive failures, ejected for "
                    + Duration.ofNanos(time));
        }
    }

    @Override
    public void onMembershipChange(PoolSnapshot snapshot) {
        states.retain(snapshot);
    }

    @Override
    public String toString() {
        return "OutlierDetectionPolicy{consecutive_failures=" + consecutiveFailures + ", base_ejection_time="
                + baseEjectionTime + ", max_ejection_time=" + maxEjectionTime + ", max_ejection_percent="
                + maxEjectionPercent + "}";
    }

    private static final class State {
        final AtomicInteger consecutive = new AtomicInteger();
        /** Guarded by ejectLock. */
        int multiplier;
        /** Guarded by ejectLock; when the last ejection ended (or ends), or Long.MIN_VALUE. */
        long ejectionEnd = Long.MIN_VALUE;
        /** Written under ejectLock, read for monitoring. */
        volatile int ejections;
    }

    /**
     * Builds an {@link OutlierDetectionPolicy}. Not thread-safe. Defaults (Envoy's):
     * {@code consecutiveFailures} 5, {@code baseEjectionTime} 30 s, {@code maxEjectionTime} 300 s,
     * {@code maxEjectionPercent} 10, {@code interval} 10 s.
     */
    public static final class Builder {
        private int consecutiveFailures = DEFAULT_CONSECUTIVE_FAILURES;
        private Duration baseEjectionTime = DEFAULT_BASE_EJECTION_TIME;
        private Duration maxEjectionTime = DEFAULT_MAX_EJECTION_TIME;
        private int maxEjectionPercent = DEFAULT_MAX_EJECTION_PERCENT;
        private Duration interval = DEFAULT_INTERVAL;

        private Builder() {}

        /** Failures in a row that eject an upstream, &gt; 0. Default 5. */
        public Builder consecutiveFailures(int consecutiveFailures) {
            this.consecutiveFailures = Checks.positive(consecutiveFailures, "consecutiveFailures");
            return this;
        }

        /** The first ejection's length, multiplied for later ones; &gt; 0, at most 365 days. Default 30 s. */
        public Builder baseEjectionTime(Duration baseEjectionTime) {
            this.baseEjectionTime = Checks.positive(baseEjectionTime, MAX_DURATION, "baseEjectionTime");
            return this;
        }

        /** The longest ejection; &gt; 0, at most 365 days, not below the base. Default 300 s. */
        public Builder maxEjectionTime(Duration maxEjectionTime) {
            this.maxEjectionTime = Checks.positive(maxEjectionTime, MAX_DURATION, "maxEjectionTime");
            return this;
        }

        /** The largest share of the pool ejected at once, 0..100 (one upstream always may be). Default 10. */
        public Builder maxEjectionPercent(int maxEjectionPercent) {
            this.maxEjectionPercent = Checks.inRange(maxEjectionPercent, 0, 100, "maxEjectionPercent");
            return this;
        }

        /** The period by which the ejection multiplier decays while un-ejected; &gt; 0. Default 10 s. */
        public Builder interval(Duration interval) {
            this.interval = Checks.positive(interval, MAX_DURATION, "interval");
            return this;
        }

        /** @throws IllegalArgumentException if {@code maxEjectionTime} is below {@code baseEjectionTime} */
        public OutlierDetectionPolicy build() {
            if (maxEjectionTime.compareTo(baseEjectionTime) < 0) {
                throw new IllegalArgumentException("maxEjectionTime (" + maxEjectionTime
                        + ") must be >= baseEjectionTime (" + baseEjectionTime + ")");
            }
            return new OutlierDetectionPolicy(this);
        }
    }
}
