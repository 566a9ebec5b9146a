package dev.lbkit.l7.internal;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The fast path of {@link Codecs.ResponseDecoder}: parses a common upstream response head in one pass
 * over a copy of its bytes, or declines, reading nothing, so that Netty's decoder parses it instead.
 *
 * <p>It takes only what it can decode exactly as Netty's decoder would: {@code HTTP/1.0} or
 * {@code HTTP/1.1}, a status from 200 to 599 with a reason phrase that neither starts nor ends with
 * white space, CRLF line ends, field names that are tokens followed at once by the colon, field values
 * of visible characters, spaces and tabs (trimmed as Netty trims them), no Transfer-Encoding, and at most
 * one Content-Length of plain digits, which a response with a body must have. A head must end within
 * {@link #MAX_HEAD} bytes. Event-loop confined (the scratch arrays are per thread).
 */
final class ResponseHeadParser {
    /** The head was decoded and consumed; its messages are in the output list. */
    static final int DECODED = 1;
    /** The head may be one the fast path takes, but its end has not arrived: nothing was read. */
    static final int NEED_MORE = 0;
    /** Not one the fast path takes: nothing was read, Netty's decoder must decode it. */
    static final int DECLINED = -1;
    /** The longest head the fast path takes; longer ones (rare) go to Netty's decoder and its limits. */
    static final int MAX_HEAD = 8192;
    private static final int MAX_FIELDS = 64;

    private static final byte[] PREFIX = {'H', 'T', 'T', 'P', '/', '1', '.'};
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
    private static final AsciiString TRANSFER_ENCODING = AsciiString.cached("transfer-encoding");
    /** Whether a byte may appear in a field name (RFC 9110 §5.6.2 tchar). */
    private static final boolean[] TOKEN = new boolean[128];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TOKEN[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            TOKEN[c] = true;
            TOKEN[c - 'a' + 'A'] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TOKEN[c] = true;
        }
    }

    /** Per thread: each field's name start, name end, value start and value end. */
    private static final FastThreadLocal<int[]> FIELDS = new FastThreadLocal<>() {
        @Override
        protected int[] initialValue() {
            return new int[4 * MAX_FIELDS];
        }
    };

    private ResponseHeadParser() {}

    /**
     * Decodes the head at {@code buf}'s reader index into {@code out} through {@code decoder}, or says
     * why not; on anything but {@link #DECODED} nothing was read from {@code buf}.
     */
    static int decode(Codecs.ResponseDecoder decoder, ByteBuf buf, List<Object> out) {
        int readable = buf.readableBytes();
        if (readable == 0) {
            return NEED_MORE;
        }
        if (buf.getByte(buf.readerIndex()) != 'H') {
            return DECLINED;
        }
        int n = Math.min(readable, MAX_HEAD);
        byte[] b = Codecs.scratch();
        buf.getBytes(buf.readerIndex(), b, 0, n);
        // When the bytes run out before the head ends: wait for more, unless the head is too long.
        int more = readable < MAX_HEAD ? NEED_MORE : DECLINED;

        int lf = indexOfLf(b, 0, n);
        if (lf < 0) {
            return more;
        }
        int lineEnd = lf - 1;
        if (lineEnd < 12 || b[lineEnd] != '\r') {
            return DECLINED;
        }
        for (int i = 0; i < PREFIX.length; i++) {
            if (b[i] != PREFIX[i]) {
                return DECLINED;
            }
        }
        byte minor = b[7];
        if (minor != '0' && minor != '1' || b[8] != ' ' || !digit(b[9]) || !digit(b[10]) || !digit(b[11])) {
            return DECLINED;
        }
        int code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
        if (code < 200 || code > 599) {
            return DECLINED;
        }
        int reasonStart = 13;
        if (lineEnd > 12) {
            if (b[12] != ' ' || lineEnd == 13 || ows(b[13]) || ows(b[lineEnd - 1])) {
                return DECLINED;
            }
            for (int i = 13; i < lineEnd; i++) {
                if (!fieldByte(b[i])) {
                    return DECLINED;
                }
            }
        } else {
            reasonStart = lineEnd;
        }

        int[] fields = FIELDS.get();
        int count = 0;
        int contentLengthField = -1;
        int pos = lf + 1;
        while (true) {
            if (pos >= n) {
                return more;
            }
            if (b[pos] == '\r') {
                if (pos + 1 >= n) {
                    return more;
                }
                if (b[pos + 1] != '\n') {
                    return DECLINED;
                }
                pos += 2;
                break;
            }
            int nameStart = pos;
            while (pos < n && b[pos] >= 0 && TOKEN[b[pos]]) {
                pos++;
            }
            if (pos >= n) {
                return more;
            }
            if (b[pos] != ':' || pos == nameStart || count == MAX_FIELDS) {
                return DECLINED;
            }
            int nameEnd = pos++;
            while (pos < n && ows(b[pos])) {
                pos++;
            }
            int valueStart = pos;
            while (pos < n && b[pos] != '\r') {
                if (!fieldByte(b[pos])) {
                    return DECLINED;
                }
                pos++;
            }
            if (pos + 1 >= n) {
                return more;
            }
            if (b[pos + 1] != '\n') {
                return DECLINED;
            }
            int valueEnd = pos;
            while (valueEnd > valueStart && ows(b[valueEnd - 1])) {
                valueEnd--;
            }
            pos += 2;
            int nameLength = nameEnd - nameStart;
            if (nameLength == TRANSFER_ENCODING.length() && equalsIgnoreCase(b, nameStart, TRANSFER_ENCODING)) {
                return DECLINED;
            }
            if (nameLength == CONTENT_LENGTH.length() && equalsIgnoreCase(b, nameStart, CONTENT_LENGTH)) {
                if (contentLengthField >= 0) {
                    return DECLINED;
                }
                contentLengthField = count;
            }
            int f = 4 * count++;
            fields[f] = nameStart;
            fields[f + 1] = nameEnd;
            fields[f + 2] = valueStart;
            fields[f + 3] = valueEnd;
        }
        int headLength = pos;

        long length = -1;
        if (contentLengthField >= 0) {
            length = digits(b, fields[4 * contentLengthField + 2], fields[4 * contentLengthField + 3]);
            if (length < 0) {
                return DECLINED;
            }
        }
        boolean bodyless = decoder.headRequest || code == 204 || code == 304;
        if (!bodyless && length < 0) {
            // Delimited by the connection's close: Netty's variable-length state does that.
            return DECLINED;
        }

        // The scan checked every field as the header rules would (token names, field-content values).
        CompactHeaders headers = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        for (int i = 0; i < count; i++) {
            int f = 4 * i;
            headers.addChecked(name(b, fields[f], fields[f + 1] - fields[f]), value(b, fields[f + 2], fields[f + 3]));
        }
        DefaultHttpResponse head = new DefaultHttpResponse(minor == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0,
                status(code, b, reasonStart, lineEnd), headers);
        buf.skipBytes(headLength);
        decoder.fastHead(head, bodyless ? -1 : length, out);
        return DECODED;
    }

    private static int indexOfLf(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static boolean digit(byte c) {
        return c >= '0' && c <= '9';
    }

    private static boolean ows(byte c) {
        return c == ' ' || c == '\t';
    }

    /** A byte a field value or reason phrase may hold: HTAB, SP, VCHAR or obs-text (RFC 9110 §5.5). */
    private static boolean fieldByte(byte c) {
        return c >= ' ' && c != 0x7f || c == '\t' || c < 0;
    }

    private static boolean equalsIgnoreCase(byte[] b, int start, AsciiString lowerCase) {
        for (int i = 0; i < lowerCase.length(); i++) {
            if ((b[start + i] | 0x20) != lowerCase.byteAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The value of plain decimal digits without a leading zero (Netty rewrites those), or -1. */
    private static long digits(byte[] b, int start, int end) {
        int length = end - start;
        if (length == 0 || length > 18 || length > 1 && b[start] == '0') {
            return -1;
        }
        long v = 0;
        for (int i = start; i < end; i++) {
            if (!digit(b[i])) {
                return -1;
            }
            v = v * 10 + (b[i] - '0');
        }
        return v;
    }

    private static AsciiString name(byte[] b, int start, int length) {
        AsciiString known = Codecs.KnownNames.find(b, start, length);
        return known != null ? known : new AsciiString(b, start, length, true);
    }

    private static AsciiString value(byte[] b, int start, int end) {
        return start == end ? AsciiString.EMPTY_STRING : new AsciiString(b, start, end - start, true);
    }

    /** The shared constant when the reason is the standard one, as {@link HttpResponseStatus#valueOf(int, String)}. */
    private static HttpResponseStatus status(int code, byte[] b, int start, int end) {
        HttpResponseStatus standard = HttpResponseStatus.valueOf(code);
        String phrase = standard.reasonPhrase();
        if (phrase.length() == end - start) {
            boolean same = true;
            for (int i = 0; i < phrase.length() && same; i++) {
                same = phrase.charAt(i) == (b[start + i] & 0xff);
            }
            if (same) {
                return standard;
            }
        }
        return HttpResponseStatus.valueOf(code, new String(b, start, end - start, StandardCharsets.ISO_8859_1));
    }
}
