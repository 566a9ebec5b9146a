package dev.lbkit.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The stats page in a real browser: headless Chromium loads it and the rendered DOM is checked. */
class BrowserTest {
    private static final Pattern ROW = Pattern.compile("<tr class=\"upstream\" data-key=\"([^\"]+)\" data-state=\"([^\"]+)\"");

    static List<String[]> rows(String dom) {
        List<String[]> out = new ArrayList<>();
        Matcher m = ROW.matcher(dom);
        while (m.find()) {
            out.add(new String[] {m.group(1), m.group(2)});
        }
        return out;
    }

    @Test
    void rendersAThousandUpstreamRows() {
        Chromium.requireInstalled();
        UpstreamPool big = UpstreamPool.builder().name("big").build();
        for (int i = 0; i < 1000; i++) {
            big.add(Upstream.of("127.0." + (i / 250) + "." + (1 + i % 250), 8000 + i));
        }
        try (AdminServer admin = AdminServer.builder().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .pool(big).build().start()) {
            long t0 = System.nanoTime();
            String dom = Chromium.dumpDom(admin.url());
            long millis = (System.nanoTime() - t0) / 1_000_000;
            List<String[]> rows = rows(dom);
            assertEquals(1000, rows.size(), "rendered rows");
            assertEquals("127.0.0.1:8000", rows.get(0)[0]);
            assertEquals("127.0.3.250:8999", rows.get(999)[0]);
            assertTrue(dom.contains("1000/1000 upstreams available"), "header totals");
            System.out.println("chromium rendered 1,000 upstream rows in " + millis + " ms (process included)");
            Chromium.screenshot(admin.url(), java.nio.file.Path.of("target", "stats-page-1000.png"), 1400, 900);
        }
    }
}
