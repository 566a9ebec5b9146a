package dev.lbkit.examples.support;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The examples' command-line parsing: {@code --name value} (or {@code --name=value}), repeatable options,
 * flags, {@code --help}, and typed values (numbers, durations, {@code HOST:PORT}) whose errors name the
 * option and the bad value. An option followed by another ({@code --listen --backend x}) has no value;
 * a value starting with {@code --} is given as {@code --name=value}.
 *
 * <p>A {@link Spec} is immutable once built and may be shared; {@link Args} are immutable. Every parse or
 * conversion error is a {@link UsageException} whose message is one line; the examples' {@code Main}
 * prints it and exits with status 2.
 */
public final class Cli {
    private Cli() {}

    /** A bad command line: the message names the option and the value. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }

    /** One declared option. A flag takes no value; a repeatable option collects every value in order. */
    record Option(String name, String valueName, List<String> defaults, String help, boolean flag, boolean repeatable) {}

    /** The options a command accepts, with their defaults and help text. Build with {@link #of}. */
    public static final class Spec {
        private final String command;
        private final String summary;
        private final Map<String, Option> options = new LinkedHashMap<>();

        private Spec(String command, String summary) {
            this.command = command;
            this.summary = summary;
        }

        /** A spec for {@code command}, described by the one-line {@code summary}. */
        public static Spec of(String command, String summary) {
            return new Spec(Objects.requireNonNull(command, "command"), Objects.requireNonNull(summary, "summary"));
        }

        /** An option taking one value; {@code defaultValue} may be {@code null} when there is none. */
        public Spec option(String name, String valueName, String defaultValue, String help) {
            return add(new Option(name, valueName, defaultValue == null ? List.of() : List.of(defaultValue), help,
                    false, false));
        }

        /** An option that may be given several times; the defaults apply when it is not given at all. */
        public Spec repeatable(String name, String valueName, List<String> defaults, String help) {
            return add(new Option(name, valueName, List.copyOf(defaults), help, false, true));
        }

        /** An option without a value, off unless given. */
        public Spec flag(String name, String help) {
            return add(new Option(name, null, List.of(), help, true, false));
        }

        private Spec add(Option o) {
            if (options.putIfAbsent(o.name(), o) != null) {
                throw new IllegalArgumentException("option --" + o.name() + " declared twice");
            }
            return this;
        }

        public String command() {
            return command;
        }

        public String summary() {
            return summary;
        }

        /** The {@code --help} text: usage line, summary, and one line per option with its default. */
        public String help() {
            StringBuilder sb = new StringBuilder();
            sb.append("Usage: java -jar lb-examples.jar ").append(command).append(" [options]\n");
            sb.append(summary).append("\n\nOptions:\n");
            for (Option o : options.values()) {
                String left = "  --" + o.name() + (o.flag() ? "" : " " + o.valueName());
                sb.append(String.format(Locale.ROOT, "%-34s %s", left, o.help()));
                if (o.repeatable()) {
                    sb.append(" (repeatable)");
                }
                if (!o.defaults().isEmpty()) {
                    sb.append(" [default: ").append(String.join(" ", o.defaults())).append(']');
                }
                sb.append('\n');
            }
            sb.append(String.format(Locale.ROOT, "%-34s %s%n", "  --help", "show this help"));
            return sb.toString();
        }

        /**
         * Parses {@code argv}. {@code --help} anywhere yields {@link Args#helpRequested()}, unless it follows
         * an option that needs a value.
         *
         * @throws UsageException naming the unknown option, the missing value (none, or the next argument
         *     starts with {@code --}) or the stray argument
         */
        public Args parse(String... argv) {
            Map<String, List<String>> given = new LinkedHashMap<>();
            boolean help = false;
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                if (a.equals("--help") || a.equals("-h")) {
                    help = true;
                    continue;
                }
                if (!a.startsWith("--") || a.length() == 2) {
                    throw new UsageException(command + ": unexpected argument '" + a + "' (see " + command + " --help)");
                }
                String name = a.substring(2);
                String inline = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    inline = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                Option o = options.get(name);
                if (o == null) {
                    throw new UsageException(command + ": unknown option --" + name + " (see " + command + " --help)");
                }
                String value;
                if (o.flag()) {
                    if (inline != null) {
                        throw new UsageException(command + ": option --" + name + " takes no value");
                    }
                    value = "true";
                } else if (inline != null) {
                    value = inline;
                } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
                    // "--listen --backend x" is a forgotten value, not an address "--backend"; a value that
                    // does start with -- is written --name=value.
                    value = argv[++i];
                } else {
                    throw new UsageException(command + ": option --" + name + " needs a value (" + o.valueName() + ")");
                }
                List<String> values = given.computeIfAbsent(name, k -> new ArrayList<>());
                if (!o.repeatable() && !values.isEmpty()) {
                    throw new UsageException(command + ": option --" + name + " given twice");
                }
                values.add(value);
            }
            return new Args(this, given, help);
        }
    }

    /** Parsed options, with typed accessors that fall back to the declared defaults. */
    public static final class Args {
        private final Spec spec;
        private final Map<String, List<String>> given;
        private final boolean help;

        private Args(Spec spec, Map<String, List<String>> given, boolean help) {
            this.spec = spec;
            this.given = Map.copyOf(given);
            this.help = help;
        }

        public Spec spec() {
            return spec;
        }

        public boolean helpRequested() {
            return help;
        }

        /** Whether the option was given on the command line (rather than defaulted). */
        public boolean given(String name) {
            declared(name);
            return given.containsKey(name);
        }

        /** Whether the flag was given. */
        public boolean flag(String name) {
            return given(name);
        }

        /** Every value of the option, or its defaults when not given. */
        public List<String> values(String name) {
            Option o = declared(name);
            return List.copyOf(given.getOrDefault(name, o.defaults()));
        }

        /** The option's value, or its default; throws if it has neither. */
        public String value(String name) {
            return optional(name).orElseThrow(() -> usage(name, "is required"));
        }

        /** The option's value or default, if either exists. */
        public Optional<String> optional(String name) {
            List<String> v = values(name);
            return v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
        }

        /** The option's value as an int in {@code [min, max]}. */
        public int intValue(String name, int min, int max) {
            return parseInt(name, value(name), min, max);
        }

        /** The option's value as a duration ({@code 1s}, {@code 500ms}, {@code 10m}, {@code 1h} or plain seconds). */
        public Duration duration(String name) {
            return parseDuration(name, value(name));
        }

        /** The option's value as {@code HOST:PORT} ({@code [v6]:PORT}); the host must be an address literal. */
        public InetSocketAddress address(String name) {
            return parseAddress(name, value(name));
        }

        /** Like {@link #address} but {@code none} means absent (for optional endpoints such as {@code --admin}). */
        public Optional<InetSocketAddress> addressOrNone(String name) {
            Optional<String> v = optional(name);
            if (v.isEmpty() || v.get().equalsIgnoreCase("none")) {
                return Optional.empty();
            }
            return Optional.of(parseAddress(name, v.get()));
        }

        /** Every value of a repeatable option as {@code HOST:PORT}. */
        public List<InetSocketAddress> addresses(String name) {
            List<InetSocketAddress> out = new ArrayList<>();
            for (String v : values(name)) {
                out.add(parseAddress(name, v));
            }
            return out;
        }

        /** The option's value as a host address literal ({@code 127.0.0.1}, {@code ::1}). */
        public InetAddress host(String name) {
            return parseHost(name, value(name));
        }

        /** Every value of a repeatable option as host address literals. */
        public List<InetAddress> hosts(String name) {
            List<InetAddress> out = new ArrayList<>();
            for (String v : values(name)) {
                out.add(parseHost(name, v));
            }
            return out;
        }

        /** Every value of a repeatable option as ports, each value possibly a comma-separated list ({@code 8081,8082}). */
        public List<Integer> ports(String name) {
            List<Integer> out = new ArrayList<>();
            for (String v : values(name)) {
                for (String p : v.split(",", -1)) {
                    out.add(parseInt(name, p.trim(), 0, 65535));
                }
            }
            return out;
        }

        private Option declared(String name) {
            Option o = spec.options.get(name);
            if (o == null) {
                throw new IllegalArgumentException("option --" + name + " is not declared for " + spec.command);
            }
            return o;
        }

        /** A usage error about option {@code name}, for checks a command makes on its own. */
        public UsageException usage(String name, String problem) {
            return new UsageException(spec.command + ": option --" + name + " " + problem);
        }

        private int parseInt(String name, String text, int min, int max) {
            try {
                int v = Integer.parseInt(text);
                if (v < min || v > max) {
                    throw usage(name, "must be in " + min + ".." + max + ", got '" + text + "'");
                }
                return v;
            } catch (NumberFormatException e) {
                throw usage(name, "must be a number, got '" + text + "'");
            }
        }

        private Duration parseDuration(String name, String text) {
            try {
                return Durations.parse(text);
            } catch (IllegalArgumentException e) {
                throw usage(name, "must be a duration like 1s, 500ms, 10m or plain seconds, got '" + text + "'");
            }
        }

        private InetSocketAddress parseAddress(String name, String text) {
            String host;
            String port;
            if (text.startsWith("[")) {
                int end = text.indexOf("]:");
                if (end < 0) {
                    throw usage(name, "must be HOST:PORT or [IPv6]:PORT, got '" + text + "'");
                }
                host = text.substring(1, end);
                port = text.substring(end + 2);
            } else {
                int colon = text.lastIndexOf(':');
                if (colon <= 0 || text.indexOf(':') != colon) {
                    throw usage(name, "must be HOST:PORT or [IPv6]:PORT, got '" + text + "'");
                }
                host = text.substring(0, colon);
                port = text.substring(colon + 1);
            }
            return new InetSocketAddress(parseHost(name, host), parseInt(name, port, 0, 65535));
        }

        private InetAddress parseHost(String name, String text) {
            // Address literals only: a name would need a lookup, and the examples bind and connect to literals.
            if (text.isEmpty() || !(text.indexOf(':') >= 0 || text.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9')))) {
                throw usage(name, "must be an IP address literal, got '" + text + "'");
            }
            // InetAddress also takes the short IPv4 forms (127.1, 1.2.3, 1), which would bind or connect to an
            // address other than the one written; only the dotted quad is accepted.
            if (text.indexOf(':') < 0 && !text.matches("(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}")) {
                throw usage(name, "must be an IP address literal, got '" + text + "'");
            }
            try {
                return InetAddress.getByName(text);
            } catch (UnknownHostException e) {
                throw usage(name, "must be an IP address literal, got '" + text + "'");
            }
        }
    }
}
