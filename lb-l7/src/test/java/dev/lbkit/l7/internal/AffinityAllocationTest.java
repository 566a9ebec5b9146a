package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.internal.Hashing;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.l7.HashKey;
import dev.lbkit.l7.StickyCookie;
import dev.lbkit.l7.UpstreamGroup;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Reading a request's hash key (every kind) and the member its sticky cookie names costs no allocation,
 * with header values still bytes as the request decoder leaves them: what every request of such a group runs.
 */
class AffinityAllocationTest {
    private static final int ROUNDS = 20_000;
    // Made once: AsciiString.cached makes a new object per call.
    private static final AsciiString HOST = AsciiString.cached("Host");
    private static final AsciiString COOKIE = AsciiString.cached("Cookie");
    private static final AsciiString USER = AsciiString.cached("X-User");

    @Test
    void keysAndStickyMembersAreReadWithoutAllocating() {
        UpstreamPool pool = UpstreamPool.builder().scheduler("ring").add(Upstream.of("127.0.0.1", 8081))
                .add(Upstream.of("127.0.0.1", 8082)).build();
        Member second = pool.member("127.0.0.1:8082").orElseThrow();
        String uri = "/shop/cart?x=1&id=u42&y=2";
        String host = "shop.example";
        String cookies = "a=1; SRV=" + Affinity.value(second) + "; uid=u42";
        String user = "u42";
        byte[] bytes = (host + cookies + user).getBytes(StandardCharsets.ISO_8859_1);
        List<HashKey> keys = List.of(HashKey.requestUri(), HashKey.path(), HashKey.header("X-User"),
                HashKey.cookie("uid"), HashKey.queryParameter("id"));
        Affinity[] affinities = new Affinity[keys.size()];
        for (int i = 0; i < affinities.length; i++) {
            affinities[i] = Affinity.of(UpstreamGroup.builder(pool).hashKey(keys.get(i))
                    .stickyCookie(StickyCookie.of("SRV")).build());
        }
        CompactHeaders h = (CompactHeaders) CompactHeaders.FACTORY.newHeaders();
        PickContext pick = new PickContext();
        KeySpan span = new KeySpan();
        long[] hashes = new long[affinities.length];
        Member[] sticky = new Member[1];
        Runnable request = () -> {
            h.refill(3, bytes.length);
            h.addLazy(HOST, bytes, 0, host.length());
            h.addLazy(COOKIE, bytes, host.length(), cookies.length());
            h.addLazy(USER, bytes, host.length() + cookies.length(), user.length());
            for (int i = 0; i < affinities.length; i++) {
                affinities[i].hashKey(pick.reset(), span, uri, uri, true, h);
                hashes[i] = pick.hashKeyValue();
                sticky[0] = affinities[i].stickyMember(pool, h);
            }
            pool.pick(pick, sticky[0]);
        };
        long perRequest = ThreadAllocation.perRun(request, ROUNDS);
        assertEquals(Hashing.hash64(uri), hashes[0]);
        assertEquals(Hashing.hash64("/shop/cart"), hashes[1]);
        for (int i = 2; i < hashes.length; i++) {
            assertEquals(Hashing.hash64("u42"), hashes[i], keys.get(i).toString());
        }
        assertSame(second, sticky[0]);
        assertTrue(perRequest == 0, perRequest + " bytes per request");
    }
}
