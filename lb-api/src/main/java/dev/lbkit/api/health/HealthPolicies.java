package dev.lbkit.api.health;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Combines health policies, so that one pool can use active checks, passive checks and slow start
 * together, and DNS, L4 and L7 tiers sharing the pool share one health view.
 */
public final class HealthPolicies {
    private HealthPolicies() {}

    /**
     * A policy that asks every one of {@code policies}: an upstream is admitted only if all admit it
     * (asked in the given order, the first refusal wins); outcomes, exhaustion and membership changes go
     * to all of them in order; closing closes all of them. Nested compositions are flattened.
     *
     * <p>{@link PassiveHealthPolicy#admit} has a side effect (it lets one request probe an upstream
     * after its timeout), so list it after policies that may refuse. At most one policy may write the
     * ejection deadline ({@link PassiveHealthPolicy}, {@link OutlierDetectionPolicy}): two would
     * overwrite each other's ejections.
     *
     * @throws IllegalArgumentException if {@code policies} is empty, repeats a policy, or holds more
     *     than one ejecting policy
     */
    public static HealthPolicy compose(HealthPolicy... policies) {
        Objects.requireNonNull(policies, "policies");
        return compose(List.of(policies));
    }

    /** As {@link #compose(HealthPolicy...)}. */
    public static HealthPolicy compose(List<? extends HealthPolicy> policies) {
        Objects.requireNonNull(policies, "policies");
        List<HealthPolicy> flat = new ArrayList<>();
        for (HealthPolicy p : policies) {
            Objects.requireNonNull(p, "policy");
            if (p instanceof Composite c) {
                flat.addAll(List.of(c.policies));
            } else {
                flat.add(p);
            }
        }
        if (flat.isEmpty()) {
            throw new IllegalArgumentException("compose needs at least one policy");
        }
        int ejecting = 0;
        for (int i = 0; i < flat.size(); i++) {
            HealthPolicy p = flat.get(i);
            if (p instanceof PassiveHealthPolicy || p instanceof OutlierDetectionPolicy) {
                ejecting++;
            }
            for (int j = 0; j < i; j++) {
                if (flat.get(j) == p) {
                    throw new IllegalArgumentException("policy " + p + " is listed twice");
                }
            }
        }
        if (ejecting > 1) {
            throw new IllegalArgumentException("at most one of PassiveHealthPolicy and OutlierDetectionPolicy may be "
                    + "composed (both write the ejection deadline), got " + flat);
        }
        return flat.size() == 1 ? flat.get(0) : new Composite(flat.toArray(new HealthPolicy[0]));
    }

    /** Thread-safe if its parts are; holds no state of its own. */
    private static final class Composite implements HealthPolicy {
        final HealthPolicy[] policies;

        Composite(HealthPolicy[] policies) {
            this.policies = policies;
        }

        @Override
        public boolean admit(Member member, PoolSnapshot snapshot, long nanoTime) {
            for (HealthPolicy p : policies) {
                if (!p.admit(member, snapshot, nanoTime)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void onOutcome(Member member, Outcome outcome, PoolSnapshot snapshot, long nanoTime) {
            for (HealthPolicy p : policies) {
                p.onOutcome(member, outcome, snapshot, nanoTime);
            }
        }

        @Override
        public void onExhausted(PoolSnapshot snapshot, long nanoTime) {
            for (HealthPolicy p : policies) {
                p.onExhausted(snapshot, nanoTime);
            }
        }

        @Override
        public void onMembershipChange(PoolSnapshot snapshot) {
            for (HealthPolicy p : policies) {
                p.onMembershipChange(snapshot);
            }
        }

        /** Closes every part, even if one throws; the first exception is rethrown with the others suppressed. */
        @Override
        public void close() {
            RuntimeException failure = null;
            for (HealthPolicy p : policies) {
                try {
                    p.close();
                } catch (RuntimeException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public String toString() {
            return "HealthPolicies.compose" + List.of(policies);
        }
    }
}
