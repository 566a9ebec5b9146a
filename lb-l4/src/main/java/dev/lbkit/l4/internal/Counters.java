package dev.lbkit.l4.internal;

import dev.lbkit.l4.IpvsStats;
import java.util.concurrent.atomic.LongAdder;

/**
 * IPVS counters of one service or real server, plus the rate estimator over them. Counting is
 * lock-free from any event loop; {@link #estimate} runs on one timer thread at a time.
 */
public final class Counters {
    private final LongAdder conns = new LongAdder();
    private final LongAdder inPkts = new LongAdder();
    private final LongAdder outPkts = new LongAdder();
    private final LongAdder inBytes = new LongAdder();
    private final LongAdder outBytes = new LongAdder();
    private final long[] last = new long[5];
    private final double[] avg = new double[5];
    private volatile IpvsStats.Rates rates = new IpvsStats.Rates(0, 0, 0, 0, 0);

    public void conn() {
        conns.increment();
    }

    public void in(int bytes) {
        inPkts.increment();
        inBytes.add(bytes);
    }

    public void out(int bytes) {
        outPkts.increment();
        outBytes.add(bytes);
    }

    public IpvsStats.Counters snapshot() {
        return new IpvsStats.Counters(conns.sum(), inPkts.sum(), outPkts.sum(), inBytes.sum(), outBytes.sum());
    }

    public IpvsStats.Rates rates() {
        return rates;
    }

    /**
     * One estimator tick, {@code seconds} after the previous one: as the kernel's estimator, the rate
     * of the last interval is folded into a moving average with weight 1/4.
     */
    public synchronized void estimate(double seconds) {
        long[] now = {conns.sum(), inPkts.sum(), outPkts.sum(), inBytes.sum(), outBytes.sum()};
        for (int i = 0; i < now.length; i++) {
            double rate = (now[i] - last[i]) / seconds;
            avg[i] += (rate - avg[i]) / 4;
            last[i] = now[i];
        }
        rates = new IpvsStats.Rates(Math.round(avg[0]), Math.round(avg[1]), Math.round(avg[2]), Math.round(avg[3]),
                Math.round(avg[4]));
    }
}
