package dev.lbkit.examples;

import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Command;
import dev.lbkit.examples.support.Durations;
import dev.lbkit.examples.support.Running;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seed's slow server (Task 4): accepts, reads the request, sleeps {@code --delay} (1000 s), then
 * answers HTTP/1.0 200 with backend 1's page, no {@code Content-Length}, closing the connection. A proxy
 * with a 1 s read timeout sees it as a timeout on every request.
 *
 * <p>Parts: {@code slow-backend} (a {@link TestBackend}) with address {@code slow-backend}.
 */
public final class SlowBackendCommand implements Command {
    private static final Logger log = LoggerFactory.getLogger(SlowBackendCommand.class);

    private static final Cli.Spec SPEC = Cli.Spec.of("slow-backend",
                    "The seed's slow server: reads each request and waits before answering.")
            .option("listen", "HOST:PORT", "127.0.0.1:8081", "address to listen on")
            .option("delay", "DURATION", "1000s", "how long to wait before answering");

    /** The seed's slow answer after {@code delay}: what its {@code SlowHandler} writes. */
    public static Script slowScript(Duration delay) {
        return Script.builder().http10().closeDelimited()
                .header("Server", "BaseHTTP/0.6 Python/3.12.3")
                .header("Content-type", "text/html")
                .body(Seed.SLOW_PAGE)
                .delay(delay)
                .build();
    }

    @Override
    public Cli.Spec spec() {
        return SPEC;
    }

    @Override
    public Running start(Cli.Args args) {
        InetSocketAddress bind = args.address("listen");
        Duration delay = args.duration("delay");
        Running running = new Running("slow-backend");
        TestBackend backend = running.own(
                Addresses.bind("slow backend", bind, () -> TestBackend.start(bind, slowScript(delay))));
        running.address("slow-backend", backend.address());
        running.part("slow-backend", backend);
        log.info("slow backend listening on http://{}/ (answers after {})", Addresses.format(backend.address()),
                Durations.format(delay));
        return running;
    }
}
