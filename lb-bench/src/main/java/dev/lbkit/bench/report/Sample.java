package dev.lbkit.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One measured number: one contender, one figure, one round, as lb-bench/run writes it to {@code raw.csv}
 * ({@code tier,figure,unit,better,contender,round,value}). Immutable.
 *
 * @param tier the tier, e.g. {@code l7}
 * @param figure what was measured, e.g. {@code req_per_s@c64}
 * @param unit the value's unit, e.g. {@code req/s}
 * @param better which way is better
 * @param contender who was measured: {@code direct}, {@code lbkit} or a peer's name
 * @param round the round, from 1
 * @param value the measured value, in {@code unit}
 */
public record Sample(String tier, String figure, String unit, Better better, String contender, int round,
        double value) {

    /** The header line of {@code raw.csv}. */
    public static final String CSV_HEADER = "tier,figure,unit,better,contender,round,value";

    /** Which way a figure is better. */
    public enum Better {
        /** More is better (throughput). */
        HIGHER,
        /** Less is better (latency, memory, loss). */
        LOWER,
        /** A check, not a figure to compare (error counts, connections actually opened). */
        INFO
    }

    /**
     * Validates every field.
     *
     * @throws IllegalArgumentException if a name is blank or holds a comma, or the value is not finite
     */
    public Sample {
        for (String field : new String[] {tier, figure, unit, contender}) {
            Objects.requireNonNull(field, "field");
            if (field.isBlank() || field.contains(",")) {
                throw new IllegalArgumentException("bad field: '" + field + "'");
            }
        }
        Objects.requireNonNull(better, "better");
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("value must be finite, got " + value);
        }
    }

    /**
     * Reads a {@code raw.csv} file.
     *
     * @param file the file
     * @return its samples, in file order
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException naming the line, if a line is malformed
     */
    public static List<Sample> readCsv(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || (i == 0 && line.equals(CSV_HEADER))) {
                continue;
            }
            try {
                samples.add(parse(line));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return samples;
    }

    /**
     * Parses one line of {@code raw.csv}.
     *
     * @param line the line, without its end
     * @return the sample
     * @throws IllegalArgumentException if the line is malformed
     */
    public static Sample parse(String line) {
        String[] f = line.split(",", -1);
        if (f.length != 7) {
            throw new IllegalArgumentException("expected 7 fields, got " + f.length + ": " + line);
        }
        Better better;
        try {
            better = Better.valueOf(f[3].strip().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("better must be higher, lower or info, got '" + f[3] + "'", e);
        }
        return new Sample(f[0].strip(), f[1].strip(), f[2].strip(), better, f[4].strip(),
                Integer.parseInt(f[5].strip()), Double.parseDouble(f[6].strip()));
    }
}
