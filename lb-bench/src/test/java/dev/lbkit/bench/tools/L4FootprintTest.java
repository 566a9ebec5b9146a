package dev.lbkit.bench.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The footprint tool runs end to end on a small count and finds a plausible heap per pair. */
class L4FootprintTest {

    @Test
    void measuresTwoHundredPairsThroughABalancerOfItsOwn() throws Exception {
        L4Footprint.Result r = L4Footprint.measure(200, 100, "nio");
        assertEquals(200, r.pairs());
        // A pair is two Netty channels: well above 500 bytes, and the bound is 5 KB; 50 KB leaves
        // room for the noise of 100 pairs while still catching a per-pair leak of buffers.
        assertTrue(r.heapPerPair() > 500 && r.heapPerPair() < 50_000, "heap per pair " + r.heapPerPair());
    }
}
