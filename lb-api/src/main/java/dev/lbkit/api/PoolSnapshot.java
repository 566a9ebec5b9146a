package dev.lbkit.api;

import dev.lbkit.api.scheduler.Picker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One version of an {@link UpstreamPool}'s membership: the primary and backup tiers in the order the
 * upstreams were added, and the {@link Picker} the pool's scheduler built for each tier.
 *
 * <p>Immutable (the members' live state changes, the lists do not). A new snapshot is published on
 * every add, remove, edit, drain or mark; readers take it with one volatile read.
 */
public final class PoolSnapshot {
    private final long version;
    private final List<Member> primaries;
    private final List<Member> backups;
    private final List<Member> all;
    private final Picker primaryPicker;
    private final Picker backupPicker;

    PoolSnapshot(long version, List<Member> primaries, List<Member> backups, Picker primaryPicker,
            Picker backupPicker) {
        this.version = version;
        this.primaries = Collections.unmodifiableList(new ArrayList<>(primaries));
        this.backups = Collections.unmodifiableList(new ArrayList<>(backups));
        List<Member> a = new ArrayList<>(primaries.size() + backups.size());
        a.addAll(primaries);
        a.addAll(backups);
        this.all = Collections.unmodifiableList(a);
        this.primaryPicker = primaryPicker;
        this.backupPicker = backupPicker;
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

    @Override
    public String toString() {
        return "PoolSnapshot{version=" + version + ", primaries=" + primaries + ", backups=" + backups + "}";
    }
}
