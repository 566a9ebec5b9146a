package dev.lbkit.examples.support;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.resolve.CoalescingResolver;
import dev.lbkit.etcd.EtcdResolver;
import dev.lbkit.xds.XdsResolver;
import dev.lbkit.zookeeper.ZooKeeperResolver;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code --discovery} option of the {@code l4} and {@code l7} commands: a pool follows the store the
 * URI names ({@code zk://host:port/path}, {@code etcd://host:port/prefix} or {@code xds://host:port/cluster})
 * instead of keeping its static upstreams, which serve until the store's first complete read. Thread-safe
 * (stateless).
 */
public final class Discovery {
    private static final Logger log = LoggerFactory.getLogger(Discovery.class);

    /** The option's help text. */
    public static final String HELP = "follow the upstreams of zk://HOST:PORT/PATH, etcd://HOST:PORT/PREFIX or "
            + "xds://HOST:PORT/CLUSTER (they replace the static ones once read)";

    /** How long a command waits for the store's first read before it serves with the static upstreams. */
    static final Duration FIRST_READ_WAIT = Duration.ofSeconds(5);

    private Discovery() {}

    /**
     * Makes {@code pool} follow the store named by option {@code name} unless it is {@code none}; the
     * resolver is owned by {@code running}. Waits up to 5 s for the first read.
     *
     * @throws Cli.UsageException if the URI is not one of the three forms
     */
    public static Optional<CoalescingResolver> follow(Cli.Args args, String name, UpstreamPool pool, Running running) {
        String text = args.value(name);
        if (text.equals("none")) {
            return Optional.empty();
        }
        CoalescingResolver resolver = running.own(resolver(args, name, text));
        pool.follow(resolver);
        try {
            resolver.whenReady().get(FIRST_READ_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            log.info("{}: following {} ({} upstreams)", args.spec().command(), text, pool.snapshot().size());
        } catch (TimeoutException e) {
            log.warn("{}: {} not read within {}, serving the static upstreams until it is", args.spec().command(), text,
                    Durations.format(FIRST_READ_WAIT));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            log.warn("{}: {} failed: {}", args.spec().command(), text, e.getCause().toString());
        }
        return Optional.of(resolver);
    }

    static CoalescingResolver resolver(Cli.Args args, String name, String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw args.usage(name, "must be a zk://, etcd:// or xds:// URI, got '" + text + "'");
        }
        String scheme = String.valueOf(uri.getScheme()).toLowerCase(java.util.Locale.ROOT);
        try {
            return switch (scheme) {
                case "zk" -> ZooKeeperResolver.builder(uri).build();
                case "etcd" -> EtcdResolver.builder(uri).build();
                case "xds" -> XdsResolver.builder(uri).build();
                default -> throw args.usage(name, "must be a zk://, etcd:// or xds:// URI, got '" + text + "'");
            };
        } catch (IllegalArgumentException e) {
            throw args.usage(name, e.getMessage());
        }
    }
}
