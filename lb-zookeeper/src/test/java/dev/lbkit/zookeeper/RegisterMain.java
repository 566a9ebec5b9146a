package dev.lbkit.zookeeper;

import dev.lbkit.api.Upstream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;

/** Run in a child JVM by the tests: registers one instance with a 2 s session and serves until killed. */
public final class RegisterMain {
    private RegisterMain() {}

    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder().connectString(args[0]).sessionTimeoutMs(2000)
                .connectionTimeoutMs(2000).retryPolicy(new RetryOneTime(100)).build();
        client.start();
        ZooKeeperRegistration.builder(client, args[1], Upstream.of("127.0.0.1", Integer.parseInt(args[2]))).register();
        System.out.println("registered");
        System.out.flush();
        Thread.sleep(60_000);
    }
}
