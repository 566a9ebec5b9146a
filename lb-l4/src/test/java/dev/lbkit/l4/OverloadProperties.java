package dev.lbkit.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lbkit.api.Member;
import dev.lbkit.l4.internal.ServiceState;
import java.net.InetSocketAddress;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** The -x/-y overload flag follows IPVS's bind/unbind rule for any sequence of connection events. */
class OverloadProperties {
    @Provide
    Arbitrary<List<Integer>> events() {
        return Arbitraries.integers().between(0, 3).list().ofMaxSize(200);
    }

    @Property(tries = 200)
    void overloadFollowsIpvs(@ForAll @IntRange(min = 0, max = 8) int upper, @ForAll @IntRange(min = 0, max = 8) int lower,
            @ForAll("events") List<Integer> events) {
        int y = upper == 0 ? 0 : Math.min(lower, upper);
        InetSocketAddress rs = new InetSocketAddress("127.0.0.1", 9);
        ServiceState state = new ServiceState(VirtualService.tcp(new InetSocketAddress("127.0.0.1", 0)).scheduler("rr")
                .realServer(RealServer.builder(rs).upperThreshold(upper).lowerThreshold(y).build()).build(),
                Timeouts.DEFAULT, L4Balancer.DEFAULT_TRASH_PERIOD);
        Member m = state.pool().snapshot().members().get(0);
        ServiceState.Dest d = state.dest(m);
        int active = 0;
        int inactive = 0;
        // Connections still connecting to the real server (SYN_RECV): counted in inactive.
        int connecting = 0;
        boolean overloaded = false;
        for (int e : events) {
            if (e == 0) {
                // A new connection binds (ip_vs_bind_dest) while its real server is connected: inactive.
                state.bindInactive(d);
                inactive++;
                connecting++;
                if (upper > 0 && active + inactive >= upper) {
                    overloaded = true;
                }
            } else if (e == 3 && connecting > 0) {
                // The real server answered: ESTABLISHED is active.
                state.toActive(d);
                connecting--;
                inactive--;
                active++;
            } else if (e == 1 && active > 0) {
                state.toInactive(d);
                active--;
                inactive++;
            } else if (e == 2 && inactive > 0) {
                // An entry expires or a connect fails (ip_vs_unbind_dest).
                state.unbindInactive(d, null);
                inactive--;
                connecting = Math.min(connecting, inactive);
                int total = active + inactive;
                if (y > 0 ? total < y : upper > 0 ? total * 4 < upper * 3 : true) {
                    overloaded = false;
                }
            }
            assertEquals(overloaded, m.isOverloaded(), "after " + e + " with " + active + "/" + inactive);
            assertEquals(active, m.active());
            assertEquals(inactive, m.inactive());
        }
        state.pool().close();
    }

    @Property(tries = 200)
    void largeNumbersKeepIpvsadmsColumnWidth(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long v) {
        StringBuilder sb = new StringBuilder();
        IpvsTable.largeNum(sb, v);
        assertEquals(9, sb.length(), sb.toString());
    }
}
