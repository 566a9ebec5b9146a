package dev.lbkit.bench.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The rounds of a run, reduced to one row per tier, figure and contender (median, min, max), with the
 * ratios of every row to the direct limit and to each peer. Immutable.
 *
 * <p>A ratio is this contender's median divided by the other's: above 1 is better for a
 * {@link Sample.Better#HIGHER higher-is-better} figure, below 1 for a lower-is-better one.
 */
public final class Summary {

    /** The contender that measures the upstream without any balancer: the limit. */
    public static final String DIRECT = "direct";
    /** The contender under test. */
    public static final String LBKIT = "lbkit";
    /**
     * The least a Netty proxy does for the same traffic ({@code lb-bench/run --floor}): a reference that
     * shows Netty's and the kernel's share of lbkit's CPU, not a peer.
     */
    public static final String FLOOR = "floor";
    /**
     * The least a forwarder on io_uring operations over raw descriptors does for the L4 new-connection
     * traffic ({@code lb-bench/run --floor}, {@code UringFloor}): below Netty's channels; a reference too.
     */
    public static final String RAW_FLOOR = "rawfloor";
    /** Relative difference under which lbkit and a peer are reported as on par: 5%. */
    public static final double PAR_BAND = 0.05;

    /**
     * One figure of one contender.
     *
     * @param tier the tier
     * @param figure the figure
     * @param unit its unit
     * @param better which way is better
     * @param contender the contender
     * @param values the values of every round, in round order
     * @param median the median of {@code values}
     * @param min the smallest value
     * @param max the largest value
     */
    public record Row(String tier, String figure, String unit, Sample.Better better, String contender,
            List<Double> values, double median, double min, double max) {

        /** Copies the values. */
        public Row {
            values = List.copyOf(values);
        }
    }

    /**
     * The ratios of one contender's value to another's taken round by round (each round runs every
     * contender back to back), reduced to their median and spread. Drift of the machine between rounds
     * moves both values of a round together, so this median is steadier than the ratio of the medians.
     *
     * @param median the median of the per-round ratios
     * @param min the smallest per-round ratio
     * @param max the largest per-round ratio
     * @param rounds how many rounds measured both contenders
     */
    public record PairedRatio(double median, double min, double max, int rounds) {}

    private final List<Row> rows;
    private final Map<String, List<String>> contendersByTier;
    /** (tier, figure, contender) to round to value. */
    private final Map<List<String>, Map<Integer, Double>> byRound;

    private Summary(List<Row> rows, Map<String, List<String>> contendersByTier,
            Map<List<String>, Map<Integer, Double>> byRound) {
        this.rows = List.copyOf(rows);
        this.contendersByTier = contendersByTier;
        this.byRound = byRound;
    }

    /**
     * Reduces samples to rows. Tiers, figures and contenders keep the order of their first sample.
     *
     * @param samples the samples of a run
     * @return the summary
     */
    public static Summary of(List<Sample> samples) {
        Objects.requireNonNull(samples, "samples");
        Map<List<String>, List<Sample>> groups = new LinkedHashMap<>();
        Map<String, Set<String>> contenders = new LinkedHashMap<>();
        for (Sample s : samples) {
            groups.computeIfAbsent(List.of(s.tier(), s.figure(), s.contender()), k -> new ArrayList<>()).add(s);
            contenders.computeIfAbsent(s.tier(), k -> new LinkedHashSet<>()).add(s.contender());
        }
        List<Row> rows = new ArrayList<>();
        Map<List<String>, Map<Integer, Double>> byRound = new LinkedHashMap<>();
        for (Map.Entry<List<String>, List<Sample>> e : groups.entrySet()) {
            Map<Integer, Double> rounds = new LinkedHashMap<>();
            e.getValue().forEach(s -> rounds.put(s.round(), s.value()));
            byRound.put(e.getKey(), Collections.unmodifiableMap(rounds));
        }
        for (List<Sample> group : groups.values()) {
            Sample first = group.get(0);
            List<Sample> sorted = new ArrayList<>(group);
            sorted.sort((a, b) -> Integer.compare(a.round(), b.round()));
            List<Double> values = new ArrayList<>();
            for (Sample s : sorted) {
                if (!s.unit().equals(first.unit()) || s.better() != first.better()) {
                    throw new IllegalArgumentException("figure " + first.figure() + " has two units or directions: "
                            + first.unit() + "/" + first.better() + " and " + s.unit() + "/" + s.better());
                }
                values.add(s.value());
            }
            double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
            rows.add(new Row(first.tier(), first.figure(), first.unit(), first.better(), first.contender(), values,
                    median(v), Arrays.stream(v).min().orElseThrow(), Arrays.stream(v).max().orElseThrow()));
        }
        // Rows grouped by tier, then figure, then contender, each in first-seen order.
        List<Row> ordered = new ArrayList<>();
        for (String tier : contenders.keySet()) {
            List<String> figures = new ArrayList<>();
            for (Row r : rows) {
                if (r.tier().equals(tier) && !figures.contains(r.figure())) {
                    figures.add(r.figure());
                }
            }
            for (String figure : figures) {
                for (String contender : contenders.get(tier)) {
                    for (Row r : rows) {
                        if (r.tier().equals(tier) && r.figure().equals(figure) && r.contender().equals(contender)) {
                            ordered.add(r);
                        }
                    }
                }
            }
        }
        Map<String, List<String>> byTier = new LinkedHashMap<>();
        contenders.forEach((tier, set) -> byTier.put(tier, List.copyOf(set)));
        return new Summary(ordered, Collections.unmodifiableMap(byTier), Collections.unmodifiableMap(byRound));
    }

    /**
     * The median of values: the middle one, or the mean of the two middle ones.
     *
     * @param values at least one value
     * @return the median
     */
    public static double median(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        double[] v = values.clone();
        Arrays.sort(v);
        int mid = v.length / 2;
        return v.length % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    }

    /** @return every row, grouped by tier then figure */
    public List<Row> rows() {
        return rows;
    }

    /** @return the tiers, in first-seen order */
    public List<String> tiers() {
        return List.copyOf(contendersByTier.keySet());
    }

    /**
     * @param tier a tier
     * @return its contenders, in first-seen (round) order
     */
    public List<String> contenders(String tier) {
        return contendersByTier.getOrDefault(tier, List.of());
    }

    /**
     * The contenders a tier's rows are compared with: the direct limit first, if measured, then the Netty
     * floor and the raw io_uring floor, if measured, then the peers (every other contender but lbkit).
     *
     * @param tier a tier
     * @return the reference contenders
     */
    public List<String> references(String tier) {
        List<String> refs = new ArrayList<>();
        List<String> all = contenders(tier);
        if (all.contains(DIRECT)) {
            refs.add(DIRECT);
        }
        if (all.contains(FLOOR)) {
            refs.add(FLOOR);
        }
        if (all.contains(RAW_FLOOR)) {
            refs.add(RAW_FLOOR);
        }
        for (String c : all) {
            if (!isReference(c) && !c.equals(LBKIT)) {
                refs.add(c);
            }
        }
        return refs;
    }

    /** Whether a contender is a yardstick (direct, the floors) rather than a peer lbkit is judged against. */
    private static boolean isReference(String contender) {
        return contender.equals(DIRECT) || contender.equals(FLOOR) || contender.equals(RAW_FLOOR);
    }

    /**
     * @param tier the tier
     * @param figure the figure
     * @param contender the contender
     * @return that row, if measured
     */
    public Optional<Row> row(String tier, String figure, String contender) {
        return rows.stream()
                .filter(r -> r.tier().equals(tier) && r.figure().equals(figure) && r.contender().equals(contender))
                .findFirst();
    }

    /**
     * The ratio of a row's median to another contender's median for the same figure.
     *
     * @param row the row
     * @param other the other contender
     * @return the ratio, empty when other is the row's own contender, was not measured, or is zero
     */
    public Optional<Double> ratio(Row row, String other) {
        if (row.contender().equals(other)) {
            return Optional.empty();
        }
        return row(row.tier(), row.figure(), other)
                .filter(o -> o.median() != 0)
                .map(o -> row.median() / o.median());
    }

    /**
     * A row's values divided by another contender's, round by round, over the rounds that measured both.
     *
     * @param row the row
     * @param other the other contender
     * @return the median and spread of those ratios; empty when other is the row's own contender or no
     *     round measured both with a non-zero value for other
     */
    public Optional<PairedRatio> pairedRatio(Row row, String other) {
        Objects.requireNonNull(row, "row");
        Objects.requireNonNull(other, "other");
        if (row.contender().equals(other)) {
            return Optional.empty();
        }
        Map<Integer, Double> mine = byRound.get(List.of(row.tier(), row.figure(), row.contender()));
        Map<Integer, Double> theirs = byRound.get(List.of(row.tier(), row.figure(), other));
        if (mine == null || theirs == null) {
            return Optional.empty();
        }
        List<Double> ratios = new ArrayList<>();
        mine.forEach((round, value) -> {
            Double o = theirs.get(round);
            if (o != null && o != 0) {
                ratios.add(value / o);
            }
        });
        if (ratios.isEmpty()) {
            return Optional.empty();
        }
        double[] r = ratios.stream().mapToDouble(Double::doubleValue).toArray();
        return Optional.of(new PairedRatio(median(r), Arrays.stream(r).min().orElseThrow(),
                Arrays.stream(r).max().orElseThrow(), r.length));
    }

    /**
     * How a ratio reads for its figure: above 1 means better whatever the figure's direction.
     *
     * @param row the row the ratio belongs to
     * @param ratio a ratio from {@link #ratio}
     * @return the goodness, {@code ratio} or its inverse
     */
    public static double goodness(Row row, double ratio) {
        return row.better() == Sample.Better.LOWER ? (ratio == 0 ? Double.POSITIVE_INFINITY : 1 / ratio) : ratio;
    }

    /**
     * lbkit's standing against each peer on one figure: behind, on par (within {@link #PAR_BAND}) or ahead.
     *
     * @param row an lbkit row of a comparable figure
     * @return for example {@code "behind nginx 0.62×; ahead of haproxy 1.10×"}, empty if no peer was measured
     */
    public String verdict(Row row) {
        List<String> parts = new ArrayList<>();
        for (String peer : references(row.tier())) {
            if (isReference(peer)) {
                continue;
            }
            Optional<Double> ratio = ratio(row, peer);
            if (ratio.isEmpty()) {
                continue;
            }
            double g = goodness(row, ratio.get());
            String r = Format.ratio(ratio.get());
            if (g < 1 - PAR_BAND) {
                parts.add("**behind " + peer + "** " + r);
            } else if (g > 1 + PAR_BAND) {
                parts.add("ahead of " + peer + " " + r);
            } else {
                parts.add("on par with " + peer + " " + r);
            }
        }
        return String.join("; ", parts);
    }

    /**
     * @param row an lbkit row
     * @return whether lbkit is more than {@link #PAR_BAND} worse than at least one peer on it
     */
    public boolean behindAPeer(Row row) {
        return row.better() != Sample.Better.INFO && references(row.tier()).stream()
                .filter(p -> !isReference(p))
                .map(p -> ratio(row, p))
                .flatMap(Optional::stream)
                .anyMatch(r -> goodness(row, r) < 1 - PAR_BAND);
    }
}
