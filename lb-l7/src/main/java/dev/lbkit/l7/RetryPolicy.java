package dev.lbkit.l7;

import dev.lbkit.api.internal.Checks;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * When and how often a failed request is passed to another upstream: nginx's {@code proxy_next_upstream},
 * {@code proxy_next_upstream_tries} and {@code proxy_next_upstream_timeout}, plus the size of the
 * request-body buffer kept for replay.
 *
 * <p>Immutable and thread-safe. Defaults (nginx's): conditions {@code error timeout}, tries 0 (no limit
 * but the number of upstreams in the group, since each is tried at most once per request), timeout 0
 * (none), non-idempotent requests not retried once they may have reached an upstream, 64 KiB replay
 * buffer.
 */
public final class RetryPolicy {
    /** nginx's default: {@code proxy_next_upstream error timeout}. */
    public static final RetryPolicy DEFAULT = builder().build();
    /** {@code proxy_next_upstream off}: never retry. */
    public static final RetryPolicy OFF = builder().conditions(EnumSet.noneOf(NextUpstream.class)).build();

    private final Set<NextUpstream> conditions;
    private final int tries;
    private final Duration timeout;
    private final long replayBufferBytes;

    private RetryPolicy(Builder b) {
        this.conditions = Collections.unmodifiableSet(EnumSet.copyOf(b.conditions));
        this.tries = b.tries;
        this.timeout = b.timeout;
        this.replayBufferBytes = b.replayBufferBytes;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The retry conditions (unmodifiable). */
    public Set<NextUpstream> conditions() {
        return conditions;
    }

    /** Whether {@code c} is listed. */
    public boolean retriesOn(NextUpstream c) {
        return conditions.contains(c);
    }

    /** Most attempts per request, including the first; 0 means no limit but the group's size. */
    public int tries() {
        return tries;
    }

    /** Time after the first attempt within which a retry may start; zero means no limit. */
    public Duration timeout() {
        return timeout;
    }

    /**
     * Bytes of request body kept so that it can be sent again; a request whose body outgrows this is
     * not retried once part of its body was sent.
     */
    public long replayBufferBytes() {
        return replayBufferBytes;
    }

    @Override
    public String toString() {
        return "RetryPolicy{" + conditions + ", tries=" + tries + ", timeout=" + timeout + ", replayBufferBytes="
                + replayBufferBytes + "}";
    }

    /** Builds a {@link RetryPolicy}. Not thread-safe. */
    public static final class Builder {
        private Set<NextUpstream> conditions = EnumSet.of(NextUpstream.ERROR, NextUpstream.TIMEOUT);
        private int tries;
        private Duration timeout = Duration.ZERO;
        private long replayBufferBytes = 64 * 1024;

        private Builder() {}

        /** The conditions ({@code proxy_next_upstream}); an empty set means {@code off}. */
        public Builder conditions(Set<NextUpstream> conditions) {
            Objects.requireNonNull(conditions, "conditions");
            this.conditions = conditions.isEmpty() ? EnumSet.noneOf(NextUpstream.class) : EnumSet.copyOf(conditions);
            return this;
        }

        /** The conditions ({@code proxy_next_upstream}); none means {@code off}. */
        public Builder conditions(NextUpstream... conditions) {
            Set<NextUpstream> s = EnumSet.noneOf(NextUpstream.class);
            for (NextUpstream c : conditions) {
                s.add(Objects.requireNonNull(c, "condition"));
            }
            return conditions(s);
        }

        /** {@code proxy_next_upstream_tries}: most attempts per request; 0 = the group's size. Default 0. */
        public Builder tries(int tries) {
            this.tries = Checks.positiveOrZero(tries, "tries");
            return this;
        }

        /** {@code proxy_next_upstream_timeout}; zero = no limit. Default zero. */
        public Builder timeout(Duration timeout) {
            this.timeout = Checks.positiveOrZero(timeout, "timeout");
            return this;
        }

        /** Request-body bytes kept for replay. Default 64 KiB. */
        public Builder replayBufferBytes(long bytes) {
            this.replayBufferBytes = Checks.positiveOrZero(bytes, "replayBufferBytes");
            return this;
        }

        public RetryPolicy build() {
            return new RetryPolicy(this);
        }
    }
}
