package dev.lbkit.dns;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Checks;
import java.time.Duration;
import java.util.Objects;

/**
 * One name the {@link DnsBalancer} answers from an {@link UpstreamPool}, as dnsmasq's
 * {@code address=/name/addr} lines do, but from the pool's live, health-checked membership.
 *
 * <p>An A query is answered with the IPv4 address of every available upstream, an AAAA query with the
 * IPv6 ones, an SRV query with one record per available upstream (its port and weight); the order
 * rotates with every query. Upstreams given by host name rather than address appear only in SRV
 * answers.
 *
 * <p>Immutable and thread-safe. Built with {@link #builder(String, UpstreamPool)}.
 */
public final class ServedName {
    private final String name;
    private final UpstreamPool pool;
    private final Duration ttl;
    private final boolean subdomains;
    private final int maxAnswers;
    private final boolean failOpen;

    private ServedName(Builder b) {
        this.name = b.name;
        this.pool = b.pool;
        this.ttl = b.ttl;
        this.subdomains = b.subdomains;
        this.maxAnswers = b.maxAnswers;
        this.failOpen = b.failOpen;
    }

    /** A name answered from {@code pool} with every default (TTL 0, exact name only, all addresses, fail open). */
    public static ServedName of(String name, UpstreamPool pool) {
        return builder(name, pool).build();
    }

    public static Builder builder(String name, UpstreamPool pool) {
        return new Builder(name, pool);
    }

    /** The name in canonical form: lower case, no trailing dot. */
    public String name() {
        return name;
    }

    public UpstreamPool pool() {
        return pool;
    }

    /** The TTL of every record given for this name; default 0 (as dnsmasq's {@code address=}). */
    public Duration ttl() {
        return ttl;
    }

    /** Whether every name below this one is answered the same way (dnsmasq {@code address=/name/}); default false. */
    public boolean subdomains() {
        return subdomains;
    }

    /** At most this many records per answer (k of n, rotated); 0, the default, means all. */
    public int maxAnswers() {
        return maxAnswers;
    }

    /**
     * What to answer when no upstream is available: all of them as if all were healthy ({@code true}, the
     * default, as Route 53 does: better a client that tries than one that cannot; that is every primary,
     * and the backups only in a pool that has no primaries) or none (an empty NOERROR answer).
     */
    public boolean failOpen() {
        return failOpen;
    }

    @Override
    public String toString() {
        return "ServedName{" + name + " -> pool " + pool.name() + ", ttl=" + ttl.getSeconds() + "s"
                + (subdomains ? ", subdomains" : "") + (maxAnswers > 0 ? ", max=" + maxAnswers : "")
                + (failOpen ? ", fail-open" : ", fail-closed") + "}";
    }

    /** Lower case, no trailing dot; rejects names DNS cannot carry. */
    static String canonical(String name, String what) {
        Checks.notBlank(name, what);
        String n = name.trim().toLowerCase(java.util.Locale.ROOT);
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        if (n.isEmpty() || n.length() > 253) {
            throw new IllegalArgumentException(what + " must be 1..253 characters, got '" + name + "'");
        }
        for (String label : n.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63) {
                throw new IllegalArgumentException(what + " has an empty or over-long (>63) label: '" + name + "'");
            }
        }
        return n;
    }

    /** Builds a {@link ServedName}. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private final UpstreamPool pool;
        private Duration ttl = Duration.ZERO;
        private boolean subdomains;
        private int maxAnswers;
        private boolean failOpen = true;

        private Builder(String name, UpstreamPool pool) {
            this.name = canonical(name, "name");
            this.pool = Objects.requireNonNull(pool, "pool");
        }

        /** Record TTL, whole seconds, 0..2147483647 s. Default 0. */
        public Builder ttl(Duration ttl) {
            Checks.positiveOrZero(ttl, "ttl");
            if (ttl.getSeconds() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("ttl must be at most " + Integer.MAX_VALUE + " s, got " + ttl);
            }
            this.ttl = ttl;
            return this;
        }

        /** Answer subdomains too. Default false. */
        public Builder subdomains(boolean subdomains) {
            this.subdomains = subdomains;
            return this;
        }

        /** Records per answer, 0 for all. Default 0. */
        public Builder maxAnswers(int maxAnswers) {
            this.maxAnswers = Checks.positiveOrZero(maxAnswers, "maxAnswers");
            return this;
        }

        /**
         * Answer as if every upstream were healthy when none is available: every primary (the backups only
         * in a pool without primaries). Default true.
         */
        public Builder failOpen(boolean failOpen) {
            this.failOpen = failOpen;
            return this;
        }

        public ServedName build() {
            return new ServedName(this);
        }
    }
}
