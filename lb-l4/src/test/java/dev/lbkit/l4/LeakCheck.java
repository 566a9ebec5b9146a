package dev.lbkit.l4;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * After every test: no leaked ByteBuf (Netty's detector at PARANOID reports into {@link Resources})
 * and the open file descriptors of the process back to their count before the test (small slack for
 * descriptors closed asynchronously by the JDK).
 */
final class LeakCheck implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LeakCheck.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        Resources.install();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("fds", Resources.snapshotFds());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Resources.assertNoLeaks();
        Integer before = context.getStore(NS).get("fds", Integer.class);
        Resources.assertFdsBackTo(before, 2);
    }
}
