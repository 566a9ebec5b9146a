package dev.lbkit.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lbkit.api.Member;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The persistence state machine against a model of IPVS's templates: per client one entry (member,
 * expiry, leases held); an entry keeps its client while it is live (held, or used less than a timeout
 * ago) and its member is up and, with {@code expire_quiescent_template}, of weight above 0; otherwise the
 * wrapped scheduler picks and a new entry is made. Leases are taken and released in any order; members
 * are quiesced, overloaded, checked down, removed and restored, and their entries forgotten, in between.
 */
class PersistentSchedulerProperties {
    private static final long TIMEOUT = 10;
    private static final int MEMBERS = 3;
    private static final int CLIENTS = 4;

    /** One step: {@code kind} and two small arguments. */
    record Step(int kind, int a, int b) {
        @Override
        public String toString() {
            return switch (kind) {
                case 0 -> "pick(client " + a + (b % 2 == 0 ? ", lease)" : ")");
                case 1 -> "release(lease " + a + ")";
                case 2 -> "advance(" + (1 + a * 3 + b) + ")";
                case 3 -> "weight(member " + a % MEMBERS + ", " + b % 2 + ")";
                case 4 -> "overloaded(member " + a % MEMBERS + ", " + (b % 2 == 0) + ")";
                case 5 -> "checkDown(member " + a % MEMBERS + ", " + (b % 2 == 0) + ")";
                case 6 -> "forget(member " + a % MEMBERS + ")";
                default -> (b % 2 == 0 ? "remove" : "restore") + "(member " + a % MEMBERS + ")";
            };
        }
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> step = Arbitraries.integers().between(0, 10).flatMap(k -> Arbitraries.integers().between(0, 3)
                .flatMap(a -> Arbitraries.integers().between(0, 3).map(b -> new Step(k > 7 ? 0 : k, a, b))));
        return step.list().ofMinSize(1).ofMaxSize(60);
    }

    /** The model's template. */
    private static final class ModelEntry {
        final int member;
        long expiresAt;
        int control;

        ModelEntry(int member, long expiresAt) {
            this.member = member;
            this.expiresAt = expiresAt;
        }

        boolean live(long now) {
            return control > 0 || now < expiresAt;
        }
    }

    /** The wrapped scheduler: the eligible member of lowest id, so that the model can tell the choice. */
    private static final Scheduler LOWEST = new Scheduler() {
        @Override
        public String name() {
            return "lowest";
        }

        @Override
        public Picker newPicker(List<Member> members) {
            return ctx -> {
                Member best = null;
                for (Member m : members) {
                    if (ctx.isEligible(m) && (best == null || m.id() < best.id())) {
                        best = m;
                    }
                }
                return best;
            };
        }
    };

    @Property(tries = 500)
    void picksAndLeasesFollowIpvsTemplates(@ForAll boolean expireQuiescent, @ForAll("steps") List<Step> steps)
            throws UnknownHostException {
        AtomicLong now = new AtomicLong(1_000);
        PersistentScheduler p = PersistentScheduler.builder(LOWEST).timeout(Duration.ofNanos(TIMEOUT))
                .expireQuiescentTemplate(expireQuiescent).build();
        UpstreamPool.Builder pb = UpstreamPool.builder().scheduler(p).ticker(now::get);
        for (int i = 0; i < MEMBERS; i++) {
            pb.add(Upstream.of("127.0.0.1", 9000 + i));
        }
        UpstreamPool pool = pb.build();
        Member[] members = pool.snapshot().members().toArray(new Member[0]);
        InetAddress[] clients = new InetAddress[CLIENTS];
        for (int i = 0; i < CLIENTS; i++) {
            clients[i] = InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) (i + 1)});
        }
        int[] weight = {1, 1, 1};
        boolean[] overloaded = new boolean[MEMBERS];
        boolean[] down = new boolean[MEMBERS];
        boolean[] removed = new boolean[MEMBERS];
        Map<Integer, ModelEntry> entries = new HashMap<>();
        List<Lease> leases = new ArrayList<>();
        List<ModelEntry> leased = new ArrayList<>();
        PickContext ctx = new PickContext();

        for (Step s : steps) {
            long t = now.get();
            switch (s.kind()) {
                case 0 -> {
                    ModelEntry e = entries.get(s.a());
                    ModelEntry placed;
                    if (e != null && e.live(t) && !down[e.member] && !removed[e.member]
                            && !(expireQuiescent && weight[e.member] == 0)) {
                        e.expiresAt = t + TIMEOUT;
                        placed = e;
                    } else {
                        placed = null;
                        for (int i = 0; i < MEMBERS && placed == null; i++) {
                            if (!down[i] && !removed[i] && !overloaded[i] && weight[i] > 0) {
                                placed = new ModelEntry(i, t + TIMEOUT);
                                entries.put(s.a(), placed);
                            }
                        }
                    }
                    Member got = pool.pick(ctx.reset().clientAddress(clients[s.a()]));
                    assertSame(placed == null ? null : members[placed.member], got, "pick of " + s);
                    if (s.b() % 2 == 0) {
                        Lease l = ctx.lease();
                        if (placed == null) {
                            assertNull(l);
                        } else {
                            assertNotNull(l);
                            placed.control++;
                            leases.add(l);
                            leased.add(placed);
                        }
                    }
                }
                case 1 -> {
                    if (!leases.isEmpty()) {
                        int i = s.a() % leases.size();
                        leases.remove(i).release(t);
                        ModelEntry e = leased.remove(i);
                        e.expiresAt = Math.max(e.expiresAt, t + TIMEOUT);
                        e.control--;
                    }
                }
                case 2 -> now.addAndGet(1 + s.a() * 3L + s.b());
                case 3 -> {
                    int m = s.a() % MEMBERS;
                    if (!removed[m]) {
                        weight[m] = s.b() % 2;
                        pool.weight(members[m].upstream().key(), weight[m]);
                    }
                }
                case 4 -> {
                    int m = s.a() % MEMBERS;
                    overloaded[m] = s.b() % 2 == 0;
                    members[m].overloaded(overloaded[m]);
                }
                case 5 -> {
                    int m = s.a() % MEMBERS;
                    if (!removed[m]) {
                        down[m] = s.b() % 2 == 0;
                        members[m].checkDown(down[m], "model");
                    }
                }
                case 6 -> {
                    // expire_nodest_conn's flush: every entry of the member goes, held or not.
                    int m = s.a() % MEMBERS;
                    entries.values().removeIf(e -> e.member == m);
                    p.forget(members[m]);
                }
                default -> {
                    int m = s.a() % MEMBERS;
                    if (s.b() % 2 == 0 && !removed[m]) {
                        pool.remove(members[m].upstream());
                        removed[m] = true;
                    } else if (s.b() % 2 == 1 && removed[m]) {
                        pool.restore(members[m], members[m].upstream());
                        removed[m] = false;
                        down[m] = false;
                    }
                }
            }
            long n = now.get();
            assertEquals(entries.values().stream().filter(e -> e.live(n)).count(), p.size(n), "live entries after " + s);
        }
    }
}
