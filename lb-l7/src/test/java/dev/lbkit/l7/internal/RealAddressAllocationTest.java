package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.l7.RealIp;
import io.netty.util.AsciiString;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A request's reading of {@link RealIp} allocates nothing when it keeps the connection's address: an
 * untrusted connection, or a header (still bytes, as the decoder leaves it) walked to the connection's own
 * address, with a port or without. Only an address other than the connection's costs its
 * {@link InetAddress}.
 */
class RealAddressAllocationTest {
    private static final int ROUNDS = 20_000;
    // Made once: AsciiString.cached makes a new object per call.
    private static final AsciiString XFF = AsciiString.cached("X-Forwarded-For");

    /** Bytes allocated per reading of {@code value}, which must keep {@code conn} (null, or itself). */
    private static long perRequest(RealAddress r, InetAddress conn, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.ISO_8859_1);
        CompactHeaders h = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        InetAddress[] last = new InetAddress[1];
        long per = ThreadAllocation.perRun(() -> {
            h.refill(2, bytes.length);
            h.addLazy(XFF, bytes, 0, bytes.length);
            last[0] = r.of(h, conn);
        }, ROUNDS);
        assertTrue(last[0] == null || last[0] == conn, value);
        return per;
    }

    @Test
    void keepingTheConnectionsAddressAllocatesNothing() throws Exception {
        RealIp option = RealIp.builder().trust("10.0.0.0/8", "2001:db8::/32").header("X-Forwarded-For")
                .recursive(true).build();
        RealAddress r = new RealAddress(new RealAddress.Config(option));
        InetAddress trusted = InetAddress.getByName("10.0.0.5");
        InetAddress untrusted = InetAddress.getByName("192.0.2.1");
        long walked = perRequest(r, trusted, "10.0.0.5, [2001:db8::9]:443, 10.1.2.3:80,10.0.0.6");
        assertTrue(walked == 0, walked + " bytes per request");
        long withPort = perRequest(r, trusted, "10.0.0.5:4711");
        assertTrue(withPort == 0, withPort + " bytes per request");
        assertEquals(4711, r.port());
        long ignored = perRequest(new RealAddress(new RealAddress.Config(option)), untrusted, "198.51.100.1");
        assertTrue(ignored == 0, ignored + " bytes per request");
        // And the same reader, given another address, takes it.
        CompactHeaders h = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        h.add(XFF, "198.51.100.1, 10.0.0.6");
        assertEquals(InetAddress.getByName("198.51.100.1"), r.of(h, trusted));
        assertEquals(0, r.port());
    }
}
