package dev.lbkit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.internal.Json;
import dev.lbkit.l4.L4Balancer;
import dev.lbkit.l4.RealServer;
import dev.lbkit.l4.VirtualServer;
import dev.lbkit.l4.VirtualService;
import dev.lbkit.testing.EchoServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class L4TierTest {
    private static final String TOKEN = "token-for-the-l4-test";
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    static void echoOnce(InetSocketAddress to) throws Exception {
        try (Socket s = new Socket(to.getAddress(), to.getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("ping\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            assertEquals("ping\n", new String(in.readNBytes(5), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void showsServicesRealServersAndIpvsadmAndAddsThroughTheService() throws Exception {
        try (EchoServer e1 = EchoServer.echo(); EchoServer e2 = EchoServer.echo(); EchoServer e3 = EchoServer.echo();
                L4Balancer l4 = L4Balancer.builder().build()) {
            VirtualServer vs = l4.addService(VirtualService.tcp(LOOPBACK).scheduler("rr")
                    .realServer(e1.address()).realServer(e2.address()).build());
            try (AdminServer admin = AdminServer.builder().listen(LOOPBACK).token(TOKEN).l4("ipvs", l4).build().start()) {
                for (int i = 0; i < 4; i++) {
                    echoOnce(vs.localAddress());
                }
                AdminClient api = new AdminClient(admin);
                HttpResponse<String> ln = api.get("/ipvs");
                assertEquals(200, ln.statusCode());
                assertTrue(ln.body().startsWith("IP Virtual Server version"), ln.body());
                assertTrue(ln.body().contains("-> 127.0.0.1:" + e1.port()), ln.body());
                assertTrue(api.get("/ipvs?stats").body().contains("InBytes"));
                assertTrue(api.get("/ipvs?rate").body().contains("CPS"));
                assertEquals(dev.lbkit.l4.IpvsRules.save(l4), api.get("/ipvs?save").body(), "ipvsadm -Sn");

                String name = "tcp:127.0.0.1:" + vs.localAddress().getPort();
                Map<String, Object> s = Json.parseSimpleObject(api.get("/api/v1/state").body());
                Map<?, ?> p = (Map<?, ?>) ((List<?>) s.get("pools")).get(0);
                assertEquals(name, p.get("name"));
                long conns = 0;
                for (Object o : (List<?>) p.get("upstreams")) {
                    conns += (Long) ((Map<?, ?>) ((Map<?, ?>) o).get("traffic")).get("connections");
                }
                assertEquals(4, conns);
                Map<?, ?> tier = (Map<?, ?>) ((List<?>) s.get("tiers")).get(0);
                assertEquals("l4", tier.get("kind"));
                assertTrue(((String) tier.get("text")).contains("IP Virtual Server"));
                List<?> columns = (List<?>) tier.get("columns");
                List<?> row = (List<?>) ((List<?>) tier.get("rows")).get(0);
                assertEquals(columns.size(), row.size(), row.toString());
                assertEquals(0L, row.get(columns.indexOf("malformed PROXY")));
                assertEquals(0L, row.get(columns.indexOf("nodest dropped")));

                String base = "/api/v1/pools/" + name + "/upstreams";
                HttpResponse<String> added = api.post(base, TOKEN, "{\"host\":\"127.0.0.1\",\"port\":" + e3.port() + ",\"weight\":2}");
                assertEquals(201, added.statusCode());
                // The answer is the new upstream, found under the name the API gives the service's pool.
                Map<String, Object> a = Json.parseSimpleObject(added.body());
                assertEquals("127.0.0.1:" + e3.port(), a.get("key"), added.body());
                assertEquals(2L, a.get("weight"));
                assertTrue(vs.realServers().contains(RealServer.of(e3.address())), "added through the virtual service");
                assertTrue(api.get("/ipvs").body().contains("-> 127.0.0.1:" + e3.port()));
                HttpResponse<String> backup = api.post(base, TOKEN, "{\"host\":\"127.0.0.1\",\"port\":1,\"backup\":true}");
                assertEquals(400, backup.statusCode());
                assertTrue(backup.body().contains("no backup tier"), backup.body());
                HttpResponse<String> named = api.post(base, TOKEN, "{\"host\":\"127.0.0.1\",\"port\":1,\"name\":\"one\"}");
                assertEquals(400, named.statusCode());
                assertTrue(named.body().contains("no name"), named.body());
                assertEquals(3, vs.realServers().size());
                assertEquals(200, api.post(base + "/" + Upstream.of(e1.address()).key() + "/drain", TOKEN, null).statusCode());
                assertTrue(api.get("/ipvs").body().matches("(?s).*-> 127\\.0\\.0\\.1:" + e1.port() + " +Masq +0 .*"),
                        api.get("/ipvs").body());
                HttpResponse<String> removed = api.method("DELETE", base + "/" + Upstream.of(e2.address()).key(), TOKEN);
                assertEquals(200, removed.statusCode());
                assertEquals(name, Json.parseSimpleObject(removed.body()).get("pool"));
                assertEquals(2, vs.realServers().size());
                assertTrue(!api.get("/ipvs").body().contains(":" + e2.port() + " "));
            }
        }
    }
}
