package dev.lbkit.bench.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The idle client's response reader: one whole response, nothing more, or an error. */
class IdleClientsTest {

    private static InputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void readsExactlyOneResponseAndLeavesTheRest() throws IOException {
        InputStream in = stream("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        IdleClients.readResponse(in, new byte[8192]);
        assertEquals(-1, in.read());
    }

    @Test
    void rejectsErrorsMissingLengthsAndTruncation() {
        assertThrows(IOException.class,
                () -> IdleClients.readResponse(stream("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"),
                        new byte[8192]));
        assertThrows(IOException.class,
                () -> IdleClients.readResponse(stream("HTTP/1.1 200 OK\r\n\r\nbody"), new byte[8192]));
        assertThrows(IOException.class,
                () -> IdleClients.readResponse(stream("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"),
                        new byte[8192]));
        assertThrows(IOException.class, () -> IdleClients.readResponse(stream("HTTP/1.1 200 OK\r\n"), new byte[8192]));
    }
}
