package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.Picker;
import dev.lbkit.api.scheduler.Scheduler;
import java.util.List;

/**
 * IPVS's hash-bucket schedulers: {@code sh} hashes the client address (ip_vs_sh; a pick without one
 * hashes as 0, so all such picks go to one member), {@code dh} hashes the pick's key, or the client
 * address when no key is set (ip_vs_dh hashes the destination address; a key
 * such as a URL or a Host plays that role in a user-space balancer). A {@code dh} pick whose key is
 * {@linkplain dev.lbkit.api.scheduler.PickContext#hashKeyMissing() missing} is placed by smooth
 * weighted round robin ({@code wrr}, with cursors of its own), as nginx's {@code hash} places an empty key.
 *
 * <p>As in IPVS, a table of buckets ({@code table-size}, default {@value #DEFAULT_TABLE_SIZE}, raised to
 * the next power of two of at least twice the member count) is dealt out to the members in pool order,
 * each taking as many consecutive buckets as its weight before the next member's turn, round after
 * round until the table is full; weights are reduced by their common divisor and scaled down so that
 * every member gets a bucket. A key maps to one member while the membership and weights are unchanged;
 * any change may remap many keys (use {@code mh} or {@code ring} to limit that). A member that is not
 * eligible falls through as {@link TablePicker} describes (IPVS's {@code sh-fallback}, always on).
 */
public final class BucketHashScheduler implements Scheduler {
    /** Default table size, IPVS's {@code IP_VS_SH_TAB_SIZE}. */
    public static final int DEFAULT_TABLE_SIZE = 256;
    /** The largest table size accepted. */
    public static final int MAX_TABLE_SIZE = 1 << 20;

    private final boolean clientOnly;
    private final int tableSize;
    private final WeightedRoundRobinScheduler keyless = WeightedRoundRobinScheduler.forMissingKeys();

    /**
     * @param clientOnly {@code true} for {@code sh}, {@code false} for {@code dh}
     */
    public BucketHashScheduler(boolean clientOnly, int tableSize) {
        this.clientOnly = clientOnly;
        this.tableSize = tableSize;
    }

    @Override
    public String name() {
        return clientOnly ? "sh" : "dh";
    }

    @Override
    public Picker newPicker(List<Member> members) {
        Member[] ms = Tables.weighted(members);
        if (ms.length == 0) {
            return Picker.EMPTY;
        }
        int size = tableSize;
        while (size < 2 * ms.length && size < MAX_TABLE_SIZE) {
            size <<= 1;
        }
        int[] w = Tables.capSum(Tables.reduce(Tables.weightsOf(ms)), size / 2);
        Member[] table = new Member[size];
        int d = 0;
        int count = 0;
        for (int i = 0; i < size; i++) {
            table[i] = ms[d];
            if (++count >= w[d]) {
                count = 0;
                d = d + 1 == ms.length ? 0 : d + 1;
            }
        }
        return new TablePicker(table, ms, clientOnly, clientOnly ? null : keyless.newPicker(members));
    }
}
