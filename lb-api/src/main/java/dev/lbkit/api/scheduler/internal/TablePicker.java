package dev.lbkit.api.scheduler.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.scheduler.PickContext;
import dev.lbkit.api.scheduler.Picker;

/**
 * A hash lookup table of members ({@code sh}, {@code dh}, {@code mh}): the entry a hash selects, or,
 * when that member is not eligible, the next entries in table order ({@value Tables#PROBES} at most),
 * then the first eligible member in the picker's member order (pool order; key order for {@code mh})
 * starting at the hash's position. Every step is a pure
 * function of the hash, the table and the members' eligibility, so equal keys fall through alike.
 * A pick is one index while the chosen member is eligible, O(PROBES + n) at worst. A pick whose key
 * is {@linkplain PickContext#hashKeyMissing() missing} goes to the scheduler's round robin instead
 * ({@code dh}, {@code mh}; {@code sh} hashes the client address whatever the key).
 */
final class TablePicker implements Picker {
    private final Member[] table;
    private final Member[] members;
    private final boolean clientOnly;
    private final Picker keyless;

    /**
     * @param clientOnly hash the client address only ({@code sh}); otherwise the key, or the client
     *     address when no key is set
     * @param keyless    the picker for a pick whose key is missing; unused when {@code clientOnly}
     */
    TablePicker(Member[] table, Member[] members, boolean clientOnly, Picker keyless) {
        this.table = table;
        this.members = members;
        this.clientOnly = clientOnly;
        this.keyless = keyless;
    }

    @Override
    public Member pick(PickContext ctx) {
        if (!clientOnly && ctx.isHashKeyMissing()) {
            return keyless.pick(ctx);
        }
        long hash = clientOnly ? ctx.clientHash() : ctx.effectiveHash();
        Member[] t = table;
        int size = t.length;
        int i = Tables.range(hash, size);
        Member m = t[i];
        if (ctx.isEligible(m)) {
            return m;
        }
        for (int p = 1; p <= Tables.PROBES; p++) {
            int j = i + p;
            m = t[j >= size ? j - size : j];
            if (ctx.isEligible(m)) {
                return m;
            }
        }
        return Tables.scan(members, Tables.range(hash, members.length), ctx);
    }

    /** The table, for tests. */
    Member[] table() {
        return table;
    }
}
