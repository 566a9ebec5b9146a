package dev.lbkit.bench.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.testing.EchoServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** lbkit's contenders answer as the benchmark's peers are configured to, on loopback. */
class LbkitContenderTest extends StartedParts {

    @Test
    void l7ProxiesWithTheSeedHeaderOverUpstreamKeepAlive() throws Exception {
        SeedUpstream upstream = new SeedUpstream();
        parts.add(upstream);

        LbkitContender.Started l7 = LbkitContender.start(
                new String[] {"l7", "127.0.0.1:0", "127.0.0.1:" + upstream.port(), "1"}, parts);
        upstream.assertThreeRequestsOverOneConnection(l7.address());
    }

    @Test
    void l4ForwardsBytesBothWays() throws Exception {
        EchoServer real = EchoServer.echo();
        parts.add(real);

        LbkitContender.Started l4 = LbkitContender.start(
                new String[] {"l4", "127.0.0.1:0", "127.0.0.1:" + real.port(), "1"}, parts);
        try (Socket client = new Socket()) {
            client.connect(l4.address(), 2000);
            client.setSoTimeout(2000);
            OutputStream out = client.getOutputStream();
            out.write("ping through lb-l4".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            InputStream in = client.getInputStream();
            assertEquals("ping through lb-l4", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void dnsAnswersTheSeedsNameWithTwoRecordsAndTtlZero() throws Exception {
        LbkitContender.Started dns = LbkitContender.start(new String[] {"dns", "127.0.0.1:0", "1"}, parts);
        SimpleResolver resolver = new SimpleResolver(dns.address());
        resolver.setTimeout(Duration.ofSeconds(2));
        Message answer = resolver.send(Message.newQuery(Record.newRecord(
                Name.fromString(LbkitContender.NAME + "."), Type.A, org.xbill.DNS.DClass.IN)));
        List<Record> records = answer.getSection(Section.ANSWER);
        assertEquals(Set.of("127.0.0.1", "127.0.0.2"),
                records.stream().map(Record::rdataToString).collect(Collectors.toSet()), answer.toString());
        assertTrue(records.stream().allMatch(r -> r.getTTL() == 0), answer.toString());
    }

    @Test
    void badArgumentsAreRejectedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LbkitContender.start(new String[] {"l7", "127.0.0.1:0"}, parts));
        assertTrue(e.getMessage().contains("l7 takes 3 arguments"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LbkitContender.start(new String[] {"dns", "127.0.0.1:0", "0"}, parts));
        assertTrue(e.getMessage().contains("1..64"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LbkitContender.start(new String[] {"dns", "nowhere", "1"}, parts));
        assertTrue(e.getMessage().contains("HOST:PORT"), e.getMessage());
        assertTrue(parts.isEmpty());
    }
}
