package dev.lbkit.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report writer on a small sample run: medians, ratios, verdicts and every output file. */
class ReportMainTest {

    private static final String RAW = """
            tier,figure,unit,better,contender,round,value
            l7,req_per_s@c64,req/s,higher,direct,1,40000
            l7,req_per_s@c64,req/s,higher,lbkit,1,9000
            l7,req_per_s@c64,req/s,higher,nginx,1,10000
            l7,req_per_s@c64,req/s,higher,haproxy,1,8000
            l7,req_per_s@c64,req/s,higher,direct,2,44000
            l7,req_per_s@c64,req/s,higher,lbkit,2,9500
            l7,req_per_s@c64,req/s,higher,nginx,2,12000
            l7,req_per_s@c64,req/s,higher,haproxy,2,9000
            l7,req_per_s@c64,req/s,higher,direct,3,42000
            l7,req_per_s@c64,req/s,higher,lbkit,3,11000
            l7,req_per_s@c64,req/s,higher,nginx,3,11000
            l7,req_per_s@c64,req/s,higher,haproxy,3,8500
            l7,p99_ms@c64,ms,lower,lbkit,1,2.0
            l7,p99_ms@c64,ms,lower,nginx,1,2.0
            l7,p99_ms@c64,ms,lower,haproxy,1,4.0
            l7,errors@c64,count,info,lbkit,1,3
            l7,errors@c64,count,info,nginx,1,0
            dns,queries_per_s,q/s,higher,lbkit,1,60000
            dns,queries_per_s,q/s,higher,dnsmasq,1,50000
            """;

    @Test
    void writesEveryFileWithMediansRatiosAndVerdicts(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("raw.csv"), RAW, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("meta.properties"), "date=2026-01-02T03:04:05Z\nrounds=3\nduration_s=1\n"
                + "nproc=2\ncommand=lb-bench/run --quick\n", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("notes.txt"), "dns: lbkit skipped: example note\n", StandardCharsets.UTF_8);

        String md = ReportMain.write(dir);

        // lbkit: median 9500 of 9000/9500/11000; nginx 11000; haproxy 8500; direct 42000.
        assertTrue(md.contains("| `req_per_s@c64` req/s ↑ | lbkit | 9500 | 9000–11000 | 0.23× | 0.86× | 1.12× | "
                + "**behind nginx** 0.86×; ahead of haproxy 1.12× |"), md);
        // Lower is better: 2.0 vs 2.0 is on par, 2.0 vs 4.0 (ratio 0.5) is ahead.
        assertTrue(md.contains("on par with nginx 1.00×; ahead of haproxy 0.50×"), md);
        assertTrue(md.contains("- l7 `req_per_s@c64` req/s ↑: lbkit 9500 req/s, **behind nginx** 0.86×"), md);
        assertTrue(md.contains("ahead of dnsmasq 1.20×"), md);
        assertTrue(md.contains("l7 errors@c64 lbkit: [3] count"), "non-zero error counts are listed: " + md);
        assertFalse(md.contains("errors@c64 nginx"), "all-zero checks stay out: " + md);
        assertTrue(md.contains("- dns: lbkit skipped: example note"), md);
        assertTrue(md.contains("`lb-bench/run --quick`"), md);

        List<String> summary = Files.readAllLines(dir.resolve("summary.csv"));
        assertEquals("tier,figure,unit,better,contender,rounds,median,min,max,ratio_to_direct,ratio_to_nginx,"
                + "ratio_to_haproxy,ratio_to_dnsmasq", summary.get(0));
        assertTrue(summary.contains("l7,req_per_s@c64,req/s,higher,lbkit,3,9500.00,9000.00,11000.0,0.226190,"
                + "0.863636,1.11765,"), String.join("\n", summary));

        String json = Files.readString(dir.resolve("results.json"));
        assertTrue(json.contains("\"contender\": \"lbkit\", \"median\": 9500.00, \"min\": 9000.00, "
                + "\"max\": 11000.0, \"values\": [9000.00, 9500.00, 11000.0]"), json);
        assertTrue(json.contains("\"notes\": [\n    \"dns: lbkit skipped: example note\"\n  ]"), json);

        BufferedImage l7 = ImageIO.read(dir.resolve("l7.png").toFile());
        BufferedImage dns = ImageIO.read(dir.resolve("dns.png").toFile());
        assertEquals(2 * 330, l7.getWidth(), "two comparable l7 figures, one panel each");
        assertEquals(330, dns.getWidth());
        assertTrue(l7.getHeight() > 200 && dns.getHeight() > 200);
    }

    @Test
    void theNettyFloorIsAReferenceNotAPeer(@TempDir Path dir) throws Exception {
        String md = report(dir, """
                tier,figure,unit,better,contender,round,value
                l7,req_per_s@c64,req/s,higher,direct,1,40000
                l7,req_per_s@c64,req/s,higher,lbkit,1,9000
                l7,req_per_s@c64,req/s,higher,floor,1,12000
                l7,req_per_s@c64,req/s,higher,nginx,1,9000
                """, "rounds=1\nduration_s=1\n");

        // Columns: ÷ direct, ÷ floor, ÷ nginx; lbkit is 0.75× the floor, yet on par with its one peer.
        assertTrue(md.contains("| ÷ direct | ÷ floor | ÷ nginx |"), md);
        assertTrue(md.contains("| `req_per_s@c64` req/s ↑ | lbkit | 9000 | 9000–9000 | 0.23× | 0.75× | 1.00× | "
                + "on par with nginx 1.00× |"), md);
        assertTrue(md.contains("Nowhere by more than the on-par band"), md);
    }

    @Test
    void theRawIoUringFloorIsAReferenceToo(@TempDir Path dir) throws Exception {
        String md = report(dir, """
                tier,figure,unit,better,contender,round,value
                l4,new_conn_per_s@c32,conn/s,higher,lbkit,1,12000
                l4,new_conn_per_s@c32,conn/s,higher,floor,1,12500
                l4,new_conn_per_s@c32,conn/s,higher,rawfloor,1,15000
                l4,new_conn_per_s@c32,conn/s,higher,nginx,1,12000
                """, "rounds=1\nduration_s=1\n");

        // Both floors come before the peers; lbkit is 0.80× the raw floor, yet on par with nginx.
        assertTrue(md.contains("| ÷ floor | ÷ rawfloor | ÷ nginx |"), md);
        assertTrue(md.contains("| 0.96× | 0.80× | 1.00× | on par with nginx 1.00× |"), md);
        assertTrue(md.contains("Nowhere by more than the on-par band"), md);
    }

    @Test
    void pairedRatiosDivideRoundByRound(@TempDir Path dir) throws Exception {
        // The machine slows down and speeds up between rounds; within a round lbkit trails nginx twice.
        String md = report(dir, """
                tier,figure,unit,better,contender,round,value
                l7,req_per_s@c1,req/s,higher,lbkit,1,100
                l7,req_per_s@c1,req/s,higher,nginx,1,110
                l7,req_per_s@c1,req/s,higher,lbkit,2,200
                l7,req_per_s@c1,req/s,higher,nginx,2,190
                l7,req_per_s@c1,req/s,higher,lbkit,3,300
                l7,req_per_s@c1,req/s,higher,nginx,3,330
                l7,req_per_s@c1,req/s,higher,haproxy,4,330
                """, "rounds=3\n");

        // Ratio of the medians: 200 / 190 = 1.05. Round by round: 0.91, 1.05, 0.91.
        assertTrue(md.contains("| `req_per_s@c1` req/s ↑ | lbkit | 200 | 100–300 | 1.05× |"), md);
        // haproxy ran in no round lbkit ran in: no paired ratio.
        assertTrue(md.contains("| `req_per_s@c1` req/s ↑ | 0.91× (0.91–1.05) | — |"), md);
        String json = Files.readString(dir.resolve("results.json"));
        assertTrue(json.contains("\"paired_ratios\": {\"nginx\": {\"median\": 0.909091, \"min\": 0.909091, "
                + "\"max\": 1.05263, \"rounds\": 3}}"), json);
    }

    /** Writes a run's raw.csv and meta.properties into dir and the report from them. */
    private static String report(Path dir, String raw, String meta) throws Exception {
        Files.writeString(dir.resolve("raw.csv"), raw, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("meta.properties"), meta, StandardCharsets.UTF_8);
        return ReportMain.write(dir);
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, Summary.median(new double[] {3, 1, 2}));
        assertEquals(2.5, Summary.median(new double[] {4, 1, 3, 2}));
        assertEquals(7.0, Summary.median(new double[] {7}));
        assertThrows(IllegalArgumentException.class, () -> Summary.median(new double[0]));
    }

    @Test
    void malformedLinesAreRejectedWithTheirLineNumber(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("raw.csv"), Sample.CSV_HEADER + "\nl7,x,ms,sideways,lbkit,1,2\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sample.readCsv(dir.resolve("raw.csv")));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("sideways"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sample.parse("l7,x,ms,higher,lbkit,1"));
        assertThrows(IllegalArgumentException.class, () -> Sample.parse("l7,x,ms,higher,lbkit,1,NaN"));
    }

    @Test
    void aFigureWithTwoUnitsIsRejected() {
        List<Sample> samples = List.of(Sample.parse("l7,x,ms,lower,lbkit,1,2"), Sample.parse("l7,x,s,lower,lbkit,2,2"));
        assertThrows(IllegalArgumentException.class, () -> Summary.of(samples));
    }
}
