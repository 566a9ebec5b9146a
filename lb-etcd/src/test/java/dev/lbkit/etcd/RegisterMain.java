package dev.lbkit.etcd;

import dev.lbkit.api.Upstream;
import io.etcd.jetcd.Client;
import java.time.Duration;

/** Run in a child JVM by the tests: registers one upstream with a 2 s lease and serves until killed. */
public final class RegisterMain {
    private RegisterMain() {}

    public static void main(String[] args) throws Exception {
        Client client = Client.builder().endpoints(args[0]).build();
        EtcdRegistration.builder(client, args[1], Upstream.of("127.0.0.1", Integer.parseInt(args[2])))
                .ttl(Duration.ofSeconds(2)).requestTimeout(Duration.ofSeconds(10)).register();
        System.out.println("registered");
        System.out.flush();
        Thread.sleep(60_000);
    }
}
