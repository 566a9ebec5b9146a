package dev.lbkit.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lbkit.api.scheduler.PickContext;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class HashingProperties {

    @Property(tries = 500)
    void aRangeHashesAsTheSubstringItIs(@ForAll @StringLength(max = 40) String s,
            @ForAll @IntRange(max = 40) int a, @ForAll @IntRange(max = 40) int b) {
        Assume.that(a <= s.length() && b <= s.length());
        int from = Math.min(a, b);
        int to = Math.max(a, b);
        long expected = Hashing.hash64(s.substring(from, to));
        assertEquals(expected, Hashing.hash64(s, from, to));
        // Also through a CharSequence that is not a String, as a header value read in place is.
        assertEquals(expected, Hashing.hash64(new StringBuilder(s), from, to));
        assertEquals(expected, new PickContext().hashKey(s, from, to).hashKeyValue());
        assertEquals(new PickContext().hashKey(s.substring(from, to)).hashKeyValue(),
                new PickContext().hashKey(s, from, to).hashKeyValue());
    }

    @Test
    void aRangeOutsideTheTextIsRefused() {
        assertThrows(IndexOutOfBoundsException.class, () -> Hashing.hash64("abc", 2, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> Hashing.hash64("abc", -1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> Hashing.hash64("abc", 0, 4));
        assertThrows(NullPointerException.class, () -> new PickContext().hashKey(null, 0, 0));
    }
}
