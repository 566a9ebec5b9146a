package dev.lbkit.l7.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * Cookie field and query scanning against a model that splits strings: finds what splitting finds,
 * removes what it removes, and never throws, on arbitrary text and on text made of the characters that
 * matter.
 */
class CookiesProperties {

    @Provide
    Arbitrary<String> fields() {
        // Few distinct characters, so names collide and separators, blanks and quotes pile up.
        return Arbitraries.strings().withChars("ab=; \t\"=x,").ofMaxLength(30);
    }

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.of("a", "b", "ab", "x", "ba");
    }

    private static String ows(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && (s.charAt(b) == ' ' || s.charAt(b) == '\t')) {
            b++;
        }
        while (e > b && (s.charAt(e - 1) == ' ' || s.charAt(e - 1) == '\t')) {
            e--;
        }
        return s.substring(b, e);
    }

    /** The model: split at ';', a pair split at its first '=', name and value trimmed of blanks. */
    private static String modelFind(String field, String name) {
        for (String piece : field.split(";", -1)) {
            int eq = piece.indexOf('=');
            if (eq >= 0 && ows(piece.substring(0, eq)).equals(name)) {
                return ows(piece.substring(eq + 1));
            }
        }
        return null;
    }

    private static String modelRemove(String field, String name) {
        String[] pieces = field.split(";", -1);
        List<String> kept = new ArrayList<>();
        boolean removed = false;
        boolean firstRemoved = false;
        for (int i = 0; i < pieces.length; i++) {
            String piece = pieces[i];
            int eq = piece.indexOf('=');
            if (eq >= 0 && ows(piece.substring(0, eq)).equals(name)) {
                removed = true;
                firstRemoved |= kept.isEmpty();
            } else {
                // The blanks after the separator of a removed first piece go with it.
                kept.add(kept.isEmpty() && firstRemoved ? stripBlanks(piece) : piece);
            }
        }
        if (!removed) {
            return null;
        }
        String out = String.join(";", kept);
        return ows(out).isEmpty() ? "" : out;
    }

    private static String stripBlanks(String piece) {
        int b = 0;
        while (b < piece.length() && (piece.charAt(b) == ' ' || piece.charAt(b) == '\t')) {
            b++;
        }
        return piece.substring(b);
    }

    private static String found(String field, long range) {
        return range < 0 ? null : field.substring((int) (range >>> 32), (int) range);
    }

    @Property(tries = 2000)
    void findsWhatSplittingFinds(@ForAll("fields") String field, @ForAll("names") String name) {
        assertEquals(modelFind(field, name), found(field, Cookies.find(field, name)));
    }

    @Property(tries = 2000)
    void removesWhatSplittingRemovesAndKeepsTheRestAsItWas(@ForAll("fields") String field, @ForAll("names") String name) {
        String out = Cookies.remove(field, name);
        assertEquals(modelRemove(field, name), out);
        if (out != null) {
            assertNull(Cookies.find(out, name) < 0 ? null : "still there: " + out);
        }
    }

    @Property(tries = 1000)
    void neverThrowsOnAnyText(@ForAll String field, @ForAll String name) {
        assertEquals(modelFind(field, name), found(field, Cookies.find(field, name)));
        Cookies.remove(field, name);
        KeyReader.queryParameter(field, name);
    }

    @Provide
    Arbitrary<String> targets() {
        return Arbitraries.strings().withChars("/ab=&?#x").ofMaxLength(30);
    }

    /** The model of a query parameter: after the first '?', before a '#', pairs split at '&', then at '='. */
    private static String modelParameter(String uri, String name) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return null;
        }
        String query = uri.substring(q + 1);
        int hash = query.indexOf('#');
        if (hash >= 0) {
            query = query.substring(0, hash);
        }
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            if ((eq < 0 ? pair : pair.substring(0, eq)).equals(name)) {
                return eq < 0 ? "" : pair.substring(eq + 1);
            }
        }
        return null;
    }

    @Property(tries = 2000)
    void findsTheQueryParameterSplittingFinds(@ForAll("targets") String uri, @ForAll("names") String name) {
        assertEquals(modelParameter(uri, name), found(uri, KeyReader.queryParameter(uri, name)));
    }

    @Test
    void examples() {
        String f = "a=1; S=0123456789abcdef; b=\"q\"";
        assertEquals("0123456789abcdef", found(f, Cookies.find(f, "S")));
        assertEquals("\"q\"", found(f, Cookies.find(f, "b")));
        assertEquals("a=1; b=\"q\"", Cookies.remove(f, "S"));
        assertEquals("S=0123456789abcdef; b=\"q\"", Cookies.remove(f, "a"));
        assertEquals("a=1; S=0123456789abcdef", Cookies.remove(f, "b"));
        assertEquals("", Cookies.remove(" S=1 ", "S"));
        assertNull(Cookies.remove(f, "c"));
        assertEquals("v", found("/p?x=1&id=v&id=w", KeyReader.queryParameter("/p?x=1&id=v&id=w", "id")));
        assertEquals(-1, KeyReader.queryParameter("/p/id=v", "id"));
    }
}
