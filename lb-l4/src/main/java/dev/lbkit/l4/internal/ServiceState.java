package dev.lbkit.l4.internal;

import dev.lbkit.api.Member;
import dev.lbkit.api.PoolListener;
import dev.lbkit.api.PoolSnapshot;
import dev.lbkit.api.Upstream;
import dev.lbkit.api.UpstreamPool;
import dev.lbkit.api.health.HealthEvent;
import dev.lbkit.api.scheduler.Lease;
import dev.lbkit.api.scheduler.PersistentScheduler;
import dev.lbkit.api.scheduler.Scheduler;
import dev.lbkit.api.scheduler.Schedulers;
import dev.lbkit.l4.FailureAction;
import dev.lbkit.l4.IpvsConnections;
import dev.lbkit.l4.IpvsStats;
import dev.lbkit.l4.NodestConn;
import dev.lbkit.l4.RealServer;
import dev.lbkit.l4.Timeouts;
import dev.lbkit.l4.VirtualService;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live state of one virtual service shared by its forwarders: configuration, pool, IPVS counters,
 * connection limits and thresholds, and the trash of removed real servers. Thread-safe: counters are
 * atomic, configuration is one volatile value, runtime edits of real servers are serialised on one lock
 * (and go through the pool's), forwarders read the maps without locking.
 */
public final class ServiceState {
    private volatile VirtualService config;
    private final Timeouts timeouts;
    private final long trashPeriodNanos;
    /** Serialises -a, -e, -d and the trash's expiry, so that a real server is in the pool or in the trash. */
    private final Object edits = new Object();
    /** Serialises the updates of {@link Dest#dropped}, each from the state it finds. */
    private final Object drops = new Object();
    /**
     * Real servers removed ({@code ipvsadm -d}) whose connections, persistence templates or trash period
     * are not over, by address: adding one back ({@code -a}) takes its member and counters from here, as
     * IPVS takes a destination from its trash ({@code ip_vs_trash_get_dest}).
     */
    private final Map<InetSocketAddress, Dest> trash = new ConcurrentHashMap<>();
    private final UpstreamPool pool;
    private final SwitchableScheduler scheduler;
    /**
     * While the service is not persistent: the persistent scheduler it last had, whose templates (and the
     * leases on them) stay until they expire, listed and counted but not consulted, as IPVS leaves its
     * templates in the connection table when {@code -E} turns {@code -p} off; the next {@code -p} takes
     * them back. {@code null} when persistent, when never persistent, or once none is left. Written under
     * {@link #edits}.
     */
    private volatile PersistentScheduler unconsulted;
    private final Counters counters = new Counters();
    private final Map<Member, Dest> dests = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final LongAdder refused = new LongAdder();
    private final LongAdder noDestination = new LongAdder();
    private final LongAdder malformedProxyHeaders = new LongAdder();
    private final LongAdder nodestDropped = new LongAdder();
    private volatile InetSocketAddress localAddress;
    private volatile Dest sorry;
    private final ConnectionTable connectionTable = new ConnectionTable();
    /** The service's listener, which applies {@link #nodestAction} to connection entries; null until bound. */
    private volatile Listener listener;

    /** A real server's counters and thresholds, alive as long as its member. */
    public static final class Dest {
        final Member member;
        final Counters counters = new Counters();
        volatile RealServer server;
        /** In the trash: whether it was idle (no connection entry) at the last expiry check, and since when. */
        private boolean idle;
        private long idleSince;
        /**
         * {@link NodestConn#DROP} applies to its entries: it is no longer a destination. Set and cleared
         * before {@code -d}, {@code -a} or the health event that changes it returns, so UDP flows read it
         * for each datagram; TCP connections follow it in a task on their loop.
         */
        volatile boolean dropped;

        Dest(Member member, RealServer server) {
            this.member = member;
            this.server = server;
        }

        public Member member() {
            return member;
        }

        public Counters counters() {
            return counters;
        }
    }

    /**
     * @param trashPeriod how long a removed real server without connection entries or persistence
     *                    templates is kept for {@link #addRealServer} to take back
     */
    public ServiceState(VirtualService config, Timeouts timeouts, Duration trashPeriod) {
        this.config = Objects.requireNonNull(config, "config");
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
        this.trashPeriodNanos = trashPeriod.toNanos();
        this.scheduler = new SwitchableScheduler(schedulerFor(config, null));
        this.pool = UpstreamPool.builder().name(config.protocol() + " " + config.address()).scheduler(scheduler)
                .healthPolicy(config.healthPolicy()).build();
        for (RealServer rs : config.realServers()) {
            addRealServer(rs);
        }
        this.sorry = sorryDest(config);
        pool.addListener(new PoolListener() {
            @Override
            public void onHealthChange(HealthEvent event) {
                if (!event.available()) {
                    checkFailed(event.upstream());
                } else {
                    checkRecovered(event.upstream());
                }
            }
        });
    }

    /** The listener that owns the service's connection entries, once bound. */
    public void listener(Listener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * The sorry server as a destination of its own one-member pool (no health policy), so that its
     * connections are counted and listed like a real server's, as keepalived adds it to IPVS.
     */
    private static Dest sorryDest(VirtualService c) {
        if (c.sorryServer().isEmpty()) {
            return null;
        }
        InetSocketAddress a = c.sorryServer().get();
        Member m = UpstreamPool.of(Upstream.of(a)).snapshot().members().get(0);
        return new Dest(m, RealServer.of(a));
    }

    /** The sorry server's destination, or {@code null} when none is configured. */
    public Dest sorryDest() {
        return sorry;
    }

    public VirtualService config() {
        return config;
    }

    public Timeouts timeouts() {
        return timeouts;
    }

    public UpstreamPool pool() {
        return pool;
    }

    public Counters counters() {
        return counters;
    }

    public InetSocketAddress localAddress() {
        return localAddress;
    }

    public void localAddress(InetSocketAddress localAddress) {
        this.localAddress = localAddress;
    }

    /**
     * {@code ipvsadm -E}: everything but protocol, address and health policy may change. The persistence
     * templates and their leases stay, as IPVS leaves its connection table alone: a service that stays
     * persistent uses them (each template keeps the timeout it was made with, and after a netmask change
     * is found only by clients whose new network is its network); turning persistence off leaves them
     * unconsulted until they expire, and turning it back on before then uses them again.
     */
    public void edit(VirtualService edited) {
        VirtualService old;
        synchronized (edits) {
            old = config;
            if (edited.protocol() != old.protocol()) {
                throw new IllegalArgumentException("cannot change protocol of " + old + " to " + edited.protocol());
            }
            if (!edited.scheduler().equals(old.scheduler()) || !edited.persistence().equals(old.persistence())
                    || edited.persistenceNetmask() != old.persistenceNetmask()
                    || edited.expireQuiescentTemplate() != old.expireQuiescentTemplate()) {
                PersistentScheduler templates = persistentScheduler();
                Scheduler next = schedulerFor(edited, templates);
                unconsulted = next instanceof PersistentScheduler ? null : templates;
                scheduler.delegate(next);
                pool.rebuildPickers();
            }
            if (!edited.sorryServer().equals(old.sorryServer())) {
                sorry = sorryDest(edited);
            }
            config = edited;
        }
        if (edited.nodestConn() != old.nodestConn() || edited.failureAction() != old.failureAction()) {
            // IPVS reads expire_nodest_conn at each packet: a new mode reaches the entries of real servers
            // that stopped being destinations before it, and a new failure action changes which those are.
            trash.values().forEach(this::applyNodestMode);
            dests.values().forEach(this::applyNodestMode);
        }
    }

    /**
     * The scheduler whose table holds the service's templates: the one in use when the service is
     * persistent, else the one left from when it last was; {@code null} if none.
     */
    private PersistentScheduler persistentScheduler() {
        return scheduler.delegate() instanceof PersistentScheduler p ? p : unconsulted;
    }

    /**
     * Lets go of the unconsulted templates' table (a scan of it) once none of them is live, so that a
     * service that stays without {@code -p} does not keep it; the balancer calls it on its estimator tick.
     */
    public void forgetExpiredTemplates() {
        PersistentScheduler u = unconsulted;
        if (u == null || u.size(pool.ticker().nanoTime()) > 0) {
            return;
        }
        synchronized (edits) {
            // Only the table it scanned: an edit meanwhile may have taken it back or left another.
            if (unconsulted == u) {
                unconsulted = null;
            }
        }
    }

    /**
     * The service's scheduler, wrapped for persistence ({@code -p}, {@code -M}) when configured, with the
     * templates of {@code previous} (the persistent scheduler it replaces; {@code null}: none).
     */
    private static Scheduler schedulerFor(VirtualService c, PersistentScheduler previous) {
        Scheduler base = Schedulers.parse(c.scheduler());
        if (c.persistence().isZero()) {
            return base;
        }
        PersistentScheduler.Builder b = PersistentScheduler.builder(base).timeout(c.persistence())
                .expireQuiescentTemplate(c.expireQuiescentTemplate());
        if (previous != null) {
            b.keepTemplatesOf(previous);
        }
        if (c.address().getAddress() instanceof Inet6Address) {
            b.ipv6PrefixLength(c.persistenceNetmask());
        } else {
            b.ipv4PrefixLength(c.persistenceNetmask());
        }
        return b.build();
    }

    /** The scheduler's name as listed. */
    public String schedulerName() {
        return scheduler.name();
    }

    /**
     * {@code ipvsadm -a}. A real server removed from this service whose connections are still counted,
     * or whose trash period is not over, is taken back with its member (ActiveConn, InActConn, overload
     * flag, persistence templates) and counters, as IPVS takes it from its trash; its new thresholds
     * apply as {@link #editRealServer}'s.
     */
    public void addRealServer(RealServer rs) {
        Dest restored;
        synchronized (edits) {
            restored = trash.get(rs.address());
            if (restored != null) {
                pool.restore(restored.member, upstream(rs));
                // In the map before it leaves the trash, so that dest(member) always finds it.
                dests.put(restored.member, restored);
                trash.remove(rs.address());
                update(restored, rs);
            } else {
                Member m = pool.add(upstream(rs));
                dests.put(m, new Dest(m, rs));
            }
        }
        if (restored != null) {
            applyNodestMode(restored);
        }
    }

    /** {@code ipvsadm -e}: new weight and thresholds; connections and counters stay. */
    public void editRealServer(RealServer rs) {
        synchronized (edits) {
            Member m = pool.update(upstream(rs));
            update(dests.computeIfAbsent(m, k -> new Dest(k, rs)), rs);
        }
    }

    /**
     * New thresholds for {@code d}. As the kernel's __ip_vs_update_dest, an upper threshold of 0 or above
     * the old one clears the overload; otherwise the flag waits for the next bind or unbind.
     */
    private static void update(Dest d, RealServer rs) {
        int oldUpper = d.server.upperThreshold();
        d.server = rs;
        if (rs.upperThreshold() == 0 || rs.upperThreshold() > oldUpper) {
            d.member.overloaded(false);
        }
    }

    /**
     * {@code ipvsadm -d}: no new connections. The real server leaves the listing for the trash, where its
     * counters stay reachable from its connections. Its established connections finish, unless
     * {@link VirtualService#nodestConn()} drops or expires them ({@link #applyNodestMode}).
     *
     * @return whether it was present
     */
    public boolean removeRealServer(InetSocketAddress address) {
        Dest d;
        synchronized (edits) {
            String key = Upstream.builder(address).build().key();
            Optional<Member> m = pool.member(key);
            boolean removed = pool.remove(key);
            d = m.isPresent() ? dests.get(m.get()) : null;
            if (!removed) {
                return false;
            }
            if (d != null) {
                d.idle = false;
                // In the trash before it leaves the map, so that dest(member) always finds it.
                trash.put(d.member.upstream().address(), d);
                dests.remove(d.member);
            }
        }
        if (d != null) {
            applyNodestMode(d);
        }
        return true;
    }

    /**
     * A health check failed {@code upstream}: under {@link FailureAction#REMOVE} keepalived deletes the
     * destination ({@code ipvsadm -d}), so its entries are dropped or expired as at a removal
     * ({@link #applyNodestMode}); under {@link FailureAction#INHIBIT} it stays a destination of weight 0 and
     * nothing changes.
     */
    private void checkFailed(Upstream upstream) {
        Optional<Member> m = pool.member(upstream.key());
        Dest d = m.isPresent() ? dests.get(m.get()) : null;
        if (d != null && isNoDestination(d)) {
            applyNodestMode(d);
        }
    }

    /**
     * IPVS's {@code expire_nodest_conn} for {@code d}, after a change that may have made it no longer a
     * destination or one again, or changed the service's mode: under {@link NodestConn#EXPIRE} a real
     * server that is no longer a destination has its persistence templates forgotten at once, as Linux
     * 5.9's {@code ip_vs_expire_nodest_conn_flush} expires them with the connections they control, and
     * the listener expires its connections and flows on their event loops; otherwise, when whether its
     * entries are dropped changed ({@link NodestConn#DROP} starting or ending), the listener applies
     * {@link #nodestAction} to them. Nothing for a destination under {@link NodestConn#FORWARD}.
     */
    private void applyNodestMode(Dest d) {
        boolean expire = config.nodestConn() == NodestConn.EXPIRE && isNoDestination(d);
        if (expire) {
            PersistentScheduler p = persistentScheduler();
            if (p != null) {
                p.forget(d.member);
            }
        }
        boolean dropChanged = updateDrop(d);
        Listener l = listener;
        if ((expire || dropChanged) && l != null) {
            l.applyNodest(d);
        }
    }

    /**
     * Sets {@link Dest#dropped} from the service's mode and what {@code d} is now, so that of a removal
     * and an addition racing, the later one's view stands; returns whether it changed.
     */
    private boolean updateDrop(Dest d) {
        synchronized (drops) {
            boolean drop = config.nodestConn() == NodestConn.DROP && isNoDestination(d);
            boolean changed = d.dropped != drop;
            d.dropped = drop;
            return changed;
        }
    }

    /** A real server's health check is up again: under {@link FailureAction#REMOVE} it is a destination again. */
    private void checkRecovered(Upstream upstream) {
        Optional<Member> m = pool.member(upstream.key());
        Dest d = m.isPresent() ? dests.get(m.get()) : null;
        if (d != null) {
            applyNodestMode(d);
        }
    }

    /**
     * What the entries bound to {@code d} get now, read on their event loop when a change of {@code d}
     * reaches them: {@link NodestConn#EXPIRE} (expire them), {@link NodestConn#DROP} (drop what their
     * clients send) or {@link NodestConn#FORWARD} (forward, ending a drop); only a real server that is no
     * longer a destination ({@link #isNoDestination}) is expired or dropped, as the service's mode says.
     */
    public NodestConn nodestAction(Dest d) {
        if (d.dropped) {
            return NodestConn.DROP;
        }
        return config.nodestConn() == NodestConn.EXPIRE && isNoDestination(d) ? NodestConn.EXPIRE : NodestConn.FORWARD;
    }

    /** Counts a client's datagram dropped on a flow whose real server is no longer a destination. */
    public void nodestDropped() {
        nodestDropped.increment();
    }

    /**
     * Whether {@code d} is no longer a destination as IPVS would see it: removed ({@code -d}: in the trash,
     * not added back or forgotten since), or failed by its health check under {@link FailureAction#REMOVE}
     * (keepalived's {@code -d}) and not back up.
     */
    public boolean isNoDestination(Dest d) {
        if (trash.get(d.member.upstream().address()) == d) {
            return true;
        }
        return dests.get(d.member) == d && d.member.isCheckDown() && config.failureAction() == FailureAction.REMOVE;
    }

    /**
     * Forgets the removed real servers that have had no connection entry and no persistence template for
     * the trash period, as IPVS's {@code ip_vs_dest_trash_expire}; the balancer calls it on its estimator
     * tick, so a server goes between one trash period and one period plus one tick after it became idle.
     */
    public void expireTrash(long nanoTime) {
        if (trash.isEmpty()) {
            return;
        }
        synchronized (edits) {
            Set<Member> templated = null;
            for (Iterator<Dest> it = trash.values().iterator(); it.hasNext();) {
                Dest d = it.next();
                if (d.member.active() + d.member.inactive() > 0) {
                    d.idle = false;
                } else if (!d.idle) {
                    d.idle = true;
                    d.idleSince = nanoTime;
                } else if (nanoTime - d.idleSince >= trashPeriodNanos) {
                    if (templated == null) {
                        templated = Collections.newSetFromMap(new IdentityHashMap<>());
                        for (PersistentScheduler.Template t : templates()) {
                            templated.add(t.member());
                        }
                    }
                    if (templated.contains(d.member)) {
                        // A persistence template still points at it (IPVS counts templates as references).
                        d.idleSince = nanoTime;
                    } else {
                        it.remove();
                    }
                }
            }
        }
    }

    /** Whether a real server of {@code address} is in the trash (removed, not forgotten yet). */
    public boolean inTrash(InetSocketAddress address) {
        return trash.containsKey(address);
    }

    public List<RealServer> realServers() {
        List<RealServer> out = new ArrayList<>();
        for (Member m : pool.snapshot().members()) {
            Dest d = dests.get(m);
            if (d != null) {
                out.add(d.server);
            }
        }
        return out;
    }

    private static Upstream upstream(RealServer rs) {
        return Upstream.builder(rs.address()).weight(rs.weight()).build();
    }

    /** Takes one connection slot of the service limit; false (and counted) when the service is full. */
    public boolean tryAcquire() {
        int max = config.maxConnections();
        if (max <= 0) {
            connections.incrementAndGet();
            return true;
        }
        for (;;) {
            int c = connections.get();
            if (c >= max) {
                refused.increment();
                return false;
            }
            if (connections.compareAndSet(c, c + 1)) {
                return true;
            }
        }
    }

    /** Counts a client refused for a limit other than the connection limit (a full flow table). */
    public void refuse() {
        refused.increment();
    }

    public void release() {
        connections.decrementAndGet();
    }

    public int connections() {
        return connections.get();
    }

    /** Counts a client (TCP) or datagram (UDP) dropped for a missing or malformed PROXY header. */
    public void malformedProxyHeader() {
        malformedProxyHeaders.increment();
    }

    public void noDestination() {
        noDestination.increment();
    }

    /**
     * The dest of a picked member: listed, or in the trash when it was removed while being picked; a
     * fresh one if it was removed and forgotten since.
     */
    public Dest dest(Member m) {
        Dest d = dests.get(m);
        if (d == null) {
            d = trash.get(m.upstream().address());
            if (d == null || d.member != m) {
                d = new Dest(m, RealServer.of(m.upstream().address()));
            }
        }
        return d;
    }

    /**
     * A new TCP connection or UDP flow is bound to {@code d} as inactive (IPVS ip_vs_bind_dest, with its
     * overload check): IPVS counts UDP entries as inactive, and a TCP connection whose real server is
     * still being connected is in SYN_RECV, which set_tcp_state counts as inactive.
     */
    public void bindInactive(Dest d) {
        d.member.incrementInactive();
        bindCheck(d);
    }

    /** A TCP connection's real server answered: ESTABLISHED, IPVS's one active state. */
    public void toActive(Dest d) {
        d.member.incrementActive();
        d.member.decrementInactive();
    }

    /** An active connection saw its first FIN or closed: it now counts as inactive. */
    public void toInactive(Dest d) {
        d.member.decrementActive();
        d.member.incrementInactive();
    }

    /**
     * An inactive entry expired, or a connection that never got established is forgotten (IPVS
     * ip_vs_unbind_dest, with its overload check), and gives back the lease it held on the persistence
     * template that placed it ({@code null}: none), whose timeout then counts again (IPVS's
     * ip_vs_control_del, as the entry leaves the connection table).
     */
    public void unbindInactive(Dest d, Lease lease) {
        d.member.decrementInactive();
        unbindCheck(d);
        if (lease != null) {
            lease.release(pool.ticker().nanoTime());
        }
    }

    private static void bindCheck(Dest d) {
        int upper = d.server.upperThreshold();
        if (upper > 0 && d.member.active() + d.member.inactive() >= upper) {
            d.member.overloaded(true);
        }
    }

    private static void unbindCheck(Dest d) {
        RealServer rs = d.server;
        int total = d.member.active() + d.member.inactive();
        if (rs.lowerThreshold() > 0) {
            if (total < rs.lowerThreshold()) {
                d.member.overloaded(false);
            }
        } else if (rs.upperThreshold() > 0) {
            if (total * 4 < rs.upperThreshold() * 3) {
                d.member.overloaded(false);
            }
        } else {
            d.member.overloaded(false);
        }
    }

    /** One estimator tick for the service and its real servers. */
    public void estimate(double seconds) {
        counters.estimate(seconds);
        for (Dest d : dests.values()) {
            d.counters.estimate(seconds);
        }
        // Removed real servers still count their connections' bytes: their rates stay true for a comeback.
        for (Dest d : trash.values()) {
            d.counters.estimate(seconds);
        }
        Dest sd = sorry;
        if (sd != null) {
            sd.counters.estimate(seconds);
        }
    }

    /** The TCP connection table ({@code ipvsadm -lnc}); unused by UDP services, whose flows are their table. */
    public ConnectionTable connectionTable() {
        return connectionTable;
    }

    /** Adds the TCP connections (at most {@code limit}) to {@code out}; returns how many the table holds. */
    public int tcpEntries(int limit, List<IpvsConnections.Entry> out) {
        return connectionTable.snapshot(timeouts.tcpFin(), limit, out);
    }

    /**
     * Adds the persistence templates as {@code ipvsadm -lnc} lists them (state NONE, the client network
     * with port 0) to {@code out}, at most {@code limit} entries in {@code out}; returns how many there are.
     */
    public int templateEntries(int limit, List<IpvsConnections.Entry> out) {
        List<PersistentScheduler.Template> templates = templates();
        InetSocketAddress virtual = localAddress != null ? localAddress : config.address();
        for (PersistentScheduler.Template t : templates) {
            if (out.size() >= limit) {
                break;
            }
            out.add(new IpvsConnections.Entry(config.protocol(), IpvsConnections.State.NONE, t.remaining(),
                    new InetSocketAddress(t.network(), 0), virtual, t.member().upstream().address()));
        }
        return templates.size();
    }

    /**
     * The live persistence templates (IPVS's): those of the persistent scheduler in use, or those left
     * unconsulted since {@code -p} was turned off; none when there are neither.
     */
    public List<PersistentScheduler.Template> templates() {
        PersistentScheduler p = persistentScheduler();
        return p != null ? p.templates(pool.ticker().nanoTime()) : List.of();
    }

    /** PersistConn per real server address: a scan of the persistence table, only for persistent services. */
    private Map<InetSocketAddress, Integer> persistConnsByAddress() {
        List<PersistentScheduler.Template> templates = templates();
        if (templates.isEmpty()) {
            return Map.of();
        }
        Map<InetSocketAddress, Integer> out = new HashMap<>();
        for (PersistentScheduler.Template t : templates) {
            out.merge(t.member().upstream().address(), 1, Integer::sum);
        }
        return out;
    }

    public IpvsStats.Service stats() {
        VirtualService c = config;
        PoolSnapshot s = pool.snapshot();
        Map<InetSocketAddress, Integer> persistConns = persistConnsByAddress();
        List<IpvsStats.RealServerStats> rs = new ArrayList<>(s.size());
        for (Member m : s.members()) {
            Dest d = dests.get(m);
            if (d == null) {
                continue;
            }
            boolean failed = m.isCheckDown();
            if (failed && c.failureAction() == FailureAction.REMOVE) {
                continue;
            }
            int weight = failed ? 0 : m.weight();
            rs.add(new IpvsStats.RealServerStats(m.upstream().address(), "Masq", weight, m.active(), m.inactive(),
                    d.server.upperThreshold(), d.server.lowerThreshold(), m.isOverloaded(), d.counters.snapshot(),
                    d.counters.rates(), persistConns.getOrDefault(m.upstream().address(), 0)));
        }
        Dest sd = sorry;
        if (sd != null && (s.available(pool.ticker().nanoTime()).isEmpty() || sd.member.active() + sd.member.inactive() > 0)) {
            // Listed while it stands in (keepalived adds it to IPVS when no real server is left) or still has connections.
            rs.add(new IpvsStats.RealServerStats(sd.member.upstream().address(), "Masq", 1, sd.member.active(),
                    sd.member.inactive(), 0, 0, false, sd.counters.snapshot(), sd.counters.rates()));
        }
        InetSocketAddress addr = localAddress != null ? localAddress : c.address();
        return new IpvsStats.Service(c.protocol(), addr, scheduler.name(), c.persistence().toSeconds(),
                c.persistenceNetmask(), counters.snapshot(), counters.rates(), refused.sum(), noDestination.sum(), rs,
                malformedProxyHeaders.sum(), nodestDropped.sum(), c.onePacket());
    }
}
