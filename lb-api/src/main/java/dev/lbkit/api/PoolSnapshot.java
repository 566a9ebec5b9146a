package dev.lbkit.api;

import dev.lbkit.api.scheduler.Picker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One version of an {@link UpstreamPool}'s membership: the primary and backup tiers in the order the
 * upstreams were added, and the {@link Picker} the pool's scheduler built for each tier; for a pool that
 * follows a store, also the store's membership and the operator's {@linkplain UpstreamOverride
 * overrides} that the members combine.
 *
 * <p>Immutable (the members' live state changes, the lists and maps do not). A new snapshot is published
 * on every add, remove, edit, drain, mark, store update or cleared override; readers take it with one
 * volatile read.
 */
public final class PoolSnapshot {
    private final long version;
    private final List<Member> primaries;
    private final List<Member> backups;
    private final List<Member> all;
    private final Picker primaryPicker;
    private final Picker backupPicker;
    private final boolean followsStore;
    private final Map<String, Upstream> store;
    private final Map<String, UpstreamOverride> overrides;

    /** {@code store} and {@code overrides} must be unmodifiable: snapshots share them. */
    PoolSnapshot(long version, List<Member> primaries, List<Member> backups, Picker primaryPicker,
            Picker backupPicker, boolean followsStore, Map<String, Upstream> store,
            Map<String, UpstreamOverride> overrides) {
        this.version = version;
        this.primaries = Collections.unmodifiableList(new ArrayList<>(primaries));
        this.backups = Collections.unmodifiableList(new ArrayList<>(backups));
        List<Member> a = new ArrayList<>(primaries.size() + backups.size());
        a.addAll(primaries);
        a.addAll(backups);
        this.all = Collections.unmodifiableList(a);
        this.primaryPicker = primaryPicker;
        this.backupPicker = backupPicker;
        this.followsStore = followsStore;
        this.store = store;
        this.overrides = overrides;
    }

    /** Increases by at least one with every change to the pool. */
    public long version() {
        return version;
    }

    /** The primary tier, in insertion order. */
    public List<Member> primaries() {
        return primaries;
    }

    /** The backup tier (nginx {@code backup}), in insertion order. */
    public List<Member> backups() {
        return backups;
    }

    /** Primaries followed by backups. */
    public List<Member> members() {
        return all;
    }

    /** Number of members in both tiers. */
    public int size() {
        return all.size();
    }

    /** The members available at {@code nanoTime}, primaries first; a new list. */
    public List<Member> available(long nanoTime) {
        List<Member> out = new ArrayList<>(all.size());
        for (Member m : all) {
            if (m.isAvailable(nanoTime)) {
                out.add(m);
            }
        }
        return out;
    }

    /** The picker for the primary tier. */
    public Picker primaryPicker() {
        return primaryPicker;
    }

    /** The picker for the backup tier. */
    public Picker backupPicker() {
        return backupPicker;
    }

    /**
     * Whether the pool follows a store: it {@linkplain UpstreamPool#follow follows} a resolver or was given
     * a membership with {@link UpstreamPool#replaceAll}. Only then are the operator's changes kept as
     * {@link #overrides()}.
     */
    public boolean followsStore() {
        return followsStore;
    }

    /**
     * The store's membership by key, in the store's order, before the operator's overrides: the last
     * membership given to {@link UpstreamPool#replaceAll} (until the store's first, the pool's own
     * membership when it started following). Empty when the pool follows no store.
     */
    public Map<String, Upstream> store() {
        return store;
    }

    /** The operator's overrides by key, in the order they were first made; empty when there is none. */
    public Map<String, UpstreamOverride> overrides() {
        return overrides;
    }

    @Override
    public String toString() {
        return "PoolSnapshot{version=" + version + ", primaries=" + primaries + ", backups=" + backups + "}";
    }
}
