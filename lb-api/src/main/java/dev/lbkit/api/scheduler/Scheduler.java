package dev.lbkit.api.scheduler;

import dev.lbkit.api.Member;
import java.util.List;

/**
 * A scheduling policy for one pool, such as round robin or Maglev hashing.
 *
 * <p>As gRPC-java's {@code LoadBalancer} publishes immutable pickers, a scheduler reacts to changes and
 * the hot path only calls the current {@link Picker}: the pool calls {@link #newPicker(List)} for each
 * tier whenever its membership, weights or admin state change. State that must survive those rebuilds
 * (a round-robin cursor) lives on the scheduler.
 *
 * <p>A scheduler instance belongs to one pool. {@code newPicker} is called under the pool's update lock,
 * never concurrently with itself; the pickers it returns are used concurrently.
 */
public interface Scheduler {

    /** The name this scheduler is registered under, for example {@code "wrr"}. */
    String name();

    /**
     * Builds the picker for one tier.
     *
     * @param members the tier's members in pool order, unmodifiable, possibly empty
     */
    Picker newPicker(List<Member> members);
}
