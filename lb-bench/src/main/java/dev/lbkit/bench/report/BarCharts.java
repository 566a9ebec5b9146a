package dev.lbkit.bench.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Draws one PNG per tier with java.awt (headless, no Python needed): one panel per figure, one bar per
 * contender at its median, a whisker from the round minimum to the maximum. Stateless; safe to share.
 */
public final class BarCharts {

    private static final int PANEL_W = 330;
    private static final int PANEL_H = 250;
    private static final int COLUMNS = 3;
    private static final int TITLE_H = 34;
    private static final Map<String, Color> COLORS = Map.of(
            "direct", new Color(0x9e9e9e),
            "lbkit", new Color(0x1f77b4),
            "nginx", new Color(0x2ca02c),
            "haproxy", new Color(0xd62728),
            "dnsmasq", new Color(0x9467bd),
            "floor", new Color(0x8c564b),
            "rawfloor", new Color(0xbcbd22));
    private static final Color OTHER = new Color(0xff7f0e);

    private final Summary summary;

    /** @param summary the rows to draw */
    public BarCharts(Summary summary) {
        this.summary = Objects.requireNonNull(summary, "summary");
    }

    /**
     * Draws a tier.
     *
     * @param tier the tier
     * @param title the title over the panels
     * @return the image, or an image with a single "no figures" line if the tier has no comparable figures
     */
    public BufferedImage draw(String tier, String title) {
        List<String> figures = new ArrayList<>();
        for (Summary.Row r : summary.rows()) {
            if (r.tier().equals(tier) && r.better() != Sample.Better.INFO && !figures.contains(r.figure())) {
                figures.add(r.figure());
            }
        }
        int cols = Math.max(1, Math.min(COLUMNS, figures.size()));
        int rows = Math.max(1, (figures.size() + cols - 1) / cols);
        BufferedImage img = new BufferedImage(cols * PANEL_W, TITLE_H + rows * PANEL_H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, 10, 22);
            if (figures.isEmpty()) {
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                g.drawString("no figures measured", 10, TITLE_H + 20);
            }
            for (int i = 0; i < figures.size(); i++) {
                panel(g, tier, figures.get(i), (i % cols) * PANEL_W, TITLE_H + (i / cols) * PANEL_H);
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private void panel(Graphics2D g, String tier, String figure, int x0, int y0) {
        List<Summary.Row> rows = new ArrayList<>();
        for (String c : summary.contenders(tier)) {
            summary.row(tier, figure, c).ifPresent(rows::add);
        }
        Summary.Row first = rows.get(0);
        int left = x0 + 52;
        int right = x0 + PANEL_W - 12;
        int top = y0 + 30;
        int bottom = y0 + PANEL_H - 34;
        double maxValue = rows.stream().mapToDouble(Summary.Row::max).max().orElse(1);
        double scaleMax = niceCeiling(maxValue <= 0 ? 1 : maxValue * 1.12);

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
        g.setColor(Color.BLACK);
        g.drawString(figure + " (" + first.unit() + (first.better() == Sample.Better.HIGHER ? ", higher is better)"
                : ", lower is better)"), x0 + 8, y0 + 18);

        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        FontMetrics fm = g.getFontMetrics();
        for (int t = 0; t <= 4; t++) {
            double v = scaleMax * t / 4;
            int y = bottom - (int) Math.round((bottom - top) * (v / scaleMax));
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(left, y, right, y);
            g.setColor(Color.DARK_GRAY);
            String label = Format.number(v);
            g.drawString(label, left - 4 - fm.stringWidth(label), y + 4);
        }
        g.setColor(Color.BLACK);
        g.drawLine(left, bottom, right, bottom);

        int slot = (right - left) / rows.size();
        int barW = Math.min(48, slot * 3 / 5);
        for (int i = 0; i < rows.size(); i++) {
            Summary.Row r = rows.get(i);
            int cx = left + slot * i + slot / 2;
            int yMedian = yOf(r.median(), scaleMax, top, bottom);
            g.setColor(COLORS.getOrDefault(r.contender(), OTHER));
            g.fillRect(cx - barW / 2, yMedian, barW, bottom - yMedian);
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.5f));
            int yMin = yOf(r.min(), scaleMax, top, bottom);
            int yMax = yOf(r.max(), scaleMax, top, bottom);
            g.drawLine(cx, yMin, cx, yMax);
            g.drawLine(cx - 6, yMin, cx + 6, yMin);
            g.drawLine(cx - 6, yMax, cx + 6, yMax);
            g.setStroke(new BasicStroke(1f));
            String value = Format.number(r.median());
            g.drawString(value, cx - fm.stringWidth(value) / 2, Math.min(yMax, yMedian) - 4);
            g.drawString(r.contender(), cx - fm.stringWidth(r.contender()) / 2, bottom + 14);
        }
    }

    private static int yOf(double v, double scaleMax, int top, int bottom) {
        return bottom - (int) Math.round((bottom - top) * Math.max(0, v) / scaleMax);
    }

    /** The smallest 1, 2 or 5 times a power of ten at or above v. */
    static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }
}
