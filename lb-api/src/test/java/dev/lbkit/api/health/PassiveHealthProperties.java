package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.NanoTimes;
import dev.lbkit.api.scheduler.PickContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/**
 * {@link PassiveHealthPolicy} in nginx mode against a plain sequential model of nginx's round-robin
 * code ({@code ngx_http_upstream_get_peer}, {@code ngx_http_upstream_free_round_robin_peer} and the
 * "all peers failed" path of {@code ngx_http_upstream_get_round_robin_peer}), under any interleaving of
 * picks, outcomes and clock steps.
 */
class PassiveHealthProperties {
    private static final long FAIL_TIMEOUT = 10;

    enum Kind { PICK, SUCCESS, FAILURE, STEP }

    record Action(Kind kind, long arg) {}

    @Property(tries = 300)
    void nginxModeMatchesTheReferenceModel(
            @ForAll @IntRange(min = 1, max = 4) int primaries,
            @ForAll @IntRange(min = 0, max = 2) int backups,
            @ForAll @IntRange(min = 0, max = 3) int maxFails,
            @ForAll("starts") long start,
            @ForAll("actions") @Size(max = 120) List<Action> actions) {
        ManualTicker ticker = new ManualTicker(start);
        PassiveHealthPolicy policy = PassiveHealthPolicy.builder()
                .maxFails(maxFails).failTimeout(Duration.ofNanos(FAIL_TIMEOUT)).build();
        UpstreamPool.Builder b = UpstreamPool.builder().ticker(ticker).healthPolicy(policy);
        for (int i = 0; i < primaries; i++) {
            b.add(Upstream.of("127.0.0.1", 1000 + i));
        }
        for (int i = 0; i < backups; i++) {
            b.add(Upstream.builder("127.0.0.1", 2000 + i).backup(true).build());
        }
        UpstreamPool pool = b.build();
        List<Member> members = pool.snapshot().members();
        NginxModel model = new NginxModel(primaries, backups, maxFails, FAIL_TIMEOUT);
        List<Integer> inFlight = new ArrayList<>();

        for (Action a : actions) {
            long now = ticker.nanoTime();
            switch (a.kind()) {
                case STEP -> ticker.advance(a.arg());
                case PICK -> {
                    Member m = pool.pick(new PickContext());
                    int firstEligible = model.firstEligibleTier(now);
                    if (firstEligible < 0) {
                        assertNull(m, "nginx has no live upstream, lbkit picked " + m);
                        model.exhausted();
                    } else {
                        assertNotNull(m, "nginx has a live upstream, lbkit picked none");
                        int i = members.indexOf(m);
                        assertTrue(model.eligible(i, now), "lbkit picked " + m + " which nginx skips");
                        assertEquals(firstEligible, model.tier(i), "picked from the wrong tier");
                        model.picked(i, now);
                        inFlight.add(i);
                    }
                }
                case SUCCESS, FAILURE -> {
                    if (!inFlight.isEmpty()) {
                        int i = inFlight.remove((int) (a.arg() % inFlight.size()));
                        boolean failed = a.kind() == Kind.FAILURE;
                        pool.report(members.get(i), failed ? Outcome.TIMEOUT : Outcome.SUCCESS);
                        if (failed) {
                            model.failure(i, now);
                        } else {
                            model.success(i);
                        }
                    }
                }
            }
            long t = ticker.nanoTime();
            for (int i = 0; i < members.size(); i++) {
                assertEquals(model.eligible(i, t), members.get(i).isAvailable(t),
                        "availability of " + members.get(i) + " after " + a);
                if (!model.single() && maxFails != 0) {
                    assertEquals(model.fails[i], policy.failures(members.get(i)), "fails of " + members.get(i) + " after " + a);
                }
            }
        }
    }

    @Provide
    Arbitrary<Long> starts() {
        // Ticker readings are only meaningful as differences: include the wrap-around.
        return Arbitraries.of(0L, -1_000L, 123_456_789L, Long.MAX_VALUE - 300, Long.MAX_VALUE - 9, Long.MIN_VALUE);
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Long> steps = Arbitraries.oneOf(
                Arbitraries.of(0L, 1L, FAIL_TIMEOUT - 1, FAIL_TIMEOUT, FAIL_TIMEOUT + 1),
                Arbitraries.longs().between(0, 3 * FAIL_TIMEOUT));
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(new Action(Kind.PICK, 0))),
                Tuple.of(2, Arbitraries.longs().between(0, 7).map(i -> new Action(Kind.SUCCESS, i))),
                Tuple.of(3, Arbitraries.longs().between(0, 7).map(i -> new Action(Kind.FAILURE, i))),
                Tuple.of(2, steps.map(s -> new Action(Kind.STEP, s))));
        return action.list().ofMaxSize(120);
    }

    @Property(tries = 50)
    void slidingModeEjectsExactlyWhileMaxFailsFailuresAreInTheWindow(
            @ForAll @IntRange(min = 1, max = 4) int maxFails,
            @ForAll @Size(max = 60) List<@LongRange(min = 0, max = 25) Long> gaps) {
        ManualTicker ticker = new ManualTicker(-500);
        PassiveHealthPolicy policy = PassiveHealthPolicy.builder().maxFails(maxFails)
                .failTimeout(Duration.ofNanos(FAIL_TIMEOUT)).windowMode(PassiveHealthPolicy.WindowMode.SLIDING).build();
        UpstreamPool pool = UpstreamPool.builder().ticker(ticker).healthPolicy(policy)
                .add(Upstream.of("127.0.0.1", 1)).add(Upstream.of("127.0.0.1", 2)).build();
        Member m = pool.snapshot().members().get(0);
        List<Long> failures = new ArrayList<>();
        for (long gap : gaps) {
            ticker.advance(gap);
            long now = ticker.nanoTime();
            if (gap % 3 == 0) {
                pool.report(m, Outcome.SUCCESS);
            } else {
                pool.report(m, Outcome.CONNECT_FAILURE);
                failures.add(now);
            }
            long inWindow = failures.stream().filter(f -> now - f <= FAIL_TIMEOUT).count();
            assertEquals(inWindow < maxFails, m.isAvailable(now), "failures " + failures + " at " + now);
        }
    }

    /** nginx's per-peer fields and rules, sequential, with nginx's names. */
    static final class NginxModel {
        final int primaries;
        final int backups;
        final int maxFails;
        final long failTimeout;
        final int[] fails;
        final long[] accessed;
        final long[] checked;
        // nginx starts both at 0, that is, 1970: longer ago than any fail_timeout. lbkit keeps "never" as
        // Long.MIN_VALUE, so a reading of exactly that value is stored 1 ns later (NanoTimes.stamp).
        final boolean[] accessedSet;
        final boolean[] checkedSet;

        NginxModel(int primaries, int backups, int maxFails, long failTimeout) {
            this.primaries = primaries;
            this.backups = backups;
            this.maxFails = maxFails;
            this.failTimeout = failTimeout;
            int n = primaries + backups;
            fails = new int[n];
            accessed = new long[n];
            checked = new long[n];
            accessedSet = new boolean[n];
            checkedSet = new boolean[n];
        }

        boolean single() {
            return primaries == 1 && backups == 0;
        }

        int tier(int i) {
            return i < primaries ? 0 : 1;
        }

        /** ngx_http_upstream_get_peer's skip test (the single path does not test at all). */
        boolean eligible(int i, long now) {
            if (single()) {
                return true;
            }
            return !(maxFails != 0 && fails[i] >= maxFails && checkedSet[i] && now - checked[i] <= failTimeout);
        }

        /** 0 or 1: the first tier with an eligible peer; -1 if none ("no live upstreams"). */
        int firstEligibleTier(long now) {
            for (int i = 0; i < primaries + backups; i++) {
                if (eligible(i, now)) {
                    return tier(i);
                }
            }
            return -1;
        }

        void picked(int i, long now) {
            if (single()) {
                return;
            }
            if (!checkedSet[i] || now - checked[i] > failTimeout) {
                checked[i] = NanoTimes.stamp(now);
                checkedSet[i] = true;
            }
        }

        void failure(int i, long now) {
            if (single()) {
                return;
            }
            fails[i]++;
            accessed[i] = NanoTimes.stamp(now);
            accessedSet[i] = true;
            checked[i] = NanoTimes.stamp(now);
            checkedSet[i] = true;
        }

        void success(int i) {
            if (single()) {
                return;
            }
            if (checkedSet[i] && (!accessedSet[i] || accessed[i] - checked[i] < 0)) {
                fails[i] = 0;
            }
        }

        /** "all peers failed, mark them as live for quick recovery". */
        void exhausted() {
            Arrays.fill(fails, 0);
        }
    }
}
