package dev.lbkit.l7.internal;

import dev.lbkit.l7.RealIp;
import dev.lbkit.transport.internal.IpAddresses;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * One client connection's reading of {@link RealIp}: per request, the address its header names and the
 * port that came with it, or null for the connection's own address and port. Made only on listeners with
 * the option, so that others pay nothing. The connection's trust is found once per connection address; a
 * request reads the header in place and allocates only the {@link InetAddress} of an address other than
 * the connection's. Event-loop confined.
 */
public final class RealAddress {
    /** A listener's option, compiled once and shared by its connections (immutable). */
    public static final class Config {
        final IpAddresses trusted;
        final AsciiString header;
        final boolean joinLines;
        final boolean recursive;

        public Config(RealIp option) {
            this.trusted = IpAddresses.table(option.trusted());
            this.header = AsciiString.of(option.header());
            // nginx walks every X-Forwarded-For line; of any other header it reads the first.
            this.joinLines = header.contentEqualsIgnoreCase(Headers.X_FORWARDED_FOR);
            this.recursive = option.recursive();
        }
    }

    private final Config config;
    private final byte[] out = new byte[16];
    private final byte[] scratch = new byte[16];
    private InetAddress checked;
    private byte[] connection;
    private boolean trusted;
    private int port;

    public RealAddress(Config config) {
        this.config = config;
    }

    /**
     * The client address of the request with headers {@code h} on a connection from {@code conn}, its port
     * then in {@link #port()}: null to keep {@code conn} and its port (not trusted, no header, or no valid
     * address in it). A header naming {@code conn} itself gives {@code conn}, with the header's port.
     */
    InetAddress of(HttpHeaders h, InetAddress conn) {
        port = 0;
        if (conn == null) {
            return null;
        }
        if (conn != checked) {
            checked = conn;
            connection = conn.getAddress();
            trusted = config.trusted.matches(connection, connection.length);
        }
        if (!trusted) {
            return null;
        }
        CharSequence v;
        if (config.joinLines && Headers.count(h, config.header) > 1) {
            v = String.join(", ", h.getAll(config.header));
        } else {
            v = h instanceof CompactHeaders ? ((CompactHeaders) h).firstInPlace(config.header) : h.get(config.header);
        }
        if (v == null) {
            return null;
        }
        int r = IpAddresses.walk(v, config.trusted, config.recursive, out, scratch);
        int n = r & 0xff;
        if (n == 0) {
            return null;
        }
        // As nginx since 1.11.0: the header's port, or none (0) when its entry has none.
        port = r >>> 8;
        if (n == connection.length && Arrays.equals(out, 0, n, connection, 0, n)) {
            return conn;
        }
        try {
            return InetAddress.getByAddress(Arrays.copyOf(out, n)); // no DNS: a literal's bytes
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // only for a length other than 4 or 16
        }
    }

    /**
     * The port that came with the address the last {@link #of} returned: the header entry's, 0 when it had
     * none (nginx's {@code $remote_port} is then empty) or when {@code of} returned null.
     */
    int port() {
        return port;
    }
}
