package dev.lbkit.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NanoTimesTest {
    @Test
    void onlyTheSentinelMoves() {
        assertEquals(Long.MIN_VALUE + 1, NanoTimes.stamp(Long.MIN_VALUE));
        assertEquals(Long.MIN_VALUE + 1, NanoTimes.stamp(Long.MIN_VALUE + 1));
        assertEquals(Long.MAX_VALUE, NanoTimes.stamp(Long.MAX_VALUE));
        assertEquals(0, NanoTimes.stamp(0));
        assertEquals(-5, NanoTimes.stamp(-5));
    }
}
