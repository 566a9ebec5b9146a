package dev.lbkit.dns.internal;

import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lbkit.api.UpstreamPool;
import dev.lbkit.dns.ServedName;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.CharRange;

/** The byte-keyed lookup of served names finds exactly what the String-keyed one finds. */
class NameTableProperties {

    @Property(tries = 200)
    void byteLookupAgreesWithStringLookup(
            @ForAll @Size(min = 0, max = 12) Set<@StringLength(min = 1, max = 6) @CharRange(from = 'a', to = 'd') @Chars({'.', '-'}) String> served,
            @ForAll @Size(max = 12) List<@StringLength(min = 1, max = 6) @CharRange(from = 'a', to = 'd') @Chars({'.', '-'}) String> asked) {
        List<ServedName> names = new ArrayList<>();
        List<String> valid = new ArrayList<>();
        try (UpstreamPool pool = UpstreamPool.builder().name("p").add("127.0.0.1", 80).build()) {
            for (String s : served) {
                if (s.startsWith(".") || s.endsWith(".") || s.contains("..")) {
                    continue;
                }
                names.add(ServedName.of(s, pool));
                valid.add(s);
            }
            NameTable table = new NameTable(names, List.of(), 0, new Counters());
            List<String> queries = new ArrayList<>(asked);
            queries.addAll(valid);
            for (String q : queries) {
                byte[] b = q.getBytes(StandardCharsets.ISO_8859_1);
                byte[] padded = new byte[b.length + 3];
                System.arraycopy(b, 0, padded, 0, b.length);
                assertSame(table.exact(q), table.exact(padded, b.length), q);
            }
        }
    }
}
