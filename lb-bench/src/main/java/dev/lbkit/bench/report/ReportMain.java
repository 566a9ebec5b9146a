package dev.lbkit.bench.report;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.imageio.ImageIO;

/**
 * Turns a results directory written by lb-bench/run ({@code raw.csv}, {@code meta.properties},
 * {@code notes.txt}) into {@code report.md}, {@code summary.csv}, {@code results.json} and one
 * {@code <tier>.png} per tier, and prints the Markdown report.
 *
 * <p>Usage: {@code java -cp lb-bench.jar dev.lbkit.bench.report.ReportMain RESULTS_DIR}.
 */
public final class ReportMain {

    private ReportMain() {
    }

    /**
     * Entry point.
     *
     * @param args the results directory
     * @throws IOException if a file cannot be read or written
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ReportMain RESULTS_DIR");
            System.exit(2);
        }
        System.setProperty("java.awt.headless", "true");
        System.out.print(write(Path.of(args[0])));
    }

    /**
     * Writes the report files into dir.
     *
     * @param dir a results directory holding at least {@code raw.csv}
     * @return the Markdown report
     * @throws IOException if a file cannot be read or written
     */
    public static String write(Path dir) throws IOException {
        Summary summary = Summary.of(Sample.readCsv(dir.resolve("raw.csv")));
        Map<String, String> meta = new LinkedHashMap<>();
        Path metaFile = dir.resolve("meta.properties");
        if (Files.exists(metaFile)) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(metaFile, StandardCharsets.UTF_8)) {
                p.load(r);
            }
            p.stringPropertyNames().forEach(k -> meta.put(k, p.getProperty(k)));
        }
        List<String> notes = new ArrayList<>();
        Path notesFile = dir.resolve("notes.txt");
        if (Files.exists(notesFile)) {
            for (String line : Files.readAllLines(notesFile, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    notes.add(line);
                }
            }
        }
        ReportWriter writer = new ReportWriter(summary, meta, notes);
        String md = writer.markdown();
        Files.writeString(dir.resolve("report.md"), md, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("summary.csv"), writer.summaryCsv(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("results.json"), writer.json(), StandardCharsets.UTF_8);
        BarCharts charts = new BarCharts(summary);
        for (String tier : summary.tiers()) {
            BufferedImage img = charts.draw(tier, "lbkit side by side: " + tier + "  (median of rounds, whiskers min–max)");
            ImageIO.write(img, "png", dir.resolve(tier + ".png").toFile());
        }
        return md;
    }
}
