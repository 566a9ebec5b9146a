package dev.lbkit.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.Member;
import dev.lbkit.api.UpstreamPool;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The HAProxy health counter of {@link ActiveHealthPolicy} against the rule it implements, stated as
 * runs: {@code fall} failed checks in a row take an upstream down, {@code rise} passed checks in a row
 * bring it up, and an upstream that has not passed a check yet goes down at its first failure.
 */
class ActiveHealthProperties {

    @Property(tries = 200)
    void verdictsFollowRunsOfRiseAndFall(
            @ForAll @IntRange(min = 1, max = 4) int rise,
            @ForAll @IntRange(min = 1, max = 4) int fall,
            @ForAll @Size(max = 40) List<Boolean> results) throws Exception {
        AtomicBoolean next = new AtomicBoolean();
        HealthProbe scripted = (u, t) -> CompletableFuture.completedFuture(
                new ProbeResult(next.get(), Duration.ZERO, next.get() ? "pass" : "fail"));
        ActiveHealthPolicy policy = ActiveHealthPolicy.builder(scripted).interval(Duration.ofHours(1))
                .rise(rise).fall(fall).build();
        UpstreamPool pool = UpstreamPool.builder().healthPolicy(policy).add("127.0.0.1", 1).build();
        Member m = pool.snapshot().members().get(0);
        boolean up = true;
        boolean passedOnce = false;
        int passes = 0;
        int fails = 0;
        try {
            for (boolean pass : results) {
                next.set(pass);
                policy.checkNow().toCompletableFuture().get(5, TimeUnit.SECONDS);
                if (pass) {
                    passes++;
                    fails = 0;
                    passedOnce = true;
                    if (!up && passes >= rise) {
                        up = true;
                    }
                } else {
                    fails++;
                    passes = 0;
                    if (up && (!passedOnce || fails >= fall)) {
                        up = false;
                    }
                }
                assertEquals(!up, m.isCheckDown(), "after " + results);
                assertEquals(up, policy.status(m).orElseThrow().up());
            }
        } finally {
            pool.close();
        }
    }
}
