package dev.lbkit.l7.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;

/**
 * HTTP header fields of one message in arrival order, in one array searched linearly.
 *
 * <p>A proxied message carries a handful of fields, each looked up a few times: a scan comparing
 * lengths first beats hashing every name, and one object with one small array replaces Netty's
 * hash table of linked entries (five objects plus one per field). Names compare ASCII
 * case-insensitively; values are kept as given. Names and values are checked exactly as Netty's
 * {@link DefaultHttpHeadersFactory#headersFactory()} (or, for trailers, {@code trailersFactory()})
 * checks them. Not thread-safe: a message belongs to one event loop.
 */
final class CompactHeaders extends HttpHeaders {
    /** Validating factory for the decoders' header sections. */
    static final HttpHeadersFactory FACTORY = factory(DefaultHttpHeadersFactory.headersFactory(), true);
    /** Validating factory for the decoders' trailers (Netty's rules: no framing fields in trailers). */
    static final HttpHeadersFactory TRAILERS = factory(DefaultHttpHeadersFactory.trailersFactory(), false);

    private static HttpHeadersFactory factory(DefaultHttpHeadersFactory netty, boolean trustKnownNames) {
        Rules rules = new Rules(netty.getNameValidator(), netty.getValueValidator(), trustKnownNames);
        return new HttpHeadersFactory() {
            @Override
            public HttpHeaders newHeaders() {
                return new CompactHeaders(rules);
            }

            @Override
            public HttpHeaders newEmptyHeaders() {
                return new CompactHeaders(rules);
            }
        };
    }

    /**
     * How names and values are checked; shared by every message of a kind, so each one holds one reference.
     *
     * @param trustKnownNames whether a name that is one of {@link Codecs.KnownNames}' constants skips the
     *     name check: those are valid tokens, and the header rules accept every one of them (the trailer
     *     rules do not)
     */
    private record Rules(DefaultHeaders.NameValidator<CharSequence> names,
            DefaultHeaders.ValueValidator<CharSequence> values, boolean trustKnownNames) {}

    private final Rules rules;
    private static final CharSequence[] NONE = {};

    /**
     * Field {@code i}'s name is {@code fields[2i]}, its value {@code fields[2i + 1]}: one array, not two.
     * A value that is null (below {@link #size}) was added by {@link #addLazy} and is still only bytes.
     */
    private CharSequence[] fields;
    private int size;
    /** The bytes of the values added by {@link #addLazy}: one array for a decoded head. */
    private byte[] lazyBytes;
    /**
     * For field {@code i} with a value still only bytes: its offset in {@link #lazyBytes} at {@code 2i} and
     * its length at {@code 2i + 1} (as long as {@link #fields}, null until the first such value).
     */
    private int[] lazySpans;
    /**
     * Bit {@code n & 63} is set when a field whose name has length {@code n} was added since the last
     * clear. A lookup whose length bit is clear returns at once: most lookups (hop-by-hop names, Expect,
     * Upgrade …) are for fields a message does not have. Removals leave bits set: a stale bit only costs
     * the scan it would have skipped.
     */
    private long nameLengths;
    /** {@link #containsValue}'s reader of values that are still bytes (made at its first such read). */
    private Span span;

    private CompactHeaders(Rules rules) {
        this.rules = rules;
        // Most trailer sections stay empty: the array comes with the first field.
        this.fields = NONE;
    }

    private int indexOf(CharSequence name, int from) {
        int len = name.length();
        if ((nameLengths & 1L << len) == 0) {
            return -1;
        }
        for (int i = from; i < size; i++) {
            CharSequence n = fields[2 * i];
            if (n.length() == len && AsciiString.contentEqualsIgnoreCase(n, name)) {
                return i;
            }
        }
        return -1;
    }

    private CharSequence value(Object value) {
        CharSequence v;
        if (value instanceof CharSequence) {
            v = (CharSequence) value;
        } else if (value instanceof Date) {
            v = DateFormatter.format((Date) value);
        } else if (value instanceof Calendar) {
            v = DateFormatter.format(((Calendar) value).getTime());
        } else {
            v = String.valueOf(java.util.Objects.requireNonNull(value, "value"));
        }
        rules.values().validate(v);
        return v;
    }

    private void append(CharSequence name, CharSequence value) {
        if (2 * size == fields.length) {
            fields = size == 0 ? new CharSequence[2 * 8] : Arrays.copyOf(fields, 4 * size);
            if (lazySpans != null) {
                lazySpans = Arrays.copyOf(lazySpans, fields.length);
            }
        }
        fields[2 * size] = name;
        fields[2 * size + 1] = value;
        size++;
        nameLengths |= 1L << name.length();
    }

    /**
     * Appends a field the caller has already checked as Netty's header rules check one (a token name, a
     * value of field-content), as {@link HeadParser} does while it scans: not checked again.
     */
    void addChecked(AsciiString name, CharSequence value) {
        append(name, value);
    }

    /**
     * As {@link #addChecked}, for a value that is {@code length} bytes of {@code bytes} from {@code offset}:
     * it becomes an object ({@link AsciiString}, a view of those bytes) only when it is read, and is
     * encoded from the bytes. Every lazy value of one header section must come from the same array.
     */
    void addLazy(AsciiString name, byte[] bytes, int offset, int length) {
        append(name, null);
        if (lazySpans == null) {
            lazySpans = new int[fields.length];
        }
        lazyBytes = bytes;
        lazySpans[2 * size - 2] = offset;
        lazySpans[2 * size - 1] = length;
    }

    /**
     * Makes room for {@code fields} fields at once (a decoder that knows how many a section has), so the
     * array is allocated once at its size; only before the first field is added.
     */
    void capacity(int fields) {
        if (size == 0 && fields > 0) {
            this.fields = new CharSequence[2 * fields];
        }
    }

    /**
     * Empties this map for the next head of a decoder that fills one map again and again (an upstream
     * connection's response decoder), keeping its arrays when they have room for {@code fields} fields
     * and {@code valueBytes} bytes of values; returns the array for those bytes (for {@link #addLazy}).
     * Whatever the previous head's readers kept of it (values read as views of its bytes) is invalid
     * from here on.
     */
    byte[] refill(int fields, int valueBytes) {
        Arrays.fill(this.fields, 0, 2 * size, null);
        size = 0;
        nameLengths = 0;
        if (this.fields.length < 2 * fields) {
            this.fields = new CharSequence[2 * fields];
            // The spans array is as long as the fields array: made again with the next lazy value.
            lazySpans = null;
        }
        if (lazyBytes == null || lazyBytes.length < valueBytes) {
            lazyBytes = valueBytes == 0 ? null : new byte[valueBytes];
        }
        return lazyBytes;
    }

    /** Field {@code i}'s value, made an object if it was still only bytes. */
    private CharSequence valueAt(int i) {
        CharSequence v = fields[2 * i + 1];
        if (v == null) {
            v = new AsciiString(lazyBytes, lazySpans[2 * i], lazySpans[2 * i + 1], false);
            fields[2 * i + 1] = v;
        }
        return v;
    }

    private CharSequence checkedName(CharSequence name) {
        java.util.Objects.requireNonNull(name, "name");
        if (!rules.trustKnownNames() || !Codecs.KnownNames.isConstant(name)) {
            rules.names().validateName(name);
        }
        return name;
    }

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : valueAt(i).toString();
    }

    @Override
    public Integer getInt(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Short getShort(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Short.parseShort(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        Date d = DateFormatter.parseHttpDate(v);
        return d == null ? null : d.getTime();
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        int i = indexOf(name, 0);
        if (i < 0) {
            return Collections.emptyList();
        }
        int next = indexOf(name, i + 1);
        if (next < 0) {
            return Collections.singletonList(valueAt(i).toString());
        }
        List<String> all = new ArrayList<>(4);
        all.add(valueAt(i).toString());
        for (int j = next; j >= 0; j = indexOf(name, j + 1)) {
            all.add(valueAt(j).toString());
        }
        return all;
    }

    /** How many fields are named {@code name}, as {@code getAll(name).size()} without the list. */
    int count(CharSequence name) {
        int n = 0;
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            n++;
        }
        return n;
    }

    @Override
    public List<Map.Entry<String, String>> entries() {
        List<Map.Entry<String, String>> list = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            list.add(new AbstractMap.SimpleImmutableEntry<>(fields[2 * i].toString(), valueAt(i).toString()));
        }
        return list;
    }

    @Override
    public boolean contains(String name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(CharSequence name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(String name, String value, boolean ignoreCase) {
        return contains((CharSequence) name, value, ignoreCase);
    }

    @Override
    public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(valueAt(i), value)
                    : AsciiString.contentEquals(valueAt(i), value)) {
                return true;
            }
        }
        return false;
    }

    /** Netty deprecates this view (prefer {@link #iteratorCharSequence()}); it is kept for its callers. */
    @Deprecated
    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return entries().iterator();
    }

    /**
     * As {@link HttpHeaders#containsValue}: whether a field's comma-separated, trimmed elements
     * include {@code value}; without the iterator the inherited version allocates per call
     * (keep-alive and chunked checks run it on every message).
     */
    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            CharSequence v = inPlace(i);
            int n = v.length();
            int begin = 0;
            int comma = indexOfComma(v, 0);
            if (comma < 0) {
                if (elementEquals(v, 0, n, value, ignoreCase)) {
                    return true;
                }
                continue;
            }
            while (comma >= 0) {
                if (elementEquals(v, begin, comma, value, ignoreCase)) {
                    return true;
                }
                begin = comma + 1;
                comma = indexOfComma(v, begin);
            }
            if (begin < n && elementEquals(v, begin, n, value, ignoreCase)) {
                return true;
            }
        }
        return false;
    }

    /** Bytes read as chars, one per byte, re-pointed per use: never leaves the method that points it. */
    private static final class Span implements CharSequence {
        private byte[] bytes;
        private int offset;
        private int length;

        Span of(byte[] bytes, int offset, int length) {
            this.bytes = bytes;
            this.offset = offset;
            this.length = length;
            return this;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            return (char) (bytes[offset + index] & 0xff);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new String(bytes, offset + start, end - start, java.nio.charset.StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return new String(bytes, offset, length, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }

    private static int indexOfComma(CharSequence v, int from) {
        for (int i = from, n = v.length(); i < n; i++) {
            if (v.charAt(i) == ',') {
                return i;
            }
        }
        return -1;
    }

    /** Whether {@code v[begin, end)}, trimmed of characters up to space (as String.trim), equals {@code expected}. */
    private static boolean elementEquals(CharSequence v, int begin, int end, CharSequence expected, boolean ignoreCase) {
        while (begin < end && v.charAt(begin) <= ' ') {
            begin++;
        }
        while (end > begin && v.charAt(end - 1) <= ' ') {
            end--;
        }
        int len = end - begin;
        if (len != expected.length()) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            char a = v.charAt(begin + i);
            char b = expected.charAt(i);
            if (a != b && !(ignoreCase && AsciiString.toLowerCase(a) == AsciiString.toLowerCase(b))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < size;
            }

            @Override
            public Map.Entry<CharSequence, CharSequence> next() {
                if (next >= size) {
                    throw new NoSuchElementException();
                }
                int i = next++;
                return new AbstractMap.SimpleImmutableEntry<>(fields[2 * i], valueAt(i));
            }
        };
    }

    @Override
    public Iterator<CharSequence> valueCharSequenceIterator(CharSequence name) {
        return new Iterator<>() {
            private int next = indexOf(name, 0);

            @Override
            public boolean hasNext() {
                return next >= 0;
            }

            @Override
            public CharSequence next() {
                if (next < 0) {
                    throw new NoSuchElementException();
                }
                CharSequence v = valueAt(next);
                next = indexOf(name, next + 1);
                return v;
            }
        };
    }

    @Override
    public Iterator<String> valueStringIterator(CharSequence name) {
        Iterator<CharSequence> it = valueCharSequenceIterator(name);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public String next() {
                return it.next().toString();
            }
        };
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<String> names() {
        Set<String> set = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 0; i < size; i++) {
            set.add(fields[2 * i].toString());
        }
        return set;
    }

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        append(checkedName(name), value(value));
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        return add((CharSequence) name, values);
    }

    @Override
    public HttpHeaders add(CharSequence name, Iterable<?> values) {
        CharSequence n = checkedName(name);
        for (Object v : values) {
            append(n, value(v));
        }
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        return add(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        return add(name, Short.toString(value));
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        CharSequence n = checkedName(name);
        CharSequence v = value(value);
        remove(n);
        append(n, v);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        return set((CharSequence) name, values);
    }

    @Override
    public HttpHeaders set(CharSequence name, Iterable<?> values) {
        CharSequence n = checkedName(name);
        List<CharSequence> vs = new ArrayList<>();
        for (Object v : values) {
            if (v == null) {
                break;
            }
            vs.add(value(v));
        }
        remove(n);
        for (CharSequence v : vs) {
            append(n, v);
        }
        return this;
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return set(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return set(name, Short.toString(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    /**
     * The first value of {@code name}, or null; a value that is still bytes is read in place: valid only
     * until the next call of this or {@link #containsValue} on this map, for a caller that reads it at once.
     */
    CharSequence firstInPlace(CharSequence name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : inPlace(i);
    }

    /**
     * The index of the first field at or after {@code from} named {@code a} or {@code b}, or -1: one scan
     * for two names, and none when the map has no field of either name's length.
     */
    int indexOfEither(CharSequence a, CharSequence b, int from) {
        int la = a.length();
        int lb = b.length();
        if ((nameLengths & (1L << la | 1L << lb)) == 0) {
            return -1;
        }
        for (int i = from; i < size; i++) {
            CharSequence n = fields[2 * i];
            int len = n.length();
            if (len == la && AsciiString.contentEqualsIgnoreCase(n, a)
                    || len == lb && AsciiString.contentEqualsIgnoreCase(n, b)) {
                return i;
            }
        }
        return -1;
    }

    /** The index of the first field at or after {@code from} named {@code name} (ignoring case), or -1. */
    int indexOfName(CharSequence name, int from) {
        return indexOf(name, from);
    }

    /** Removes field {@code i}; the fields after it move up by one, keeping their order. */
    void removeAt(int i) {
        int tail = size - i - 1;
        System.arraycopy(fields, 2 * i + 2, fields, 2 * i, 2 * tail);
        if (lazySpans != null) {
            System.arraycopy(lazySpans, 2 * i + 2, lazySpans, 2 * i, 2 * tail);
        }
        size--;
        fields[2 * size] = null;
        fields[2 * size + 1] = null;
    }

    /** The length of field {@code i}'s name. */
    int nameLength(int i) {
        return fields[2 * i].length();
    }

    /**
     * Field {@code i}'s value as {@link #firstInPlace} reads it: valid only until the next read in place or
     * change of this map.
     */
    CharSequence valueInPlace(int i) {
        return inPlace(i);
    }

    /** Replaces field {@code i}'s value, keeping the field where it is; {@code value} is checked as {@link #set}'s. */
    void replaceValue(int i, CharSequence value) {
        fields[2 * i + 1] = value(value);
    }

    /**
     * Field {@code i}'s value, a value that is still bytes read in place, not made an object: the map is
     * filled again per head on a connection, so a view would not outlive the head anyway.
     */
    private CharSequence inPlace(int i) {
        CharSequence v = fields[2 * i + 1];
        if (v != null) {
            return v;
        }
        if (span == null) {
            span = new Span();
        }
        return span.of(lazyBytes, lazySpans[2 * i], lazySpans[2 * i + 1]);
    }

    /** Removes every field named {@code list.subSequence(start, end)}, without making that name an object. */
    void removeNamed(CharSequence list, int start, int end) {
        int length = end - start;
        if ((nameLengths & 1L << length) == 0) {
            return;
        }
        int w = 0;
        for (int r = 0; r < size; r++) {
            CharSequence n = fields[2 * r];
            if (n.length() == length && AsciiString.regionMatches(n, true, 0, list, start, length)) {
                continue;
            }
            fields[2 * w] = n;
            fields[2 * w + 1] = fields[2 * r + 1];
            if (lazySpans != null) {
                lazySpans[2 * w] = lazySpans[2 * r];
                lazySpans[2 * w + 1] = lazySpans[2 * r + 1];
            }
            w++;
        }
        Arrays.fill(fields, 2 * w, 2 * size, null);
        size = w;
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        if (indexOf(name, 0) >= 0) {
            removeNamed(name, 0, name.length());
        }
        return this;
    }

    @Override
    public HttpHeaders clear() {
        Arrays.fill(fields, 0, 2 * size, null);
        size = 0;
        nameLengths = 0;
        return this;
    }

    /** Writes {@code headers} as {@link #encode} does if they are compact; false (nothing written) otherwise. */
    static boolean encodeIfCompact(HttpHeaders headers, ByteBuf buf) {
        if (headers instanceof CompactHeaders) {
            ((CompactHeaders) headers).encode(buf);
            return true;
        }
        return false;
    }

    /** Writes every field as {@code name: value CRLF}, in order, without an entry object per field. */
    void encode(ByteBuf buf) {
        for (int i = 0; i < size; i++) {
            ByteBufUtil.writeAscii(buf, fields[2 * i]);
            buf.writeShort(COLON_SP);
            CharSequence v = fields[2 * i + 1];
            if (v == null) {
                buf.writeBytes(lazyBytes, lazySpans[2 * i], lazySpans[2 * i + 1]);
            } else {
                ByteBufUtil.writeAscii(buf, v);
            }
            buf.writeShort(CRLF);
        }
    }

    /** How many bytes {@link #encode} writes. */
    int encodedLength() {
        int n = 0;
        for (int i = 0; i < size; i++) {
            CharSequence v = fields[2 * i + 1];
            n += fields[2 * i].length() + (v == null ? lazySpans[2 * i + 1] : v.length());
        }
        return n + 4 * size;
    }

    private static final int COLON_SP = (':' << 8) | ' ';
    private static final int CRLF = ('\r' << 8) | '\n';

    @Override
    public HttpHeaders copy() {
        CompactHeaders c = new CompactHeaders(rules);
        c.fields = size == 0 ? NONE : Arrays.copyOf(fields, 2 * size);
        if (lazySpans != null && size > 0) {
            c.lazyBytes = lazyBytes;
            c.lazySpans = Arrays.copyOf(lazySpans, 2 * size);
        }
        c.size = size;
        c.nameLengths = nameLengths;
        return c;
    }
}
