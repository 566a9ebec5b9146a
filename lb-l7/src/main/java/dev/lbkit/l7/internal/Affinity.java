package dev.lbkit.l7.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Hashing;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.l7.HashKey;
import dev.lbkit.l7.StickyCookie;
import dev.lbkit.l7.UpstreamGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Arrays;
import java.util.List;

/**
 * A group's session affinity per request: the hash key ({@link HashKey}) read from the request in place
 * and set on the pick, and the sticky cookie ({@link StickyCookie}): the member it names, its removal from
 * the request, the {@code Set-Cookie} for the member that answered. Thread-safe: the configuration is
 * immutable and the table of the members' cookie values is rebuilt, off no lock, when the pool's snapshot
 * changes; a request's work allocates nothing, except the Cookie field that loses the balancer's cookie
 * and a {@code Set-Cookie} for a member that has left the pool.
 */
final class Affinity {
    private static final AsciiString COOKIE = HttpHeaderNames.COOKIE;

    private final KeyReader key;
    /** Null without a sticky cookie. */
    private final StickyCookie cookie;
    private final AsciiString cookieName;
    private volatile Table table;

    private Affinity(UpstreamGroup group) {
        this.key = new KeyReader(group.hashKey());
        this.cookie = group.stickyCookie().orElse(null);
        this.cookieName = cookie == null ? null : AsciiString.cached(cookie.name());
    }

    /** The affinity of {@code group}, or null when it has neither a hash key of its own nor a sticky cookie. */
    static Affinity of(UpstreamGroup group) {
        return group.hashKey().kind() == HashKey.Kind.CLIENT_ADDRESS && group.stickyCookie().isEmpty() ? null
                : new Affinity(group);
    }

    boolean sticky() {
        return cookie != null;
    }

    /**
     * Sets {@code pick}'s hash key from the request, read into {@code span} (the connection's). When the
     * request has no such key, or an empty one, marks the key missing, so that the hash schedulers place
     * it by round robin (nginx's {@code hash} with an empty key); a group keyed by the client address
     * leaves the pick as it is (its client address is the key).
     *
     * @param requestUri the request target as the client sent it (origin form)
     * @param path       the normalised path; {@code query} says whether it still ends with the query
     */
    void hashKey(PickContext pick, KeySpan span, String requestUri, String path, boolean query, HttpHeaders h) {
        if (key.read(span, requestUri, path, query, h)) {
            pick.hashKey(span.text, span.from, span.to);
        } else if (key.kind != HashKey.Kind.CLIENT_ADDRESS) {
            pick.hashKeyMissing();
        }
    }

    /**
     * The member of {@code pool} that the request's sticky cookie names (the first pair of that name with
     * a value an upstream of the pool has), or null. Allocation-free once the pool's table is built.
     */
    Member stickyMember(UpstreamPool pool, HttpHeaders h) {
        Table t = table(pool);
        if (h instanceof CompactHeaders) {
            CompactHeaders c = (CompactHeaders) h;
            for (int i = c.indexOfName(COOKIE, 0); i >= 0; i = c.indexOfName(COOKIE, i + 1)) {
                Member m = t.named(c.valueInPlace(i), cookieName);
                if (m != null) {
                    return m;
                }
            }
            return null;
        }
        for (String v : h.getAll(COOKIE)) {
            Member m = t.named(v, cookieName);
            if (m != null) {
                return m;
            }
        }
        return null;
    }

    /** Removes the sticky cookie from the request's Cookie fields; a field left empty goes. */
    void removeCookie(HttpHeaders h) {
        if (h instanceof CompactHeaders) {
            CompactHeaders c = (CompactHeaders) h;
            int i = c.indexOfName(COOKIE, 0);
            while (i >= 0) {
                String rest = Cookies.remove(c.valueInPlace(i), cookieName);
                if (rest == null) {
                    i = c.indexOfName(COOKIE, i + 1);
                } else if (rest.isEmpty()) {
                    c.removeAt(i);
                    i = c.indexOfName(COOKIE, i);
                } else {
                    c.replaceValue(i, rest);
                    i = c.indexOfName(COOKIE, i + 1);
                }
            }
            return;
        }
        List<String> all = h.getAll(COOKIE);
        boolean changed = false;
        String[] out = new String[all.size()];
        for (int i = 0; i < out.length; i++) {
            String rest = Cookies.remove(all.get(i), cookieName);
            changed |= rest != null;
            out[i] = rest == null ? all.get(i) : rest;
        }
        if (changed) {
            h.remove(COOKIE);
            for (String v : out) {
                if (!v.isEmpty()) {
                    h.add(COOKIE, v);
                }
            }
        }
    }

    /** The {@code Set-Cookie} value that sends a client to {@code m}. */
    CharSequence setCookie(UpstreamPool pool, Member m) {
        CharSequence v = table(pool).setCookie(m);
        return v != null ? v : cookie.setCookie(value(m));
    }

    /** A member's cookie value: 16 hex digits of a stable hash of its key ({@code host:port}). */
    static String value(Member m) {
        return hex(id(m));
    }

    private static long id(Member m) {
        return Hashing.hash64(m.upstream().key());
    }

    private static String hex(long v) {
        String s = Long.toHexString(v);
        return "0".repeat(16 - s.length()) + s;
    }

    private Table table(UpstreamPool pool) {
        PoolSnapshot s = pool.snapshot();
        Table t = table;
        if (t == null || t.snapshot != s) {
            t = new Table(s, cookie);
            table = t;
        }
        return t;
    }

    /** The cookie values of one snapshot's members, sorted for a binary search, and their Set-Cookie values. */
    private static final class Table {
        final PoolSnapshot snapshot;
        final long[] ids;
        final Member[] members;
        final Member[] byMemberId;
        final AsciiString[] setCookies;

        Table(PoolSnapshot s, StickyCookie cookie) {
            this.snapshot = s;
            List<Member> all = s.members();
            int n = all.size();
            Member[] sorted = all.toArray(new Member[0]);
            Arrays.sort(sorted, (a, b) -> Long.compare(id(a), id(b)));
            this.members = sorted;
            this.ids = new long[n];
            int maxId = -1;
            for (int i = 0; i < n; i++) {
                ids[i] = id(sorted[i]);
                maxId = Math.max(maxId, sorted[i].id());
            }
            this.byMemberId = new Member[maxId + 1];
            this.setCookies = new AsciiString[maxId + 1];
            if (cookie != null) {
                for (Member m : sorted) {
                    byMemberId[m.id()] = m;
                    setCookies[m.id()] = new AsciiString(cookie.setCookie(value(m)));
                }
            }
        }

        /** The member whose value the first pair named {@code name} in {@code v} holds, or null. */
        Member named(CharSequence v, CharSequence name) {
            long r = Cookies.find(v, name);
            if (r < 0) {
                return null;
            }
            int from = (int) (r >>> 32);
            if ((int) r - from != 16) {
                return null;
            }
            long id = 0;
            for (int i = from; i < from + 16; i++) {
                char c = v.charAt(i);
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d < 0) {
                    return null;
                }
                id = id << 4 | d;
            }
            int i = Arrays.binarySearch(ids, id);
            return i < 0 ? null : members[i];
        }

        /** The Set-Cookie value for {@code m}, or null when it is not in this table. */
        AsciiString setCookie(Member m) {
            int id = m.id();
            return id < byMemberId.length && byMemberId[id] == m ? setCookies[id] : null;
        }
    }
}
