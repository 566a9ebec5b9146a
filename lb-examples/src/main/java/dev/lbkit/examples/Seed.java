package dev.lbkit.examples;

/**
 * The values of the seed (the lab report in {@code /work/shared/seed/WALKTHROUGH.md}) that the examples
 * reproduce by default. Options change them; these constants are only the defaults.
 */
public final class Seed {
    private Seed() {}

    /** Backend 1's {@code index.html}: 40 bytes, with the newline {@code echo} added. */
    public static final String PAGE_1 = "<h1>Response from Backend Server 1</h1>\n";
    /** Backend 2's {@code index.html}. */
    public static final String PAGE_2 = "<h2>*** Response from Backend Server 2 ***</h2>\n";
    /** What the seed's slow server writes after its sleep: page 1 without the newline, close-delimited. */
    public static final String SLOW_PAGE = "<h1>Response from Backend Server 1</h1>";

    /** The name dnsmasq answered with two addresses. */
    public static final String NAME = "my-awesome-highload-app.local";

    /** The page the N-th backend (1-based) serves: the seed's two, then a page in backend 1's style. */
    public static String page(int n) {
        if (n == 1) {
            return PAGE_1;
        }
        if (n == 2) {
            return PAGE_2;
        }
        return "<h1>Response from Backend Server " + n + "</h1>\n";
    }
}
