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
        // Weights are read once here: every weight change (edit, drain, slow start) rebuilds the picker.
        int[] w = Tables.weightsOf(ms);
        switch (kind) {
            case LC:
                return ctx -> lc(ms, ctx);
            case WLC:
                return ctx -> wlc(ms, w, ctx);
            case SED:
                return ctx -> sed(ms, w, ctx, false);
            default:
                return ctx -> sed(ms, w, ctx, true);
        }
    }

    /** IPVS's connection overhead: active connections weigh 256 times an inactive one. */
    static long overhead(Member m) {
        return ((long) m.active() << 8) + m.inactive();
    }

    // In lc and wlc the inactive count (another cache line) is read only when the active count alone
    // does not already rule the member out. Eligibility is checked only for a better candidate: the
    // result is the same as checking it first, the scan cheaper.

    private static Member lc(Member[] ms, PickContext ctx) {
        Member least = null;
        long loh = 0;
        for (Member m : ms) {
            long floor = (long) m.active() << 8;
            if (least != null && floor >= loh) {
                continue;
            }
            long doh = floor + m.inactive();
            if ((least == null || doh < loh) && ctx.isEligible(m)) {
                least = m;
                loh = doh;
            }
        }
        return least;
    }

    private static Member wlc(Member[] ms, int[] w, PickContext ctx) {
        Member least = null;
        long loh = 0;
        long lw = 0;
        for (int i = 0; i < ms.length; i++) {
            Member m = ms[i];
            long dw = w[i];
            long floor = (long) m.active() << 8;
            if (least != null && loh * dw <= floor * lw) {
                continue;
            }
            long doh = floor + m.inactive();
            if ((least == null || loh * dw > doh * lw) && ctx.isEligible(m)) {
                least = m;
                loh = doh;
                lw = dw;
            }
        }
        return least;
    }

    private static Member sed(Member[] ms, int[] w, PickContext ctx, boolean idleFirst) {
        Member least = null;
        long loh = 0;
        long lw = 0;
        for (int i = 0; i < ms.length; i++) {
            Member m = ms[i];
            int active = m.active();
            if (idleFirst && active == 0 && ctx.isEligible(m)) {
                return m;
            }
            long dw = w[i];
            long doh = active + 1L;
            if ((least == null || loh * dw > doh * lw) && ctx.isEligible(m)) {
                least = m;
                loh = doh;
                lw = dw;
            }
        }
        return least;
    }
}
