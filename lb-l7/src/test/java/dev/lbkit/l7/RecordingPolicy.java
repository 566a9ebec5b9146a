package dev.lbkit.l7;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.health.HealthPolicy;
import dev.lbkit.api.health.Outcome;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A health policy that only records the outcomes reported to it, as "host:port OUTCOME". */
final class RecordingPolicy implements HealthPolicy {
    final List<String> outcomes = new CopyOnWriteArrayList<>();

    @Override
    public void onOutcome(Member member, Outcome outcome, PoolSnapshot snapshot, long nanoTime) {
        outcomes.add(member.upstream().port() + " " + outcome);
    }
}
