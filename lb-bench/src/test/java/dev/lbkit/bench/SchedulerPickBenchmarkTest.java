package dev.lbkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** Proves the scheduler benchmark works for every scheduler and size, without measuring anything. */
class SchedulerPickBenchmarkTest {

    static {
        // The in-process run only proves that the benchmark works: a JMH run elsewhere on the machine
        // (a real measurement, another module's smoke test) must not fail it on JMH's global lock file.
        System.setProperty("jmh.ignoreLock", "true");
    }

    @Test
    void everyParameterCombinationPicksAvailableUpstreams() throws Exception {
        String[] schedulers = SchedulerPickBenchmark.class.getField("scheduler").getAnnotation(Param.class).value();
        String[] sizes = SchedulerPickBenchmark.class.getField("size").getAnnotation(Param.class).value();
        assertEquals(14, schedulers.length);
        for (String s : schedulers) {
            for (String size : sizes) {
                SchedulerPickBenchmark b = new SchedulerPickBenchmark();
                b.scheduler = s;
                b.size = Integer.parseInt(size);
                b.setUp();
                Set<Member> seen = new HashSet<>();
                for (int i = 0; i < 2048; i++) {
                    Member m = b.pick();
                    assertNotNull(m, s + "/" + size);
                    seen.add(m);
                }
                assertTrue(b.pool().snapshot().members().containsAll(seen));
                // Least-load schedulers and fo stay on one upstream while the load does not change,
                // and so does p2c between two upstreams.
                if (!Set.of("lc", "wlc", "sed", "nq", "fo").contains(s) && !(s.equals("p2c") && b.size == 2)) {
                    assertTrue(seen.size() > 1, s + "/" + size + " spread over " + seen.size());
                }
            }
        }
    }

    @Test
    void jmhRunsTheBenchmarkInProcess() throws Exception {
        Options options = new OptionsBuilder()
                .include("^" + SchedulerPickBenchmark.class.getName().replace(".", "\\.") + "\\.pick$")
                .param("scheduler", "wrr")
                .param("size", "16")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(200))
                .timeUnit(TimeUnit.NANOSECONDS)
                .shouldFailOnError(true)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        assertEquals(1, results.size());
        double score = results.iterator().next().getPrimaryResult().getScore();
        assertFalse(Double.isNaN(score));
        assertTrue(score > 0, "ns/op " + score);
    }
}
