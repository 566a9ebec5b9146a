package dev.lbkit.examples;

import dev.lbkit.examples.support.Addresses;
import dev.lbkit.examples.support.Cli;
import dev.lbkit.examples.support.Command;
import dev.lbkit.examples.support.Running;
import dev.lbkit.testing.Script;
import dev.lbkit.testing.TestBackend;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task 1 of the seed: two static HTTP servers answering like {@code python3 -m http.server} serving one
 * {@code index.html} each: HTTP/1.0, {@code Content-type}, {@code Content-Length} and {@code Last-Modified}
 * headers, the connection closed after the body. {@code --keep-alive} answers HTTP/1.1 and keeps the
 * connection, for tiers that pool upstream connections. Every path gets the page (python answers 404 for
 * paths other than {@code /} and {@code /index.html}): load generators may vary the path.
 *
 * <p>Parts: {@code backend-N} (a {@link TestBackend}) with address {@code backend-N}, N from 1.
 */
public final class BackendsCommand implements Command {
    private static final Logger log = LoggerFactory.getLogger(BackendsCommand.class);

    private static final Cli.Spec SPEC = Cli.Spec.of("backends",
                    "Task 1: static HTTP backends serving the seed's two pages like python3 -m http.server.")
            .option("ports", "P1,P2,...", "8081,8082", "ports, one backend each (port N serves page N; 0 = ephemeral)")
            .option("host", "ADDRESS", "127.0.0.1", "address to listen on")
            .flag("keep-alive", "answer HTTP/1.1 and keep connections open (default: HTTP/1.0, close after body)")
            .option("body", "TEXT", null, "serve TEXT on every port instead of the seed's pages");

    @Override
    public Cli.Spec spec() {
        return SPEC;
    }

    @Override
    public Running start(Cli.Args args) {
        InetAddress host = args.host("host");
        List<Integer> ports = args.ports("ports");
        boolean keepAlive = args.flag("keep-alive");
        String body = args.optional("body").orElse(null);
        Running running = new Running("backends");
        try {
            for (int i = 0; i < ports.size(); i++) {
                int n = i + 1;
                String page = body != null ? body : Seed.page(n);
                Script script = keepAlive
                        ? Script.builder().body(page).pythonHeaders(true).build()
                        : Script.pythonHttpServer(page);
                InetSocketAddress bind = new InetSocketAddress(host, ports.get(i));
                TestBackend backend = running.own(
                        Addresses.bind("backend " + n, bind, () -> TestBackend.start(bind, script)));
                running.address("backend-" + n, backend.address());
                running.part("backend-" + n, backend);
                log.info("backend {} listening on http://{}/ ({}, {} bytes)", n, Addresses.format(backend.address()),
                        keepAlive ? "HTTP/1.1 keep-alive" : "HTTP/1.0, closed after the body", page.length());
            }
            return running;
        } catch (RuntimeException e) {
            running.close();
            throw e;
        }
    }
}
