package dev.lbkit.api.scheduler;

/**
 * Makes schedulers of one name. Found on the class path with {@link java.util.ServiceLoader} (list the
 * class in {@code META-INF/services/dev.lbkit.api.scheduler.SchedulerProvider}) or registered by hand
 * with {@link Schedulers#register(SchedulerProvider)}; where two providers share a name, the available
 * one of highest {@link #priority()} wins, as in gRPC-java's {@code LoadBalancerRegistry}.
 *
 * <p>Providers are stateless and thread-safe; the schedulers they make are not shared between pools.
 * A provider class must be public with a public no-argument constructor.
 */
public interface SchedulerProvider {

    /** The scheduler's name, such as {@code "rr"}; lower case by convention. */
    String name();

    /** Higher wins among providers of one name; lbkit's built-ins use 5. Range 0..10. */
    default int priority() {
        return 5;
    }

    /** Whether this provider can work here (say, a native library is present). */
    default boolean isAvailable() {
        return true;
    }

    /** A one-line description for listings and {@code --help}. */
    default String description() {
        return name();
    }

    /**
     * A new scheduler for one pool.
     *
     * @throws IllegalArgumentException naming the option when an option is unknown or bad
     */
    Scheduler newScheduler(SchedulerOptions options);
}
