package dev.lbkit.l7.internal;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * The fast path of lb-l7's HTTP/1 decoders ({@link Codecs.RequestDecoder}, {@link Codecs.ResponseDecoder}):
 * parses a common message head in one pass over a copy of its bytes, or declines, reading nothing, so
 * that Netty's decoder parses it instead.
 *
 * <p>It takes only what it can decode exactly as Netty's decoder (with lb-l7's checks) would:
 * {@code HTTP/1.0} or {@code HTTP/1.1}; a request line of a method Netty names ({@code GET},
 * {@code POST} …, not {@code CONNECT}) and a target of visible ASCII, or a status line with a status from
 * 200 to 599 and a reason phrase that neither starts nor ends with white space; CRLF line ends; field
 * names that are tokens followed at once by the colon; field values of visible characters, spaces and
 * tabs (trimmed as Netty trims them); no Transfer-Encoding; at most one Content-Length, of plain digits,
 * which a response with a body must have; a whole head within {@link #MAX_HEAD} bytes and the decoder's
 * own limits. Event-loop confined: the scan state is per thread.
 */
final class HeadParser {
    /** The head was decoded and consumed; its messages are in the output list. */
    static final int DECODED = 1;
    /** The head may be one the fast path takes, but its end has not arrived: nothing was read. */
    static final int NEED_MORE = 0;
    /** Not one the fast path takes: nothing was read, Netty's decoder must decode it. */
    static final int DECLINED = -1;
    /** The longest head the fast path takes; longer ones (rare) go to Netty's decoder and its limits. */
    static final int MAX_HEAD = 8192;
    private static final int MAX_FIELDS = 64;
    /**
     * Fields a request head's section has room for beyond its own: what the proxy adds (Host when the
     * client sent none, X-Forwarded-For, -Proto, -Host or Forwarded) without growing its array.
     */
    private static final int REQUEST_ROOM = 4;

    private static final byte[] HTTP_1_ = {'H', 'T', 'T', 'P', '/', '1', '.'};
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString TRANSFER_ENCODING = AsciiString.cached("transfer-encoding");
    /** With Key2 on a GET, Netty reads an 8-byte body without a Content-Length (Hixie-76 WebSocket). */
    private static final AsciiString SEC_WEBSOCKET_KEY1 = AsciiString.cached("sec-websocket-key1");
    private static final HttpMethod[] METHODS = {HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT,
        HttpMethod.DELETE, HttpMethod.OPTIONS, HttpMethod.PATCH, HttpMethod.TRACE};
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

    /** One thread's scan: the head's bytes and each field's name start, name end, value start and value end. */
    private static final class Scan {
        final byte[] bytes = new byte[MAX_HEAD];
        final int[] fields = new int[4 * MAX_FIELDS];
        int count;
        /** How many bytes were copied, and what running out of them means: NEED_MORE or DECLINED. */
        int copied;
        int more;
        /** Where the first line's LF is, once {@link #firstLine} returned {@link #DECODED}. */
        int lf;
        int contentLength;
        /** Where the scan stopped: the end of the head, once {@link #fields} returned {@link #DECODED}. */
        int end;
        /** The Host value {@link #headers} made or reused for the head, or null. */
        String host;
    }

    private static final io.netty.util.concurrent.FastThreadLocal<Scan> SCAN =
            new io.netty.util.concurrent.FastThreadLocal<>() {
                @Override
                protected Scan initialValue() {
                    return new Scan();
                }
            };

    private HeadParser() {}

    /** This thread's scratch array of {@link #MAX_HEAD} bytes (shared with the request decoder's head check). */
    static byte[] scratch() {
        return SCAN.get().bytes;
    }

    /**
     * Decodes the response head at {@code buf}'s reader index through {@code decoder}, or says why not; on
     * anything but {@link #DECODED} nothing was read from {@code buf}.
     */
    static int decodeResponse(Codecs.ResponseDecoder decoder, ByteBuf buf, java.util.List<Object> out) {
        Scan s = SCAN.get();
        int first = firstLine(buf, (byte) 'H', MAX_HEAD, s);
        if (first != DECODED) {
            return first;
        }
        byte[] b = s.bytes;
        int lf = s.lf;
        int lineEnd = lf - 1;
        if (lineEnd < 12 || b[lineEnd] != '\r' || !version(b, 0) || b[8] != ' ' || !digit(b[9]) || !digit(b[10])
                || !digit(b[11])) {
            return DECLINED;
        }
        int code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
        if (code < 200 || code > 599) {
            return DECLINED;
        }
        int reasonStart = lineEnd;
        if (lineEnd > 12) {
            reasonStart = 13;
            if (b[12] != ' ' || lineEnd == 13 || ows(b[13]) || ows(b[lineEnd - 1])) {
                return DECLINED;
            }
            for (int i = 13; i < lineEnd; i++) {
                if (!fieldByte(b[i])) {
                    return DECLINED;
                }
            }
        }
        int r = fields(s, lf + 1);
        if (r != DECODED) {
            return r;
        }
        long length = contentLength(s);
        if (length == -2) {
            return DECLINED;
        }
        boolean bodyless = decoder.headRequest || code == 204 || code == 304;
        if (!bodyless && length < 0) {
            // Delimited by the connection's close: Netty's variable-length state does that.
            return DECLINED;
        }
        HttpVersion version = b[7] == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
        HttpResponseStatus status = status(code, b, reasonStart, lineEnd);
        // One head per upstream connection, filled again for each response: see ResponseDecoder.
        DefaultHttpResponse head = decoder.reusedHead;
        if (head == null) {
            head = new DefaultHttpResponse(version, status, headers(s, 0, null, null));
            decoder.reusedHead = head;
        } else {
            headers(s, 0, (CompactHeaders) head.headers(), null);
            head.setProtocolVersion(version).setStatus(status);
            head.setDecoderResult(DecoderResult.SUCCESS);
        }
        buf.skipBytes(s.end);
        decoder.fastHead(head, bodyless ? -1 : length, out);
        return DECODED;
    }

    /**
     * Decodes the request head at {@code buf}'s reader index through {@code decoder}, taking none longer
     * than {@code maxHead} bytes, or says why not; on anything but {@link #DECODED} nothing was read.
     */
    static int decodeRequest(Codecs.RequestDecoder decoder, ByteBuf buf, int maxHead, java.util.List<Object> out) {
        Scan s = SCAN.get();
        int first = firstLine(buf, (byte) 0, Math.min(MAX_HEAD, maxHead), s);
        if (first != DECODED) {
            return first;
        }
        byte[] b = s.bytes;
        int lf = s.lf;
        int lineEnd = lf - 1;
        if (lineEnd < 1 || b[lineEnd] != '\r') {
            return DECLINED;
        }
        HttpMethod method = method(b, lineEnd);
        if (method == null) {
            return DECLINED;
        }
        int targetStart = method.name().length() + 1;
        int targetEnd = targetStart;
        while (targetEnd < lineEnd && b[targetEnd] > ' ' && b[targetEnd] < 0x7f) {
            targetEnd++;
        }
        if (targetEnd == targetStart || targetEnd + 9 != lineEnd || b[targetEnd] != ' ' || !version(b, targetEnd + 1)) {
            return DECLINED;
        }
        int r = fields(s, lf + 1);
        if (r != DECODED) {
            return r;
        }
        long length = contentLength(s);
        if (length == -2 || s.contentLength < 0 && has(s, SEC_WEBSOCKET_KEY1)) {
            return DECLINED;
        }
        HttpVersion version = b[lineEnd - 1] == '1' ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
        // The previous request's target again (a client polling one resource) is that String, not a copy.
        String target = latin1(b, targetStart, targetEnd - targetStart, decoder.lastTarget);
        // The head of this connection's previous request, once it is over (see RequestDecoder.recycle), or a new one.
        DefaultHttpRequest head = decoder.spare;
        try {
            if (head == null) {
                head = new DefaultHttpRequest(version, method, target,
                        headers(s, REQUEST_ROOM, null, decoder.lastHost));
            } else {
                head.setUri(target).setMethod(method).setProtocolVersion(version);
                head.setDecoderResult(DecoderResult.SUCCESS);
                headers(s, REQUEST_ROOM, (CompactHeaders) head.headers(), decoder.lastHost);
                decoder.spare = null;
            }
        } catch (IllegalArgumentException e) {
            return DECLINED; // a target Netty's request line check refuses: its decoder reports it
        }
        decoder.lastFastHead = head;
        decoder.lastTarget = target;
        if (s.host != null) {
            decoder.lastHost = s.host;
        }
        buf.skipBytes(s.end);
        decoder.fastHead(head, length, out);
        return DECODED;
    }

    /**
     * Copies up to {@code limit} bytes of the head at {@code buf}'s reader index to the scan and finds the end
     * of its first line: {@link #DECODED} with {@link Scan#lf}, {@link Scan#copied} and {@link Scan#more} set,
     * {@link #NEED_MORE} while the line may still be arriving, or {@link #DECLINED} when the first byte is not
     * {@code first} (if given) or no line ends within {@code limit} bytes.
     */
    private static int firstLine(ByteBuf buf, byte first, int limit, Scan s) {
        int n = copy(buf, first, limit, s);
        if (n <= 0) {
            return n;
        }
        s.copied = n;
        s.more = buf.readableBytes() < limit ? NEED_MORE : DECLINED;
        s.lf = indexOfLf(s.bytes, n);
        return s.lf < 0 ? s.more : DECODED;
    }

    /**
     * Copies up to {@code limit} bytes from {@code buf} to the scan; returns how many, or
     * {@link #NEED_MORE} for none, or {@link #DECLINED} when the first byte is not {@code first} (if given).
     */
    private static int copy(ByteBuf buf, byte first, int limit, Scan s) {
        int readable = buf.readableBytes();
        if (readable == 0) {
            return NEED_MORE;
        }
        if (first != 0 && buf.getByte(buf.readerIndex()) != first) {
            return DECLINED;
        }
        int n = Math.min(readable, limit);
        buf.getBytes(buf.readerIndex(), s.bytes, 0, n);
        return n;
    }

    /**
     * Scans header fields from {@code pos} to the empty line; {@link #DECODED} with {@link Scan#end} set,
     * {@link Scan#more} when the copied bytes run out first, or {@link #DECLINED}.
     */
    private static int fields(Scan s, int pos) {
        byte[] b = s.bytes;
        int n = s.copied;
        int more = s.more;
        int[] fields = s.fields;
        int count = 0;
        s.contentLength = -1;
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
                s.count = count;
                s.end = pos + 2;
                return DECODED;
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
                if (s.contentLength >= 0) {
                    return DECLINED;
                }
                s.contentLength = count;
            }
            int f = 4 * count++;
            fields[f] = nameStart;
            fields[f + 1] = nameEnd;
            fields[f + 2] = valueStart;
            fields[f + 3] = valueEnd;
        }
    }

    /** The Content-Length, -1 without one, -2 when it is not plain digits without a leading zero. */
    private static long contentLength(Scan s) {
        if (s.contentLength < 0) {
            return -1;
        }
        int f = 4 * s.contentLength;
        long v = digits(s.bytes, s.fields[f + 2], s.fields[f + 3]);
        return v < 0 ? -2 : v;
    }

    private static boolean has(Scan s, AsciiString lowerCaseName) {
        for (int i = 0; i < s.count; i++) {
            int f = 4 * i;
            if (s.fields[f + 1] - s.fields[f] == lowerCaseName.length()
                    && equalsIgnoreCase(s.bytes, s.fields[f], lowerCaseName)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The scanned fields in a header map with room for {@code room} more; the scan checked each as the
     * map's rules would. The values'
     * bytes are copied once, side by side into one array, and each value becomes an object (a view of its
     * part) only if it is read ({@link CompactHeaders#addLazy}): one array per head instead of an array
     * and an object per field.
     */
    /**
     * The scanned fields as a header map: a new one, or {@code reused} emptied and filled again (its arrays
     * kept when large enough); a Host value equal to {@code previousHost} is that String.
     */
    private static CompactHeaders headers(Scan s, int room, CompactHeaders reused, String previousHost) {
        byte[] b = s.bytes;
        int[] fields = s.fields;
        int total = 0;
        for (int i = 0; i < s.count; i++) {
            int f = 4 * i;
            if (!isHost(b, fields[f], fields[f + 1])) {
                total += fields[f + 3] - fields[f + 2];
            }
        }
        CompactHeaders headers;
        byte[] values;
        s.host = null;
        if (reused == null) {
            headers = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
            headers.capacity(s.count + room);
            values = total == 0 ? null : new byte[total];
        } else {
            headers = reused;
            values = headers.refill(s.count + room, total);
        }
        int at = 0;
        for (int i = 0; i < s.count; i++) {
            int f = 4 * i;
            int nameStart = fields[f];
            int valueStart = fields[f + 2];
            int length = fields[f + 3] - valueStart;
            AsciiString name = Codecs.KnownNames.find(b, nameStart, fields[f + 1] - nameStart);
            if (name == null) {
                name = new AsciiString(b, nameStart, fields[f + 1] - nameStart, true);
            }
            // Values stay bytes until read (most are only encoded again), but Host's, which the proxy reads
            // as a String to route.
            if (length == 0) {
                headers.addChecked(name, AsciiString.EMPTY_STRING);
            } else if (isHost(b, nameStart, fields[f + 1])) {
                // A connection's requests name the same host: the String made for the previous one serves again.
                String host = latin1(b, valueStart, length, previousHost);
                s.host = host;
                headers.addChecked(name, host);
            } else {
                System.arraycopy(b, valueStart, values, at, length);
                headers.addLazy(name, values, at, length);
                at += length;
            }
        }
        return headers;
    }

    private static boolean isHost(byte[] b, int nameStart, int nameEnd) {
        return nameEnd - nameStart == HOST.length() && equalsIgnoreCase(b, nameStart, HOST);
    }

    /** A String of {@code length} bytes from {@code start}, one char per byte, as Netty's decoder makes values. */
    @SuppressWarnings("deprecation")
    private static String latin1(byte[] b, int start, int length) {
        return new String(b, 0, start, length);
    }

    /** {@code previous} when it is those bytes (a connection's requests repeat them), else a new {@link #latin1}. */
    private static String latin1(byte[] b, int start, int length, String previous) {
        return previous != null && sameLatin1(previous, b, start, length) ? previous : latin1(b, start, length);
    }

    /** Whether {@code s} is the {@code length} bytes from {@code start}, one char per byte. */
    private static boolean sameLatin1(String s, byte[] b, int start, int length) {
        if (s.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (s.charAt(i) != (b[start + i] & 0xff)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOfLf(byte[] b, int to) {
        for (int i = 0; i < to; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Whether {@code HTTP/1.0} or {@code HTTP/1.1} starts at {@code at}. */
    private static boolean version(byte[] b, int at) {
        for (int i = 0; i < HTTP_1_.length; i++) {
            if (b[at + i] != HTTP_1_[i]) {
                return false;
            }
        }
        return b[at + 7] == '0' || b[at + 7] == '1';
    }

    /** The method the request line starts with, followed by one space, if it is one of {@link #METHODS}. */
    private static HttpMethod method(byte[] b, int lineEnd) {
        for (HttpMethod m : METHODS) {
            AsciiString name = m.asciiName();
            int length = name.length();
            if (length < lineEnd && b[length] == ' ' && b[0] == name.byteAt(0)) {
                boolean same = true;
                for (int i = 1; i < length && same; i++) {
                    same = b[i] == name.byteAt(i);
                }
                if (same) {
                    return m;
                }
            }
        }
        return null;
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
