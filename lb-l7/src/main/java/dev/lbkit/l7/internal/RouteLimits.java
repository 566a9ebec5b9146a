package dev.lbkit.l7.internal;

import dev.lbkit.api.Ticker;
import dev.lbkit.l7.ConcurrencyLimit;
import dev.lbkit.l7.RequestRateLimit;
import dev.lbkit.l7.Route;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.util.List;
import java.util.function.Function;

/**
 * A route's {@link RequestRateLimit}s and {@link ConcurrencyLimit}s with their tables. Thread-safe: the
 * tables are shared by every event loop, each entry guarded by its stripe's monitor ({@link LimitTable});
 * admitting a request whose keys are in the tables allocates nothing.
 */
final class RouteLimits {
    private static final class Rate {
        final KeyReader key;
        final LimitTable table;
        final long rate;
        final long burst;
        final long delay;
        final int status;
        final boolean dryRun;

        Rate(RequestRateLimit l, LimitTable table) {
            this.key = new KeyReader(l.key());
            this.table = table;
            this.rate = l.requestsPerSecond();
            this.burst = l.burst() * 1000L;
            this.delay = l.delay() == Integer.MAX_VALUE ? Long.MAX_VALUE : l.delay() * 1000L;
            this.status = l.status();
            this.dryRun = l.dryRun();
        }
    }

    private static final class Concurrency {
        final KeyReader key;
        final LimitTable table;
        final int max;
        final int status;
        final boolean dryRun;

        Concurrency(ConcurrencyLimit l, LimitTable table) {
            this.key = new KeyReader(l.key());
            this.table = table;
            this.max = l.max();
            this.status = l.status();
            this.dryRun = l.dryRun();
        }
    }

    private final Rate[] rates;
    private final Concurrency[] concurrency;
    private final Ticker ticker;
    private final TrafficCounters counters;

    private RouteLimits(Route r, TrafficCounters counters, Function<Object, LimitTable> tables) {
        List<RequestRateLimit> rl = r.rateLimits();
        this.rates = new Rate[rl.size()];
        for (int i = 0; i < rates.length; i++) {
            rates[i] = new Rate(rl.get(i), tables.apply(rl.get(i)));
        }
        List<ConcurrencyLimit> cl = r.concurrencyLimits();
        this.concurrency = new Concurrency[cl.size()];
        for (int i = 0; i < concurrency.length; i++) {
            concurrency[i] = new Concurrency(cl.get(i), tables.apply(cl.get(i)));
        }
        // The route's pool's ticker: tests drive the buckets with a FakeTicker, as the pools' timers.
        this.ticker = r.group().pool().ticker();
        this.counters = counters;
    }

    /**
     * The limits of {@code r}, or null when it has none.
     *
     * @param tables the table of a limit (the same for the same limit instance: an nginx zone)
     */
    static RouteLimits of(Route r, TrafficCounters counters, Function<Object, LimitTable> tables) {
        return r.rateLimits().isEmpty() && r.concurrencyLimits().isEmpty() ? null
                : new RouteLimits(r, counters, tables);
    }

    /** A new table for {@code limit} (a {@link RequestRateLimit} or a {@link ConcurrencyLimit}). */
    static LimitTable newTable(Object limit) {
        return new LimitTable(limit instanceof RequestRateLimit ? ((RequestRateLimit) limit).maxKeys()
                : ((ConcurrencyLimit) limit).maxKeys());
    }

    /** How many entries {@link #admit} may hold for a request. */
    int holds() {
        return concurrency.length;
    }

    /**
     * Admits a request: the rate limits first (all checked, then all counted, as nginx's {@code limit_req}),
     * then the concurrency limits, whose entries are left in {@code held} (at least {@link #holds()} long)
     * until {@link #release}. Requests without a limit's key pass it uncounted.
     *
     * @param client the client's address, or null
     * @return the delay in ms (0: at once), or minus the status of the refusal
     */
    long admit(InetAddress client, KeySpan span, String uri, String path, boolean query, HttpHeaders h,
            LimitTable.Entry[] held) {
        long now = Math.floorDiv(ticker.nanoTime(), 1_000_000L);
        boolean dry = false;
        long dryMask = 0;
        for (int i = 0; i < rates.length; i++) {
            Rate l = rates[i];
            int hash = hash(l.key, client, span, uri, path, query, h);
            if (hash == NO_KEY) {
                dryMask |= 1L << i;
                continue;
            }
            LimitTable.Stripe s = l.table.stripe(hash);
            long e;
            synchronized (s) {
                LimitTable.Entry x = s.find(hash, address(l.key, client), span);
                e = LeakyBucket.excessAfter(x.excess, x.lastMillis, now, l.rate, l.burst);
            }
            if (e == LeakyBucket.REJECT) {
                if (!l.dryRun) {
                    counters.limitRejected.increment();
                    return -l.status;
                }
                dry = true;
                // nginx counts no request that a limit refuses, in dry run too.
                dryMask |= 1L << i;
            }
        }
        long delay = 0;
        for (int i = 0; i < rates.length; i++) {
            if ((dryMask & 1L << i) != 0) {
                continue;
            }
            Rate l = rates[i];
            int hash = hash(l.key, client, span, uri, path, query, h);
            LimitTable.Stripe s = l.table.stripe(hash);
            long e;
            synchronized (s) {
                LimitTable.Entry x = s.find(hash, address(l.key, client), span);
                e = LeakyBucket.excessAfter(x.excess, x.lastMillis, now, l.rate, Long.MAX_VALUE);
                x.excess = e;
                x.lastMillis = now;
            }
            long d = LeakyBucket.delayMillis(e, l.delay, l.rate);
            if (l.dryRun) {
                dry |= d > 0;
            } else {
                delay = Math.max(delay, d);
            }
        }
        for (int i = 0; i < concurrency.length; i++) {
            Concurrency l = concurrency[i];
            int hash = hash(l.key, client, span, uri, path, query, h);
            if (hash == NO_KEY) {
                continue;
            }
            LimitTable.Stripe s = l.table.stripe(hash);
            boolean over;
            synchronized (s) {
                LimitTable.Entry x = s.find(hash, address(l.key, client), span);
                // A full table of keys with requests in flight refuses a new key, as a full nginx zone.
                over = x == null || x.inFlight >= l.max;
                if (!over) {
                    x.inFlight++;
                    held[i] = x;
                }
            }
            if (over) {
                if (!l.dryRun) {
                    release(held);
                    counters.limitRejected.increment();
                    return -l.status;
                }
                dry = true;
            }
        }
        if (dry) {
            counters.limitDryRun.increment();
        }
        if (delay > 0) {
            counters.limitDelayed.increment();
        }
        return delay;
    }

    /** Gives back the entries {@link #admit} left in {@code held}, and clears it. */
    static void release(LimitTable.Entry[] held) {
        for (int i = 0; i < held.length; i++) {
            LimitTable.Entry x = held[i];
            if (x != null) {
                held[i] = null;
                synchronized (x.stripe) {
                    x.inFlight--;
                }
            }
        }
    }

    /** A hash no key has: {@link #hash} returns it for a request without the key. */
    private static final int NO_KEY = 0;

    /** The request's key's hash (never {@link #NO_KEY}), the text read into {@code span}; NO_KEY without a key. */
    private static int hash(KeyReader k, InetAddress client, KeySpan span, String uri, String path, boolean query,
            HttpHeaders h) {
        int hash;
        if (k.kind == dev.lbkit.l7.HashKey.Kind.CLIENT_ADDRESS) {
            if (client == null) {
                return NO_KEY;
            }
            hash = LimitTable.hash(client);
        } else {
            if (!k.read(span, uri, path, query, h)) {
                return NO_KEY;
            }
            hash = LimitTable.hash(span);
        }
        return hash == NO_KEY ? 1 : hash;
    }

    private static InetAddress address(KeyReader k, InetAddress client) {
        return k.kind == dev.lbkit.l7.HashKey.Kind.CLIENT_ADDRESS ? client : null;
    }
}
