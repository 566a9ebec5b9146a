package dev.lbkit.dns.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * A fixed map from names, as their ISO 8859-1 bytes, to served entries: open addressing with linear
 * probing in a table at most half full, so a lookup hashes the query's name bytes in place instead of
 * building a String. Immutable after construction and thread-safe.
 */
final class ByteKeyTable {
    private final byte[][] keys;
    private final ServedEntry[] values;
    private final int mask;

    ByteKeyTable(Map<String, ServedEntry> entries) {
        int size = Integer.highestOneBit(Math.max(1, entries.size()) * 2 - 1) << 1;
        keys = new byte[size][];
        values = new ServedEntry[size];
        mask = size - 1;
        entries.forEach((name, entry) -> {
            if (!StandardCharsets.ISO_8859_1.newEncoder().canEncode(name)) {
                return; // no query can spell it in bytes, and encoding it would make a wrong key of ?s
            }
            byte[] key = name.getBytes(StandardCharsets.ISO_8859_1);
            int i = hash(key, key.length) & mask;
            while (keys[i] != null) {
                i = (i + 1) & mask;
            }
            keys[i] = key;
            values[i] = entry;
        });
    }

    /** The entry whose key is {@code name[0, length)}, or null. */
    ServedEntry get(byte[] name, int length) {
        for (int i = hash(name, length) & mask;; i = (i + 1) & mask) {
            byte[] k = keys[i];
            if (k == null) {
                return null;
            }
            if (k.length == length && Arrays.equals(k, 0, length, name, 0, length)) {
                return values[i];
            }
        }
    }

    private static int hash(byte[] b, int length) {
        int h = 0;
        for (int i = 0; i < length; i++) {
            h = 31 * h + b[i];
        }
        // Spread the high bits down: the table index takes only the low ones.
        return h ^ (h >>> 16);
    }
}
