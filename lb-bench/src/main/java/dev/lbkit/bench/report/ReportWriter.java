package dev.lbkit.bench.report;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Writes a {@link Summary} as a Markdown report, a summary CSV and a JSON document. Stateless apart from
 * the immutable inputs; safe to share.
 */
public final class ReportWriter {

    private static final Map<String, String> TIER_TITLES = Map.of(
            "l7", "L7 HTTP proxy: wrk, keep-alive, 40-byte page, 1 / 64 / 512 connections",
            "l4", "L4 TCP proxy: iperf3 one stream; wrk with `Connection: close` (one connection per request)",
            "dns", "DNS: dnsperf, `A my-awesome-highload-app.local`, 100 queries in flight",
            "mem", "Memory: idle keep-alive client connections (one request each, then idle) on the L7 listener");

    private final Summary summary;
    private final Map<String, String> meta;
    private final List<String> notes;

    /**
     * @param summary the rows
     * @param meta the run's description ({@code meta.properties}): date, machine, command, versions
     * @param notes what the run skipped or noticed, one line each
     */
    public ReportWriter(Summary summary, Map<String, String> meta, List<String> notes) {
        this.summary = Objects.requireNonNull(summary, "summary");
        this.meta = Map.copyOf(meta);
        this.notes = List.copyOf(notes);
    }

    /** @return the report in Markdown, charts referenced as {@code <tier>.png} beside it */
    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# lbkit side by side: ").append(meta.getOrDefault("date", "undated")).append("\n\n");
        md.append(machine()).append('\n');
        md.append("Each cell is the median of ").append(meta.getOrDefault("rounds", "the"))
                .append(" rounds (").append(meta.getOrDefault("duration_s", "?"))
                .append(" s each), contenders alternating round by round; min–max is the spread over rounds. ")
                .append("`÷ X` is this row's median divided by X's: for ↑ figures above 1 is better, for ↓ figures "
                        + "below 1 is better. `direct` is the upstream without any balancer: the limit. ")
                .append("lbkit is *on par* with a peer within ±")
                .append(Math.round(Summary.PAR_BAND * 100)).append("%.\n\n");
        List<Summary.Row> behind = new ArrayList<>();
        for (String tier : summary.tiers()) {
            md.append("## ").append(TIER_TITLES.getOrDefault(tier, tier)).append("\n\n");
            List<String> refs = summary.references(tier);
            md.append("| figure | contender | median | min–max |");
            refs.forEach(r -> md.append(" ÷ ").append(r).append(" |"));
            md.append(" lbkit vs peers |\n|---|---|---:|---:|");
            refs.forEach(r -> md.append("---:|"));
            md.append("---|\n");
            for (Summary.Row row : summary.rows()) {
                if (!row.tier().equals(tier) || row.better() == Sample.Better.INFO) {
                    continue;
                }
                md.append("| ").append(figureLabel(row)).append(" | ").append(row.contender()).append(" | ")
                        .append(Format.number(row.median())).append(" | ")
                        .append(Format.number(row.min())).append("–").append(Format.number(row.max())).append(" |");
                for (String ref : refs) {
                    md.append(' ').append(summary.ratio(row, ref).map(Format::ratio).orElse("—")).append(" |");
                }
                md.append(' ').append(row.contender().equals(Summary.LBKIT) ? summary.verdict(row) : "")
                        .append(" |\n");
                if (row.contender().equals(Summary.LBKIT) && summary.behindAPeer(row)) {
                    behind.add(row);
                }
            }
            md.append("\n![").append(tier).append("](").append(tier).append(".png)\n\n");
            pairedTable(md, tier);
        }
        md.append("## Where lbkit is behind a peer\n\n");
        if (behind.isEmpty()) {
            md.append(summary.rows().stream().anyMatch(r -> r.contender().equals(Summary.LBKIT))
                    ? "Nowhere by more than the on-par band in this run.\n\n"
                    : "lbkit was not measured in this run (see the notes).\n\n");
        } else {
            for (Summary.Row row : behind) {
                md.append("- ").append(row.tier()).append(' ').append(figureLabel(row)).append(": lbkit ")
                        .append(Format.number(row.median())).append(' ').append(row.unit()).append(", ")
                        .append(summary.verdict(row)).append('\n');
            }
            md.append('\n');
        }
        List<String> checks = checks();
        if (!checks.isEmpty() || !notes.isEmpty()) {
            md.append("## Checks and notes\n\n");
            checks.forEach(c -> md.append("- ").append(c).append('\n'));
            notes.forEach(n -> md.append(n.startsWith("    ") ? "  " + n.strip() : "- " + n).append('\n'));
            md.append('\n');
        }
        md.append("Raw numbers: `raw.csv` (every round), `summary.csv`, `results.json`; run description: "
                + "`meta.properties`.\n");
        return md.toString();
    }

    /**
     * lbkit against each peer round by round: the median and spread of the per-round ratios, which the
     * machine's drift between rounds moves less than the ratio of the medians.
     */
    private void pairedTable(StringBuilder md, String tier) {
        List<String> peers = new ArrayList<>();
        for (String r : summary.references(tier)) {
            if (!r.equals(Summary.DIRECT)) {
                peers.add(r);
            }
        }
        List<Summary.Row> mine = new ArrayList<>();
        for (Summary.Row row : summary.rows()) {
            if (row.tier().equals(tier) && row.contender().equals(Summary.LBKIT) && row.better() != Sample.Better.INFO
                    && peers.stream().anyMatch(p -> summary.pairedRatio(row, p).isPresent())) {
                mine.add(row);
            }
        }
        if (mine.isEmpty()) {
            return;
        }
        md.append("Round by round: lbkit's value divided by each contender's in the same round, median "
                + "(min–max) over the rounds.\n\n| figure |");
        peers.forEach(p -> md.append(" lbkit ÷ ").append(p).append(" |"));
        md.append("\n|---|");
        peers.forEach(p -> md.append("---:|"));
        md.append('\n');
        for (Summary.Row row : mine) {
            md.append("| ").append(figureLabel(row)).append(" |");
            for (String p : peers) {
                md.append(' ').append(summary.pairedRatio(row, p)
                        .map(r -> Format.ratio(r.median()) + " (" + String.format(Locale.ROOT, "%.2f–%.2f",
                                r.min(), r.max()) + ")")
                        .orElse("—")).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
    }

    private String machine() {
        StringBuilder m = new StringBuilder();
        m.append("- Machine: ").append(meta.getOrDefault("nproc", "?")).append(" CPUs (")
                .append(meta.getOrDefault("cpu", "?")).append("), ").append(meta.getOrDefault("os", "?"))
                .append(", ").append(meta.getOrDefault("kernel", "?")).append('\n');
        m.append("- Java: ").append(meta.getOrDefault("java", "?")).append("; lbkit JVM options: ")
                .append(meta.getOrDefault("lbkit_java_opts", "(JVM defaults)")).append("; lbkit commit ")
                .append(meta.getOrDefault("lbkit_commit", "?")).append('\n');
        m.append("- Peers: ");
        List<String> peers = new ArrayList<>();
        for (String k : List.of("nginx", "haproxy", "dnsmasq", "wrk", "iperf3", "dnsperf")) {
            if (meta.containsKey(k)) {
                peers.add(meta.get(k));
            }
        }
        m.append(peers.isEmpty() ? "none" : String.join("; ", peers)).append('\n');
        m.append("- Command: `").append(meta.getOrDefault("command", "lb-bench/run")).append("` (")
                .append(meta.getOrDefault("elapsed_s", "?")).append(" s)\n");
        m.append("- Every contender: one worker / event loop / thread; ").append(meta.getOrDefault("pinning", "?"))
                .append('\n');
        m.append("- Load average at start / end: ").append(meta.getOrDefault("loadavg_start", "?")).append(" / ")
                .append(meta.getOrDefault("loadavg_end", "?"))
                .append(" (other work on the machine shifts absolute numbers; compare ratios)\n");
        return m.toString();
    }

    /** The info figures that are not all zero, e.g. wrk errors, and idle connections actually opened. */
    private List<String> checks() {
        List<String> out = new ArrayList<>();
        for (Summary.Row row : summary.rows()) {
            if (row.better() != Sample.Better.INFO) {
                continue;
            }
            boolean connCount = row.figure().startsWith("idle_conns_open");
            if (connCount || row.values().stream().anyMatch(v -> v != 0)) {
                out.add(row.tier() + ' ' + row.figure() + ' ' + row.contender() + ": "
                        + row.values().stream().map(Format::count).toList() + ' ' + row.unit());
            }
        }
        return out;
    }

    private static String figureLabel(Summary.Row row) {
        return "`" + row.figure() + "` " + row.unit() + (row.better() == Sample.Better.HIGHER ? " ↑" : " ↓");
    }

    /** @return one line per row: medians, spread and every ratio, with a header line */
    public String summaryCsv() {
        Set<String> refs = allReferences();
        StringBuilder csv = new StringBuilder("tier,figure,unit,better,contender,rounds,median,min,max");
        refs.forEach(r -> csv.append(",ratio_to_").append(r));
        csv.append('\n');
        for (Summary.Row row : summary.rows()) {
            csv.append(row.tier()).append(',').append(row.figure()).append(',').append(row.unit()).append(',')
                    .append(row.better().name().toLowerCase(java.util.Locale.ROOT)).append(',')
                    .append(row.contender()).append(',').append(row.values().size()).append(',')
                    .append(Format.plain(row.median())).append(',').append(Format.plain(row.min())).append(',')
                    .append(Format.plain(row.max()));
            for (String ref : refs) {
                csv.append(',').append(summary.ratio(row, ref).map(Format::plain).orElse(""));
            }
            csv.append('\n');
        }
        return csv.toString();
    }

    /** @return the whole run as JSON: meta, rows (with every round's value and the ratios), notes */
    public String json() {
        StringBuilder j = new StringBuilder("{\n  \"meta\": {");
        List<String> keys = new ArrayList<>(meta.keySet());
        keys.sort(null);
        for (int i = 0; i < keys.size(); i++) {
            j.append(i == 0 ? "\n    " : ",\n    ").append(quote(keys.get(i))).append(": ")
                    .append(quote(meta.get(keys.get(i))));
        }
        j.append("\n  },\n  \"rows\": [");
        List<Summary.Row> rows = summary.rows();
        for (int i = 0; i < rows.size(); i++) {
            Summary.Row row = rows.get(i);
            j.append(i == 0 ? "\n    " : ",\n    ").append("{\"tier\": ").append(quote(row.tier()))
                    .append(", \"figure\": ").append(quote(row.figure()))
                    .append(", \"unit\": ").append(quote(row.unit()))
                    .append(", \"better\": ").append(quote(row.better().name().toLowerCase(java.util.Locale.ROOT)))
                    .append(", \"contender\": ").append(quote(row.contender()))
                    .append(", \"median\": ").append(Format.plain(row.median()))
                    .append(", \"min\": ").append(Format.plain(row.min()))
                    .append(", \"max\": ").append(Format.plain(row.max()))
                    .append(", \"values\": [");
            for (int v = 0; v < row.values().size(); v++) {
                j.append(v == 0 ? "" : ", ").append(Format.plain(row.values().get(v)));
            }
            j.append("], \"ratios\": {");
            boolean first = true;
            for (String ref : summary.references(row.tier())) {
                Optional<Double> r = summary.ratio(row, ref);
                if (r.isPresent()) {
                    j.append(first ? "" : ", ").append(quote(ref)).append(": ").append(Format.plain(r.get()));
                    first = false;
                }
            }
            j.append("}, \"paired_ratios\": {");
            first = true;
            for (String ref : summary.references(row.tier())) {
                Optional<Summary.PairedRatio> r = summary.pairedRatio(row, ref);
                if (r.isPresent()) {
                    j.append(first ? "" : ", ").append(quote(ref)).append(": {\"median\": ")
                            .append(Format.plain(r.get().median())).append(", \"min\": ")
                            .append(Format.plain(r.get().min())).append(", \"max\": ")
                            .append(Format.plain(r.get().max())).append(", \"rounds\": ")
                            .append(r.get().rounds()).append('}');
                    first = false;
                }
            }
            j.append("}}");
        }
        j.append("\n  ],\n  \"notes\": [");
        for (int i = 0; i < notes.size(); i++) {
            j.append(i == 0 ? "\n    " : ",\n    ").append(quote(notes.get(i)));
        }
        j.append(notes.isEmpty() ? "]\n}\n" : "\n  ]\n}\n");
        return j.toString();
    }

    private Set<String> allReferences() {
        Set<String> refs = new LinkedHashSet<>();
        summary.tiers().forEach(t -> refs.addAll(summary.references(t)));
        return refs;
    }

    static String quote(String s) {
        StringBuilder q = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                case '\n' -> q.append("\\n");
                case '\r' -> q.append("\\r");
                case '\t' -> q.append("\\t");
                default -> {
                    if (c < 0x20) {
                        q.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        q.append(c);
                    }
                }
            }
        }
        return q.append('"').toString();
    }
}
