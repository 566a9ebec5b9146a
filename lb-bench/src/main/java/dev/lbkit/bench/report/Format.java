package dev.lbkit.bench.report;

import java.util.Locale;

/** Number formatting shared by the Markdown table and the charts. Stateless. */
final class Format {

    private Format() {
    }

    /** A value with as many decimals as its size deserves, no grouping, dot as decimal mark. */
    static String number(double v) {
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }

    /** A count: integral values without decimals, others as {@link #number}. */
    static String count(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.format(Locale.ROOT, "%.0f", v) : number(v);
    }

    /** A ratio, two decimals and a multiplication sign: {@code 0.62×}. */
    static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2f×", r);
    }

    /** A ratio with no sign, for CSV and JSON. */
    static String plain(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }
}
