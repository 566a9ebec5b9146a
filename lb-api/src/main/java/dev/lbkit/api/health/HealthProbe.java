package dev.lbkit.api.health;

import dev.lbkit.api.Upstream;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * One active check of one upstream, as {@link ActiveHealthPolicy} runs it every interval: a TCP connect
 * ({@link TcpConnectProbe}), an HTTP request or a DNS query (in lb-l7 and lb-dns).
 *
 * <p>Implementations are thread-safe and must not block the calling thread on I/O: they start the
 * check and return a stage that completes with its result. They should honour {@code timeout}
 * themselves; the policy also counts a probe that has not answered after {@code timeout} as failed and
 * ignores its late result. A probe's failure is reported as an unhealthy {@link ProbeResult}, not as an
 * exceptional stage (an exceptional stage counts as unhealthy too).
 */
@FunctionalInterface
public interface HealthProbe {

    /**
     * Starts checking {@code upstream}.
     *
     * @param upstream the upstream to check, never {@code null}
     * @param timeout  how long the check may take, &gt; 0
     * @return a stage completing with the result, never {@code null}
     */
    CompletionStage<ProbeResult> probe(Upstream upstream, Duration timeout);
}
