package dev.lbkit.api.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * Argument checks for lbkit's API edges, so every message names the argument and the bad value.
 * Shared by all lbkit modules; not part of the public API (it may change without notice).
 */
public final class Checks {
    private Checks() {}

    public static <T> T notNull(T value, String name) {
        return Objects.requireNonNull(value, name);
    }

    public static int positive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
        return value;
    }

    public static long positive(long value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
        return value;
    }

    public static int positiveOrZero(int value, String name) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }
        return value;
    }

    public static long positiveOrZero(long value, String name) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }
        return value;
    }

    public static int inRange(int value, int min, int max, String name) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be in " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    public static int port(int value, String name) {
        return inRange(value, 1, 65535, name);
    }

    /** A duration that must be strictly positive. */
    public static Duration positive(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
        return value;
    }

    /** A duration that must be strictly positive and no longer than {@code max}. */
    public static Duration positive(Duration value, Duration max, String name) {
        return atMost(positive(value, name), max, name);
    }

    /** A duration no longer than {@code max} (callers check its lower bound first). */
    public static Duration atMost(Duration value, Duration max, String name) {
        Objects.requireNonNull(value, name);
        if (value.compareTo(max) > 0) {
            throw new IllegalArgumentException(name + " must be <= " + max + ", got " + value);
        }
        return value;
    }

    /** A duration that may be zero (which callers document as "off") but not negative. */
    public static Duration positiveOrZero(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative()) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }
        return value;
    }

    public static String notBlank(String value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
        return value;
    }
}
