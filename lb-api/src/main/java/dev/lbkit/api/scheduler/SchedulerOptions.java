package dev.lbkit.api.scheduler;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Named options for a scheduler, as text (so that they come as easily from a command line or a config
 * file as from code), with typed getters whose errors name the option and the bad value. Immutable.
 *
 * <p>Parsed from {@code "key=value,key=value"}; for example {@code mh} takes {@code table-size=65537}.
 */
public final class SchedulerOptions {
    /** No options: every scheduler's defaults. */
    public static final SchedulerOptions NONE = new SchedulerOptions(Map.of());

    private final Map<String, String> values;

    private SchedulerOptions(Map<String, String> values) {
        this.values = values;
    }

    public static SchedulerOptions of(Map<String, String> values) {
        Objects.requireNonNull(values, "values");
        return values.isEmpty() ? NONE : new SchedulerOptions(Collections.unmodifiableMap(new LinkedHashMap<>(values)));
    }

    /**
     * Parses {@code "key=value,key=value"} (blank text gives {@link #NONE}).
     *
     * @throws IllegalArgumentException naming the part that has no {@code =}
     */
    public static SchedulerOptions parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.isBlank()) {
            return NONE;
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("scheduler option must be key=value, got '" + part + "'");
            }
            m.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
        }
        return of(m);
    }

    /** All options, unmodifiable. */
    public Map<String, String> asMap() {
        return values;
    }

    /** The option's value, or {@code defaultValue} when absent. */
    public String get(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    /**
     * The option as an int, or {@code defaultValue} when absent.
     *
     * @throws IllegalArgumentException naming the option when the value is not an integer
     */
    public int getInt(String name, int defaultValue) {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("scheduler option " + name + " must be an integer, got '" + v + "'", e);
        }
    }

    /** The option as a long, or {@code defaultValue} when absent. */
    public long getLong(String name, long defaultValue) {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("scheduler option " + name + " must be an integer, got '" + v + "'", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SchedulerOptions && ((SchedulerOptions) o).values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
