package dev.lbkit.l7;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test class's shared proxy (register it as a static {@code @RegisterExtension} field): before all its
 * tests, a {@link TestBackend} running a script, a pool of it and the balancer a function builds on that
 * pool; after them, all three closed.
 */
final class ProxiedBackend implements BeforeAllCallback, AfterAllCallback {
    private final Script script;
    private final Function<UpstreamPool, HttpBalancer> balancer;
    private TestBackend backend;
    private UpstreamPool pool;
    private HttpBalancer lb;

    ProxiedBackend(Script script, Function<UpstreamPool, HttpBalancer> balancer) {
        this.script = script;
        this.balancer = balancer;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        backend = TestBackend.start(script);
        pool = UpstreamPool.of(Fixtures.upstream(backend.port()));
        lb = balancer.apply(pool);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        lb.close();
        pool.close();
        backend.close();
    }

    TestBackend backend() {
        return backend;
    }

    UpstreamPool pool() {
        return pool;
    }

    HttpBalancer lb() {
        return lb;
    }
}
