package dev.lbkit.api.scheduler;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
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

    /**
     * The option as a duration, or {@code defaultValue} when absent: whole seconds as ipvsadm takes them
     * ({@code 300}) or ISO-8601 ({@code PT5M}).
     *
     * @throws IllegalArgumentException naming the option when the value is neither, or negative
     */
    public Duration getDuration(String name, Duration defaultValue) {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        Duration d;
        try {
            d = v.startsWith("P") || v.startsWith("p") ? Duration.parse(v) : Duration.ofSeconds(Long.parseLong(v));
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new IllegalArgumentException("scheduler option " + name
                    + " must be seconds or an ISO-8601 duration, got '" + v + "'", e);
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException("scheduler option " + name + " must be >= 0, got '" + v + "'");
        }
        return d;
    }

    /** Whether the option is present. */
    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** These options without the named ones. */
    public SchedulerOptions without(String... names) {
        Map<String, String> m = new LinkedHashMap<>(values);
        for (String n : names) {
            m.remove(n);
        }
        return m.size() == values.size() ? this : of(m);
    }

    /**
     * Checks that every option is one of {@code known}.
     *
     * @param scheduler the scheduler's name, for the message
     * @throws IllegalArgumentException naming the first unknown option and listing the known ones
     */
    public void requireOnly(String scheduler, String... known) {
        List<String> k = Arrays.asList(known);
        for (String name : values.keySet()) {
            if (!k.contains(name)) {
                throw new IllegalArgumentException("unknown option '" + name + "' for scheduler " + scheduler
                        + (known.length == 0 ? "; it takes none" : "; known: " + String.join(", ", known)));
            }
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
