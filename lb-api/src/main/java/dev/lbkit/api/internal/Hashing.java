package dev.lbkit.api.internal;

/**
 * Allocation-free 64-bit hashing shared by schedulers and tiers. Not public API.
 */
public final class Hashing {
    private Hashing() {}

    /** The MurmurHash3 64-bit finaliser: spreads every input bit over the result. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    /** FNV-1a over the UTF-16 code units, then {@link #mix64}. Stable across JVMs and releases. */
    public static long hash64(CharSequence s) {
        return hash64(s, 0, s.length());
    }

    /**
     * {@link #hash64(CharSequence)} of {@code s.subSequence(from, to)}, without making that sequence: a
     * tier hashes part of a header value in place.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= from <= to <= s.length()}
     */
    public static long hash64(CharSequence s, int from, int to) {
        java.util.Objects.checkFromToIndex(from, to, s.length());
        long h = 0xcbf29ce484222325L;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            h ^= c & 0xff;
            h *= 0x100000001b3L;
            h ^= c >>> 8;
            h *= 0x100000001b3L;
        }
        return mix64(h);
    }

    /** Hash of a byte array (an address), stable across JVMs. */
    public static long hash64(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix64(h);
    }
}
