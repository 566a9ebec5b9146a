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
        long h = 0xcbf29ce484222325L;
        for (int i = 0, n = s.length(); i < n; i++) {
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
