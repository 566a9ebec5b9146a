package dev.lbkit.examples.support;

import dev.lbkit.admin.AdminServer;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts lb-admin for the l4, l7 and dns commands: the live stats page at {@code /}, the state as JSON
 * under {@code /api/v1/}, and with {@code --admin-token} the runtime API (drain, ready, weight, add,
 * remove). Without a token the API is read-only.
 */
public final class StatsPage {
    private static final Logger log = LoggerFactory.getLogger(StatsPage.class);

    /** The help of the {@code --admin-token} option, the same in every command. */
    public static final String TOKEN_HELP = "bearer token that enables the admin API's changes "
            + "(drain, ready, maint, weight, add, remove); none = read-only";

    private StatsPage() {}

    /**
     * Unless {@code --admin none}, starts lb-admin on {@code --admin} with the tiers {@code configure} adds,
     * owned by {@code running} under the address name {@code admin}.
     *
     * @throws StartException naming the address if it cannot be bound
     */
    public static void start(String what, Cli.Args args, Running running, UnaryOperator<AdminServer.Builder> configure) {
        Optional<InetSocketAddress> at = args.addressOrNone("admin");
        if (at.isEmpty()) {
            return;
        }
        AdminServer.Builder b = AdminServer.builder().listen(at.get());
        args.optional("admin-token").filter(t -> !t.equalsIgnoreCase("none")).ifPresent(b::token);
        configure.apply(b);
        AdminServer admin = running.own(Addresses.bind(what + " admin", at.get(), () -> b.build().start()));
        running.address("admin", admin.address());
        log.info("{}: stats page on {} ({})", what, admin.url(),
                admin.changesEnabled() ? "changes need the --admin-token" : "read-only: no --admin-token");
    }
}
