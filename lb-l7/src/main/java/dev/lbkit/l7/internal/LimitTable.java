package dev.lbkit.l7.internal;

import java.net.InetAddress;

/**
 * The per-key state of one route limit (nginx's zone): at most {@code maxKeys} entries, in stripes that each
 * keep their keys in a hash table and in least-recently-used order. Thread-safe: each stripe is guarded by its
 * own monitor, held for a lookup and an update of a few fields (light striping: up to 16 stripes, one below
 * 2048 keys so that small tables evict exactly the least recently used key). Finding or updating an entry
 * allocates nothing; a new key allocates its entry (and a copy of its text).
 */
final class LimitTable {
    /** How many of the least recently used entries a full stripe looks at for one to evict. */
    private static final int EVICT_SCAN = 8;

    /** One key's state; the fields other than key and hash are guarded by {@link #stripe}'s monitor. */
    static final class Entry {
        final Stripe stripe;
        /** The client's {@link InetAddress}, or the key's text as a String. */
        final Object key;
        final int hash;
        Entry chain;
        Entry newer;
        Entry older;
        /** Rate limits: the excess in thousandths of a request, and when it was last reduced, in ms. */
        long excess;
        long lastMillis = LeakyBucket.NEW;
        /** Concurrency limits: requests in flight; an entry with some is never evicted. */
        int inFlight;

        Entry(Stripe stripe, Object key, int hash) {
            this.stripe = stripe;
            this.key = key;
            this.hash = hash;
        }
    }

    /** A part of the table with its own monitor. */
    static final class Stripe {
        /** Grows with the keys (on a new key only), up to twice the capacity. */
        private Entry[] buckets = new Entry[16];
        private final int capacity;
        private int size;
        private Entry newest;
        private Entry oldest;
        long evictions;

        Stripe(int capacity) {
            this.capacity = capacity;
        }

        /**
         * The entry of the key ({@code address}, or else {@code span}'s text), made the most recently used;
         * a new one when absent, evicting the least recently used idle entry when full; null when full of
         * entries with requests in flight. Called holding this stripe's monitor.
         */
        Entry find(int hash, InetAddress address, KeySpan span) {
            int b = hash & (buckets.length - 1);
            for (Entry e = buckets[b]; e != null; e = e.chain) {
                if (e.hash == hash && (address != null ? address.equals(e.key) : e.key instanceof String
                        && sameText((String) e.key, span))) {
                    touch(e);
                    return e;
                }
            }
            if (size >= capacity && !evictOne()) {
                return null;
            }
            if (size >= buckets.length && buckets.length < 1 << 30) {
                grow();
                b = hash & (buckets.length - 1);
            }
            Entry e = new Entry(this, address != null ? address : span.copy(), hash);
            e.chain = buckets[b];
            buckets[b] = e;
            size++;
            link(e);
            return e;
        }

        int size() {
            return size;
        }

        private void grow() {
            Entry[] old = buckets;
            Entry[] grown = new Entry[old.length * 2];
            for (Entry head : old) {
                Entry e = head;
                while (e != null) {
                    Entry next = e.chain;
                    int b = e.hash & (grown.length - 1);
                    e.chain = grown[b];
                    grown[b] = e;
                    e = next;
                }
            }
            buckets = grown;
        }

        private boolean evictOne() {
            Entry e = oldest;
            for (int i = 0; i < EVICT_SCAN && e != null; i++, e = e.newer) {
                if (e.inFlight == 0) {
                    remove(e);
                    evictions++;
                    return true;
                }
            }
            return false;
        }

        private void remove(Entry e) {
            int b = e.hash & (buckets.length - 1);
            if (buckets[b] == e) {
                buckets[b] = e.chain;
            } else {
                Entry p = buckets[b];
                while (p.chain != e) {
                    p = p.chain;
                }
                p.chain = e.chain;
            }
            unlink(e);
            size--;
        }

        private void touch(Entry e) {
            if (newest != e) {
                unlink(e);
                link(e);
            }
        }

        private void link(Entry e) {
            e.older = newest;
            e.newer = null;
            if (newest != null) {
                newest.newer = e;
            } else {
                oldest = e;
            }
            newest = e;
        }

        private void unlink(Entry e) {
            if (e.older != null) {
                e.older.newer = e.newer;
            } else {
                oldest = e.newer;
            }
            if (e.newer != null) {
                e.newer.older = e.older;
            } else {
                newest = e.older;
            }
            e.newer = null;
            e.older = null;
        }
    }

    private final Stripe[] stripes;

    LimitTable(int maxKeys) {
        int n = Math.max(1, Math.min(16, Integer.highestOneBit(Math.max(1, maxKeys / 1024))));
        if (maxKeys < 2048) {
            n = 1;
        }
        stripes = new Stripe[n];
        for (int i = 0; i < n; i++) {
            // The remainder goes to the first stripes, so that the total is maxKeys exactly.
            stripes[i] = new Stripe(maxKeys / n + (i < maxKeys % n ? 1 : 0));
        }
    }

    /** The stripe of a key's hash. */
    Stripe stripe(int hash) {
        return stripes[(hash >>> 24) & (stripes.length - 1)];
    }

    /** Keys held now (for tests and stats; takes each stripe's monitor in turn). */
    int size() {
        int n = 0;
        for (Stripe s : stripes) {
            synchronized (s) {
                n += s.size();
            }
        }
        return n;
    }

    /** The hash of a client address key. */
    static int hash(InetAddress a) {
        return mix(a.hashCode());
    }

    /** The hash of a text key. */
    static int hash(KeySpan s) {
        int h = 0;
        for (int i = s.from; i < s.to; i++) {
            h = 31 * h + s.text.charAt(i);
        }
        return mix(h);
    }

    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ h >>> 16;
    }

    private static boolean sameText(String key, KeySpan s) {
        int n = s.length();
        if (key.length() != n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (key.charAt(i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
