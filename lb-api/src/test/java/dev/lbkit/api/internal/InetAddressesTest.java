package dev.lbkit.api.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class InetAddressesTest {

    @Test
    void ipv4BecomesIpv4MappedIpv6() throws Exception {
        byte[] mapped = InetAddresses.toIpv6(InetAddress.getByName("192.0.2.7").getAddress());
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 7}, mapped);
    }

    @Test
    void ipv6IsReturnedAsItIs() throws Exception {
        byte[] v6 = InetAddress.getByName("2001:db8::1").getAddress();
        assertSame(v6, InetAddresses.toIpv6(v6));
    }

    @Test
    void otherLengthsAreRefusedNamingTheLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InetAddresses.toIpv6(new byte[5]));
        assertTrue(e.getMessage().contains("not 5"), e.getMessage());
    }
}
