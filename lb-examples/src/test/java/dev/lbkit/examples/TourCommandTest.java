package dev.lbkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TourCommandTest {

    @Test
    void theTourReplaysTheSeedAndExitsZero() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"tour", "--ports", "ephemeral"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, text + err.toString(StandardCharsets.UTF_8));
        String verdict = text.substring(text.indexOf("== Verdict"));
        for (String tier : new String[] {"backends", "dns (dnsmasq)", "l4 (IPVS)", "l7 (nginx)", "dns (health)"}) {
            assertTrue(verdict.lines().anyMatch(l -> l.startsWith(tier) && l.contains(" OK ")), verdict);
        }
        assertTrue(text.contains("flags: qr aa rd ra; QUERY: 1, ANSWER: 2"), text);
        assertTrue(text.contains("* connect to 127.0.0.2 port "), text);
        assertTrue(text.contains("Masq    1      0          51"), text);
        assertTrue(text.contains("request  8: 200 <h2>*** Response from Backend Server 2 ***</h2>"), text);
        assertTrue(text.trim().endsWith("Every tier behaved as in the seed."), text);
    }

    @Test
    void badPortsModeIsAUsageError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"tour", "--ports", "some"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(Main.USAGE, status);
        assertEquals("lb-examples tour: option --ports must be seed or ephemeral, got 'some'\n",
                err.toString(StandardCharsets.UTF_8));
    }
}
