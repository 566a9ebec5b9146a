package dev.lbkit.dns.internal;

import dev.lbkit.dns.ServedName;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The served names and zones, fixed at start: exact lookups in hash maps, then a walk up the labels of
 * the question name for subdomain matches and the enclosing zone. Immutable and thread-safe.
 */
public final class NameTable {
    private final Map<String, ServedEntry> names = new HashMap<>();
    private final Map<String, Zone> zones = new HashMap<>();
    /** {@link #names} again, keyed by the names' bytes, for {@link #exact(byte[], int)}. */
    private final ByteKeyTable bytes;

    /**
     * @param served       the served names
     * @param explicitZones zone names given explicitly; every served name not below one is its own zone
     */
    public NameTable(List<ServedName> served, List<String> explicitZones, long negativeTtlSeconds, Counters counters) {
        Map<String, Set<String>> existing = new HashMap<>();
        Map<String, String> zoneOfName = new HashMap<>();
        for (String z : explicitZones) {
            existing.put(z, new HashSet<>());
        }
        for (ServedName s : served) {
            String zone = null;
            for (String z : explicitZones) {
                if (isAtOrBelow(s.name(), z) && (zone == null || z.length() > zone.length())) {
                    zone = z;
                }
            }
            if (zone == null) {
                zone = s.name();
                existing.putIfAbsent(zone, new HashSet<>());
            }
            zoneOfName.put(s.name(), zone);
            // Every name between the served name and its zone apex exists (empty non-terminals).
            for (String n = s.name(); n.length() > zone.length(); n = n.substring(n.indexOf('.') + 1)) {
                existing.get(zone).add(n);
            }
        }
        existing.forEach((z, set) -> zones.put(z, new Zone(z, negativeTtlSeconds, set, counters)));
        for (ServedName s : served) {
            if (names.put(s.name(), new ServedEntry(s, zones.get(zoneOfName.get(s.name())), counters)) != null) {
                throw new IllegalArgumentException("name " + s.name() + " is served twice");
            }
        }
        bytes = new ByteKeyTable(names);
    }

    static boolean isAtOrBelow(String name, String zone) {
        return name.equals(zone) || (name.endsWith(zone) && name.charAt(name.length() - zone.length() - 1) == '.');
    }

    /**
     * The index of the first dot at or after {@code from} that ends a label of {@code name}, or -1. A dot
     * escaped with a backslash ({@link Query#qname()}'s form of a dot inside a label) is part of its label;
     * {@code from} must be the start of a label.
     */
    static int nextDot(String name, int from) {
        for (int i = from; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '.') {
                return i;
            }
        }
        return -1;
    }

    /** The entry serving exactly {@code qname}, or null. */
    public ServedEntry exact(String qname) {
        return names.get(qname);
    }

    /**
     * The entry serving exactly the name whose lower-case dotted bytes (ISO 8859-1, no trailing dot, no
     * escapes) are {@code name[0, length)}, or null. Allocation-free.
     */
    public ServedEntry exact(byte[] name, int length) {
        return bytes.get(name, length);
    }

    /** The entry of the nearest ancestor of {@code qname} that serves its subdomains, or null. */
    public ServedEntry wildcard(String qname) {
        for (int i = nextDot(qname, 0); i >= 0; i = nextDot(qname, i + 1)) {
            ServedEntry e = names.get(qname.substring(i + 1));
            if (e != null) {
                return e.subdomains ? e : null;
            }
        }
        return null;
    }

    /** The nearest zone containing {@code qname}, or null when the server is not authoritative for it. */
    public Zone zone(String qname) {
        Zone z = zones.get(qname);
        for (int i = nextDot(qname, 0); z == null && i >= 0; i = nextDot(qname, i + 1)) {
            z = zones.get(qname.substring(i + 1));
        }
        return z;
    }

    public Iterable<ServedEntry> entries() {
        return names.values();
    }

    public boolean isEmpty() {
        return names.isEmpty() && zones.isEmpty();
    }
}
