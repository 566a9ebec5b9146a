package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.List;

/**
 * IPVS's least-load schedulers, with the kernel's formulas, over live counters
 * ({@link Member#active()}, {@link Member#inactive()}, {@link Member#effectiveWeight()}):
 *
 * <ul>
 *   <li>{@code lc} (ip_vs_lc): least {@code active * 256 + inactive}; weights other than 0 ignored.
 *   <li>{@code wlc} (ip_vs_wlc): least {@code (active * 256 + inactive) / weight}.
 *   <li>{@code sed} (ip_vs_sed): least {@code (active + 1) / weight}.
 *   <li>{@code nq} (ip_vs_nq): the first idle member ({@code active == 0}), else as {@code sed}.
 * </ul>
 *
 * Ratios are compared by cross-multiplication in 64 bits, never divided. Ties go to the first member in
 * pool order, as in IPVS. A pick scans the tier: O(n), no allocation, no lock.
 */
public final class LeastLoadScheduler implements Scheduler {
    /** Which formula. */
    public enum Kind {
        LC("lc"), WLC("wlc"), SED("sed"), NQ("nq");

        private final String schedulerName;

        Kind(String schedulerName) {
            this.schedulerName = schedulerName;
        }
    }

    private final Kind kind;

    public LeastLoadScheduler(Kind kind) {
        this.kind = kind;
    }

    @Override
    public String name() {
        return kind.schedulerName;
    }

    @Override
    public Picker newPicker(List<Member> members) {
        Member[] ms = Tables.weighted(members);
        if (ms.length == 0) {
            return Picker.EMPTY;
        }
        switch (kind) {
            case LC:
                return ctx -> lc(ms, ctx);
            case WLC:
                return ctx -> weighted(ms, ctx, false);
            case SED:
                return ctx -> weighted(ms, ctx, false);
            default:
                return ctx -> weighted(ms, ctx, true);
        }
    }

    /** IPVS's connection overhead: active connections weigh 256 times an inactive one. */
    static long overhead(Member m) {
        return ((long) m.active() << 8) + m.inactive();
    }

    private static Member lc(Member[] ms, PickContext ctx) {
        Member least = null;
        long loh = 0;
        for (Member m : ms) {
            long doh = overhead(m);
            // Eligibility is checked only for a better candidate: the result is the same, the scan cheaper.
            if ((least == null || doh < loh) && ctx.isEligible(m)) {
                least = m;
                loh = doh;
            }
        }
        return least;
    }

    private Member weighted(Member[] ms, PickContext ctx, boolean idleFirst) {
        boolean sed = kind != Kind.WLC;
        Member least = null;
        long loh = 0;
        long lw = 0;
        for (Member m : ms) {
            int dw = m.effectiveWeight();
            if (dw <= 0) {
                continue;
            }
            long doh;
            if (sed) {
                int active = m.active();
                if (idleFirst && active == 0 && ctx.isEligible(m)) {
                    return m;
                }
                doh = active + 1L;
            } else {
                doh = overhead(m);
            }
            if ((least == null || loh * dw > doh * lw) && ctx.isEligible(m)) {
                least = m;
                loh = doh;
                lw = dw;
            }
        }
        return least;
    }
}
