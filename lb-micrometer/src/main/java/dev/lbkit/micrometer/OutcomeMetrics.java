package dev.lbkit.micrometer;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.health.HealthPolicy;
import dev.lbkit.api.health.Outcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link HealthPolicy} that counts every outcome the tiers report to a pool, by upstream and cause,
 * as {@code lbkit.upstream.outcomes{pool, upstream, outcome}} ({@code success},
 * {@code connect_failure}, {@code timeout}, {@code invalid_response}, {@code error_status}), and
 * otherwise behaves exactly as the policy it wraps. Whatever tier reports to the pool (L7 per attempt,
 * L4 per connection) is counted, so this gives failures by cause without the tiers' help.
 *
 * <pre>{@code
 * UpstreamPool pool = UpstreamPool.builder()
 *         .healthPolicy(OutcomeMetrics.wrap(registry, HealthPolicies.compose(active, passive)))
 *         ...
 * }</pre>
 *
 * <p>Wrap the whole policy (a composition, if any), not one part of a composition: {@link
 * dev.lbkit.api.health.HealthPolicies#compose} checks its parts' classes.
 *
 * <p>Thread-safe; counting an outcome is a map lookup and a lock-free increment. Counters of an
 * upstream that leaves the pool are removed. Health views that look for a particular policy class
 * (lb-admin's active-check column) no longer see the wrapped one: give it to them explicitly.
 */
public final class OutcomeMetrics implements HealthPolicy {
    private static final Outcome[] OUTCOMES = Outcome.values();

    private final MeterRegistry registry;
    private final HealthPolicy delegate;
    private final Map<Member, Counter[]> counters = new ConcurrentHashMap<>();

    private OutcomeMetrics(MeterRegistry registry, HealthPolicy delegate) {
        this.registry = registry;
        this.delegate = delegate;
    }

    /** Counts outcomes into {@code registry}, delegating every decision to {@code delegate}. */
    public static OutcomeMetrics wrap(MeterRegistry registry, HealthPolicy delegate) {
        return new OutcomeMetrics(Objects.requireNonNull(registry, "registry"), Objects.requireNonNull(delegate, "delegate"));
    }

    /** The wrapped policy. */
    public HealthPolicy delegate() {
        return delegate;
    }

    @Override
    public boolean admit(Member member, PoolSnapshot snapshot, long nanoTime) {
        return delegate.admit(member, snapshot, nanoTime);
    }

    @Override
    public void onOutcome(Member member, Outcome outcome, PoolSnapshot snapshot, long nanoTime) {
        Counter[] c = counters.get(member);
        if (c == null && !member.isRemoved()) {
            c = counters.computeIfAbsent(member, this::register);
        }
        if (c != null) {
            c[outcome.ordinal()].increment();
        }
        delegate.onOutcome(member, outcome, snapshot, nanoTime);
    }

    private Counter[] register(Member m) {
        Counter[] c = new Counter[OUTCOMES.length];
        for (Outcome o : OUTCOMES) {
            c[o.ordinal()] = Counter.builder("lbkit.upstream.outcomes")
                    .tags("pool", m.pool().name(), "upstream", m.upstream().key(), "outcome",
                            o.name().toLowerCase(Locale.ROOT))
                    .description("Outcomes the tiers reported per attempt or connection, by cause")
                    .register(registry);
        }
        return c;
    }

    @Override
    public void onExhausted(PoolSnapshot snapshot, long nanoTime) {
        delegate.onExhausted(snapshot, nanoTime);
    }

    @Override
    public void onMembershipChange(PoolSnapshot snapshot) {
        Map<Member, Boolean> present = new IdentityHashMap<>();
        for (Member m : snapshot.members()) {
            present.put(m, Boolean.TRUE);
        }
        counters.entrySet().removeIf(e -> {
            if (present.containsKey(e.getKey())) {
                return false;
            }
            for (Counter c : e.getValue()) {
                registry.remove(c);
            }
            return true;
        });
        delegate.onMembershipChange(snapshot);
    }

    /** Closes the wrapped policy; the counters stay until their upstreams leave or the registry closes. */
    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public String toString() {
        return "OutcomeMetrics{" + delegate + "}";
    }
}
