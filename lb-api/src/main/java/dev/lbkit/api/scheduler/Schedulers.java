package dev.lbkit.api.scheduler;

import dev.lbkit.api.internal.Checks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The registry of scheduler providers by name: lbkit's built-ins ({@code rr}, {@code wrr}, {@code lc},
 * {@code wlc}, {@code sed}, {@code nq}, {@code sh}, {@code dh}, {@code mh}, {@code ring}, {@code random},
 * {@code p2c}, {@code fo}) and whatever {@link ServiceLoader} finds on the class path, plus providers
 * {@linkplain #register registered} by hand.
 *
 * <p>Any scheduler can be wrapped in client {@linkplain PersistentScheduler persistence} through
 * options, as {@code ipvsadm -p}: {@code persist} (timeout, seconds or ISO-8601, such as {@code 300}),
 * {@code persist-v4-prefix} (0..32, default 32), {@code persist-v6-prefix} (0..128, default 128) and
 * {@code persist-max-entries} (default {@value PersistentScheduler#DEFAULT_MAX_ENTRIES}) and
 * {@code persist-expire-quiescent} ({@code 0}, the default, or {@code 1}: IPVS's
 * {@code expire_quiescent_template}, {@link PersistentScheduler.Builder#expireQuiescentTemplate}); for
 * example {@code "wlc:persist=300,persist-v4-prefix=24"}.
 *
 * <p>Thread-safe. The class path is scanned once, on first use.
 */
public final class Schedulers {
    private static final String PERSIST = "persist";
    private static final String PERSIST_V4 = "persist-v4-prefix";
    private static final String PERSIST_V6 = "persist-v6-prefix";
    private static final String PERSIST_MAX = "persist-max-entries";
    private static final String PERSIST_QUIESCENT = "persist-expire-quiescent";
    private static final Object LOCK = new Object();
    private static volatile Map<String, SchedulerProvider> providers;

    private Schedulers() {}

    /**
     * A new scheduler with default options.
     *
     * @throws IllegalArgumentException for an unknown name; the message lists the known ones
     */
    public static Scheduler get(String name) {
        return get(name, SchedulerOptions.NONE);
    }

    /**
     * A new scheduler with options. The {@code persist*} options (see the class comment) are handled here
     * and wrap the scheduler in a {@link PersistentScheduler}; the rest go to the provider.
     *
     * @throws IllegalArgumentException for an unknown name (listing the known ones) or a bad option
     */
    public static Scheduler get(String name, SchedulerOptions options) {
        Objects.requireNonNull(options, "options");
        SchedulerProvider p = provider(name);
        if (!options.has(PERSIST) && !options.has(PERSIST_V4) && !options.has(PERSIST_V6) && !options.has(PERSIST_MAX)
                && !options.has(PERSIST_QUIESCENT)) {
            return p.newScheduler(options);
        }
        if (!options.has(PERSIST)) {
            throw new IllegalArgumentException("scheduler option " + PERSIST + " (the timeout) is required with "
                    + options.asMap().keySet());
        }
        Duration timeout = options.getDuration(PERSIST, PersistentScheduler.DEFAULT_TIMEOUT);
        Scheduler inner = p.newScheduler(options.without(PERSIST, PERSIST_V4, PERSIST_V6, PERSIST_MAX, PERSIST_QUIESCENT));
        return PersistentScheduler.builder(inner)
                .timeout(timeout)
                .ipv4PrefixLength(options.getInt(PERSIST_V4, 32))
                .ipv6PrefixLength(options.getInt(PERSIST_V6, 128))
                .maxEntries(options.getInt(PERSIST_MAX, PersistentScheduler.DEFAULT_MAX_ENTRIES))
                .expireQuiescentTemplate(Checks.inRange(options.getInt(PERSIST_QUIESCENT, 0), 0, 1,
                        "scheduler option " + PERSIST_QUIESCENT) == 1)
                .build();
    }

    /**
     * Parses {@code name} or {@code name:key=value,key=value} (the form the examples' {@code --scheduler}
     * option takes) and returns a new scheduler.
     */
    public static Scheduler parse(String spec) {
        Objects.requireNonNull(spec, "spec");
        int colon = spec.indexOf(':');
        return colon < 0 ? get(spec.trim())
                : get(spec.substring(0, colon).trim(), SchedulerOptions.parse(spec.substring(colon + 1)));
    }

    /**
     * The provider registered under {@code name}.
     *
     * @throws IllegalArgumentException for an unknown name; the message lists the known ones
     */
    public static SchedulerProvider provider(String name) {
        Objects.requireNonNull(name, "name");
        SchedulerProvider p = providers().get(name);
        if (p == null) {
            throw new IllegalArgumentException("unknown scheduler '" + name + "'; known: " + String.join(", ", names()));
        }
        return p;
    }

    /** Every registered name, sorted. */
    public static List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(providers().keySet()));
    }

    /**
     * Registers a provider. It replaces one of the same name only if its priority is higher, or equal
     * (a provider registered by hand wins a tie over one found on the class path).
     */
    public static void register(SchedulerProvider provider) {
        Objects.requireNonNull(provider, "provider");
        synchronized (LOCK) {
            TreeMap<String, SchedulerProvider> m = new TreeMap<>(providers());
            add(m, provider, true);
            providers = Collections.unmodifiableMap(m);
        }
    }

    private static Map<String, SchedulerProvider> providers() {
        Map<String, SchedulerProvider> p = providers;
        if (p == null) {
            synchronized (LOCK) {
                p = providers;
                if (p == null) {
                    TreeMap<String, SchedulerProvider> m = new TreeMap<>();
                    ClassLoader cl = Schedulers.class.getClassLoader();
                    for (SchedulerProvider sp : ServiceLoader.load(SchedulerProvider.class, cl)) {
                        add(m, sp, false);
                    }
                    if (Thread.currentThread().getContextClassLoader() != cl) {
                        for (SchedulerProvider sp : ServiceLoader.load(SchedulerProvider.class)) {
                            add(m, sp, false);
                        }
                    }
                    p = Collections.unmodifiableMap(m);
                    providers = p;
                }
            }
        }
        return p;
    }

    private static void add(Map<String, SchedulerProvider> m, SchedulerProvider p, boolean winsTie) {
        if (!p.isAvailable()) {
            return;
        }
        String name = Objects.requireNonNull(p.name(), "provider name");
        SchedulerProvider old = m.get(name);
        if (old == null || p.priority() > old.priority() || winsTie && p.priority() == old.priority()) {
            m.put(name, p);
        }
    }
}
