package dev.lbkit.api.health;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.health.internal.MemberStates;
import dev.lbkit.api.internal.Checks;
import dev.lbkit.api.internal.NanoTimes;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Passive health checks: nginx's {@code max_fails} and {@code fail_timeout}, fed by the outcomes tiers
 * {@linkplain dev.lbkit.api.UpstreamPool#report report}.
 *
 * <h2>{@link WindowMode#NGINX} (the default): exactly what nginx's round-robin code does</h2>
 * Per upstream the policy keeps nginx's three fields {@code fails}, {@code accessed} and
 * {@code checked}:
 * <ul>
 *   <li>a failure increments {@code fails} and sets {@code accessed} and {@code checked} to now;</li>
 *   <li>an upstream is skipped while {@code fails >= max_fails} and no more than {@code fail_timeout}
 *       has passed since {@code checked};</li>
 *   <li>when an upstream is picked and more than {@code fail_timeout} has passed since {@code checked},
 *       {@code checked} becomes now. So once an upstream's timeout is over, exactly one request is let
 *       through as a probe: the others keep skipping it for another {@code fail_timeout} (or until the
 *       probe succeeds). One more failure disables it again, because {@code fails} is still at least
 *       {@code max_fails};</li>
 *   <li>a success resets {@code fails} to 0 only if {@code accessed < checked}, that is, only if the
 *       upstream was picked more than {@code fail_timeout} after its last failure. {@code fail_timeout}
 *       is a quiet period, not a rolling window: failures spread more thinly than one per
 *       {@code fail_timeout} still add up as long as successes come in between;</li>
 *   <li>{@code max_fails = 0} turns counting off;</li>
 *   <li>a pool of exactly one primary upstream and no backup never marks it unavailable (nginx's
 *       {@code peers->single}: with nowhere else to go, skipping it could only turn errors into 502s);</li>
 *   <li>when no upstream of either tier can be picked (nginx answers 502 "no live upstreams"), every
 *       count is reset to 0 so that the next request tries again.</li>
 * </ul>
 * Differences from nginx, by design: time is the pool's {@link dev.lbkit.api.Ticker} in nanoseconds,
 * not whole seconds (nginx's {@code now - checked <= fail_timeout} is compared exactly, in nanoseconds);
 * and lbkit does not lower a failed upstream's weighted-round-robin weight ({@code effective_weight -=
 * weight / max_fails} in nginx), because that is a detail of nginx's smooth WRR, and doing it through
 * {@link Member#effectiveWeight(int)} would rebuild the pool's pickers on every failure.
 *
 * <h2>{@link WindowMode#SLIDING}</h2>
 * A true sliding window: an upstream is unavailable while at least {@code max_fails} of its failures
 * lie within the last {@code fail_timeout}, and comes back, for all traffic at once, as soon as the
 * oldest of them is older than that. Successes do not reset the count; there is no single probe
 * request, and after coming back an upstream needs {@code max_fails} fresh failures within
 * {@code fail_timeout} to be disabled again (nginx needs one). The single-upstream rule and the reset
 * on exhaustion apply as in nginx mode.
 *
 * <p>Ejections are written to {@link Member#ejectedUntil()}, where pickers read them, and reported to
 * the pool's listeners (source {@code "passive"}). As {@link HealthEvent} explains, the end of an
 * ejection is observed lazily: the "available" event comes with the first success after it.
 *
 * <p>Thread-safe and lock-free. {@link #admit} and {@link #onOutcome} allocate nothing once an
 * upstream has failed once (its state is created then). Immutable configuration; one instance per pool.
 */
public final class PassiveHealthPolicy implements HealthPolicy {
    /** nginx's default {@code max_fails}. */
    public static final int DEFAULT_MAX_FAILS = 1;
    /** nginx's default {@code fail_timeout}. */
    public static final Duration DEFAULT_FAIL_TIMEOUT = Duration.ofSeconds(10);
    /** The largest {@code max_fails} accepted (the sliding window keeps one timestamp per failure). */
    public static final int MAX_MAX_FAILS = 65535;

    /** The longest {@code fail_timeout} accepted, so that deadlines stay far from ticker overflow. */
    public static final Duration MAX_FAIL_TIMEOUT = Duration.ofDays(365);

    static final String SOURCE = "passive";
    /** {@code checked} and {@code accessed} before their first assignment: "longer ago than any timeout". */
    private static final long NEVER = Long.MIN_VALUE;

    /** How failures are counted against {@code fail_timeout}. */
    public enum WindowMode {
        /** nginx's rules exactly: a quiet period reset by a success, one probe request after the timeout. */
        NGINX,
        /** A true sliding window over the last {@code fail_timeout}; see the class documentation. */
        SLIDING
    }

    private final int maxFails;
    private final Duration failTimeout;
    private final long failTimeoutNanos;
    private final WindowMode windowMode;
    private final MemberStates<State> states;

    private PassiveHealthPolicy(Builder b) {
        this.maxFails = b.maxFails;
        this.failTimeout = b.failTimeout;
        this.failTimeoutNanos = b.failTimeout.toNanos();
        this.windowMode = b.windowMode;
        this.states = new MemberStates<>(m -> new State(windowMode == WindowMode.SLIDING ? maxFails : 0));
    }

    /** nginx's defaults: {@code max_fails=1 fail_timeout=10s}, {@link WindowMode#NGINX}. */
    public static PassiveHealthPolicy nginxDefaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** nginx's {@code max_fails}; 0 means failures are not counted. */
    public int maxFails() {
        return maxFails;
    }

    /** nginx's {@code fail_timeout}. */
    public Duration failTimeout() {
        return failTimeout;
    }

    public WindowMode windowMode() {
        return windowMode;
    }

    /**
     * The number of failures currently counted against {@code member} (nginx's {@code fails}; in sliding
     * mode, the failures counted since the last reset, old or not). For monitoring.
     */
    public int failures(Member member) {
        State st = states.get(Objects.requireNonNull(member, "member"));
        if (st == null) {
            return 0;
        }
        return windowMode == WindowMode.NGINX ? st.fails.get() : (int) Math.min(Integer.MAX_VALUE, st.count.get());
    }

    /** The ejection deadline the policy's state implies for {@code member} at {@code now}; tests compare it with the member's. */
    long impliedEjection(Member member, long now) {
        State st = states.get(member);
        if (st == null) {
            return Member.NOT_EJECTED;
        }
        return windowMode == WindowMode.NGINX ? desiredNginx(st) : desiredSliding(st, now);
    }

    @Override
    public boolean admit(Member member, PoolSnapshot snapshot, long nanoTime) {
        if (maxFails == 0 || windowMode == WindowMode.SLIDING || isSingle(snapshot)) {
            return true;
        }
        State st = states.get(member);
        if (st == null) {
            // Never failed: nothing to skip, and a checkpoint before the first failure is overwritten by it.
            return true;
        }
        for (;;) {
            long checked = st.checked.get();
            if (checked != NEVER && nanoTime - checked <= failTimeoutNanos) {
                return st.fails.get() < maxFails;
            }
            // More than fail_timeout since the last failure or checkpoint: this pick becomes the checkpoint.
            // Only one racing thread wins; the losers re-read checked and, if fails >= max_fails, skip.
            if (st.checked.compareAndSet(checked, NanoTimes.stamp(nanoTime))) {
                if (st.fails.get() >= maxFails) {
                    syncNginx(member, st, "probe after fail_timeout");
                }
                return true;
            }
        }
    }

    @Override
    public void onOutcome(Member member, Outcome outcome, PoolSnapshot snapshot, long nanoTime) {
        if (maxFails == 0 || isSingle(snapshot)) {
            return;
        }
        if (windowMode == WindowMode.NGINX) {
            onOutcomeNginx(member, outcome, nanoTime);
        } else {
            onOutcomeSliding(member, outcome, nanoTime);
        }
    }

    private void onOutcomeNginx(Member member, Outcome outcome, long nanoTime) {
        long now = NanoTimes.stamp(nanoTime);
        if (outcome.isFailure()) {
            State st = states.getOrCreate(member);
            if (st == null) {
                return;
            }
            st.fails.incrementAndGet();
            st.accessed = now;
            st.checked.set(now);
            syncNginx(member, st, "max_fails failures, disabled for fail_timeout");
        } else {
            State st = states.get(member);
            if (st == null) {
                return;
            }
            long accessed = st.accessed;
            long checked = st.checked.get();
            // nginx: "mark peer live if check passed" when accessed < checked.
            if (checked != NEVER && (accessed == NEVER || accessed - checked < 0)) {
                if (st.fails.get() != 0) {
                    st.fails.set(0);
                }
                if (member.ejectedUntil() != Member.NOT_EJECTED) {
                    syncNginx(member, st, "success after fail_timeout");
                }
            }
        }
    }

    private void onOutcomeSliding(Member member, Outcome outcome, long now) {
        if (outcome.isFailure()) {
            State st = states.getOrCreate(member);
            if (st == null) {
                return;
            }
            long i = st.count.getAndIncrement();
            st.ring.set((int) (i % maxFails), now);
            syncSliding(member, st, now, "max_fails failures within fail_timeout");
        } else {
            long until = member.ejectedUntil();
            if (until != Member.NOT_EJECTED && now - until >= 0) {
                State st = states.get(member);
                if (st != null) {
                    syncSliding(member, st, now, "success after the window cleared");
                }
            }
        }
    }

    @Override
    public void onExhausted(PoolSnapshot snapshot, long nanoTime) {
        if (maxFails == 0) {
            return;
        }
        for (Member m : snapshot.members()) {
            State st = states.get(m);
            if (st == null) {
                continue;
            }
            if (windowMode == WindowMode.NGINX) {
                st.fails.set(0);
                syncNginx(m, st, "no live upstreams: failure counts reset");
            } else {
                st.count.set(0);
                syncSliding(m, st, nanoTime, "no live upstreams: failure counts reset");
            }
        }
    }

    @Override
    public void onMembershipChange(PoolSnapshot snapshot) {
        states.retain(snapshot);
        if (isSingle(snapshot)) {
            // A lone upstream is never skipped; lift an ejection left from when it had company.
            snapshot.primaries().get(0).clearEjection(SOURCE, "single upstream is never marked unavailable");
        }
    }

    private static boolean isSingle(PoolSnapshot snapshot) {
        return snapshot.primaries().size() == 1 && snapshot.backups().isEmpty();
    }

    /** The ejection deadline nginx's fields imply: skipped while now - checked <= fail_timeout. */
    private long desiredNginx(State st) {
        if (st.fails.get() < maxFails) {
            return Member.NOT_EJECTED;
        }
        long checked = st.checked.get();
        return checked == NEVER ? Member.NOT_EJECTED : deadline(checked);
    }

    private long desiredSliding(State st, long now) {
        if (st.count.get() < maxFails) {
            return Member.NOT_EJECTED;
        }
        // The oldest of the last max_fails failures decides: once it leaves the window, fewer remain.
        long oldest = st.ring.get(0);
        for (int i = 1; i < maxFails; i++) {
            long t = st.ring.get(i);
            if (t - oldest < 0) {
                oldest = t;
            }
        }
        long until = deadline(oldest);
        return now - until < 0 ? until : Member.NOT_EJECTED;
    }

    private long deadline(long from) {
        return NanoTimes.stamp(from + failTimeoutNanos + 1);
    }

    /*
     * The member's ejection deadline is derived from the policy's state. Threads change the state
     * lock-free and then bring the deadline in line; each re-reads the state after writing, so once the
     * racing stops, the last writer has left the deadline matching the state.
     */
    private void syncNginx(Member m, State st, String reason) {
        for (;;) {
            long current = m.ejectedUntil();
            long want = desiredNginx(st);
            if (current == want || apply(m, current, want, reason)) {
                if (desiredNginx(st) == want) {
                    return;
                }
            }
        }
    }

    private void syncSliding(Member m, State st, long now, String reason) {
        for (;;) {
            long current = m.ejectedUntil();
            long want = desiredSliding(st, now);
            if (current == want || apply(m, current, want, reason)) {
                if (desiredSliding(st, now) == want) {
                    return;
                }
            }
        }
    }

    private static boolean apply(Member m, long current, long want, String reason) {
        if (want == Member.NOT_EJECTED) {
            m.clearEjection(SOURCE, reason);
            return true;
        }
        if (current == Member.NOT_EJECTED) {
            if (m.compareAndSetEjectedUntil(current, Member.NOT_EJECTED)) {
                m.eject(want, SOURCE, reason);
                return true;
            }
            return false;
        }
        // Already ejected: moving the deadline (the probe's checkpoint) is not a transition.
        return m.compareAndSetEjectedUntil(current, want);
    }

    @Override
    public String toString() {
        return "PassiveHealthPolicy{max_fails=" + maxFails + ", fail_timeout=" + failTimeout + ", mode=" + windowMode
                + "}";
    }

    /** nginx's per-peer fields, or the sliding window's ring of failure times. */
    private static final class State {
        final AtomicInteger fails = new AtomicInteger();
        volatile long accessed = NEVER;
        final AtomicLong checked = new AtomicLong(NEVER);
        final AtomicLong count = new AtomicLong();
        final AtomicLongArray ring;

        State(int ringSize) {
            this.ring = new AtomicLongArray(ringSize);
        }
    }

    /**
     * Builds a {@link PassiveHealthPolicy}. Not thread-safe. Defaults: {@code maxFails} 1,
     * {@code failTimeout} 10 s, {@link WindowMode#NGINX}.
     */
    public static final class Builder {
        private int maxFails = DEFAULT_MAX_FAILS;
        private Duration failTimeout = DEFAULT_FAIL_TIMEOUT;
        private WindowMode windowMode = WindowMode.NGINX;

        private Builder() {}

        /** nginx's {@code max_fails}: 0..{@value PassiveHealthPolicy#MAX_MAX_FAILS}, 0 turns counting off. Default 1. */
        public Builder maxFails(int maxFails) {
            this.maxFails = Checks.inRange(maxFails, 0, MAX_MAX_FAILS, "maxFails");
            return this;
        }

        /** nginx's {@code fail_timeout}, &gt; 0 and at most 365 days. Default 10 s. */
        public Builder failTimeout(Duration failTimeout) {
            this.failTimeout = Checks.positive(failTimeout, MAX_FAIL_TIMEOUT, "failTimeout");
            return this;
        }

        /** How failures are counted. Default {@link WindowMode#NGINX}. */
        public Builder windowMode(WindowMode windowMode) {
            this.windowMode = Objects.requireNonNull(windowMode, "windowMode");
            return this;
        }

        public PassiveHealthPolicy build() {
            return new PassiveHealthPolicy(this);
        }
    }
}
