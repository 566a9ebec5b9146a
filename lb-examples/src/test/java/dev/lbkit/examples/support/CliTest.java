package dev.lbkit.examples.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class CliTest {
    private static final Cli.Spec SPEC = Cli.Spec.of("demo", "A demo command.")
            .option("listen", "HOST:PORT", "127.0.0.1:8080", "where")
            .option("delay", "DURATION", "1s", "how long")
            .option("admin", "HOST:PORT|none", "127.0.0.1:9090", "admin")
            .repeatable("real", "HOST:PORT", List.of("127.0.0.1:8081", "127.0.0.1:8082"), "servers")
            .flag("udp", "UDP too");

    @Test
    void defaultsApplyWhenAnOptionIsNotGiven() {
        Cli.Args a = SPEC.parse();
        assertEquals(new InetSocketAddress("127.0.0.1", 8080), a.address("listen"));
        assertEquals(Duration.ofSeconds(1), a.duration("delay"));
        assertEquals(List.of("127.0.0.1:8081", "127.0.0.1:8082"), a.values("real"));
        assertEquals(false, a.flag("udp"));
        assertEquals(false, a.given("listen"));
    }

    @Test
    void givenValuesReplaceDefaultsAndRepeatableOptionsCollect() {
        Cli.Args a = SPEC.parse("--real", "127.0.0.1:1:3", "--real=127.0.0.2:2", "--udp", "--admin", "none",
                "--listen", "[::1]:99");
        assertEquals(List.of("127.0.0.1:1:3", "127.0.0.2:2"), a.values("real"));
        assertTrue(a.flag("udp"));
        assertEquals(Optional.empty(), a.addressOrNone("admin"));
        assertEquals(99, a.address("listen").getPort());
        assertTrue(a.address("listen").getAddress() instanceof java.net.Inet6Address);
        assertEquals("[0:0:0:0:0:0:0:1]:99", Addresses.format(a.address("listen")));
    }

    @Test
    void errorsNameTheOptionAndTheValue() {
        assertEquals("demo: unknown option --lisen (see demo --help)",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--lisen", "x")).getMessage());
        assertEquals("demo: option --delay needs a value (DURATION)",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--delay")).getMessage());
        assertEquals("demo: option --delay given twice",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--delay", "1s", "--delay", "2s")).getMessage());
        assertEquals("demo: option --listen must be HOST:PORT or [IPv6]:PORT, got 'localhost'",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--listen", "localhost").address("listen")).getMessage());
        assertEquals("demo: option --listen must be an IP address literal, got 'example.com'",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--listen", "example.com:80").address("listen")).getMessage());
        assertEquals("demo: option --listen must be in 0..65535, got '70000'",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--listen", "127.0.0.1:70000").address("listen")).getMessage());
        assertEquals("demo: unexpected argument 'extra' (see demo --help)",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("extra")).getMessage());
        assertEquals("demo: option --udp takes no value",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--udp=yes")).getMessage());
    }

    /**
     * An option that takes a value, followed by another option, has no value: "--admin --udp" took
     * "--udp" as the admin address and left the flag off, without a word.
     */
    @Test
    void anOptionFollowedByAnotherOptionHasNoValue() {
        assertEquals("demo: option --admin needs a value (HOST:PORT|none)",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--admin", "--udp")).getMessage());
        assertEquals("demo: option --listen needs a value (HOST:PORT)",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--listen", "--delay", "2s")).getMessage());
        assertEquals("demo: option --real needs a value (HOST:PORT)",
                assertThrows(Cli.UsageException.class, () -> SPEC.parse("--real", "--nope")).getMessage());
        // The --name=value form takes any value, one starting with -- too.
        assertEquals("--udp", SPEC.parse("--admin=--udp").value("admin"));
        assertEquals(Duration.ofSeconds(2), SPEC.parse("--delay", "2s", "--udp").duration("delay"));
    }

    @Property(tries = 100)
    void aValueOptionFollowedByAnyOptionFailsNamingIt(@ForAll("valueOptions") String option,
            @ForAll("anyOption") String next) {
        Cli.UsageException e = assertThrows(Cli.UsageException.class, () -> SPEC.parse("--" + option, next, "1s"));
        assertTrue(e.getMessage().startsWith("demo: option --" + option + " needs a value ("), e.getMessage());
    }

    @Provide
    Arbitrary<String> valueOptions() {
        return Arbitraries.of("listen", "delay", "admin", "real");
    }

    @Provide
    Arbitrary<String> anyOption() {
        Arbitrary<String> declared = Arbitraries.of("listen", "delay", "admin", "real", "udp", "help").map(n -> "--" + n);
        Arbitrary<String> unknown = Arbitraries.strings().alpha().numeric().withChars('-', '=').ofMaxLength(12).map(n -> "--" + n);
        return Arbitraries.oneOf(declared, unknown);
    }

    @Test
    void shortIpv4FormsAreRejectedRatherThanReadAsAnotherAddress() {
        // 127.1 would otherwise bind 127.0.0.1, 1.2.3 would be 1.2.0.3 and 999.0.0.1 a host-name lookup.
        for (String host : List.of("127.1", "1.2.3", "1", "999.0.0.1", "1..2.3", "1.2.3.4.")) {
            assertEquals("demo: option --listen must be an IP address literal, got '" + host + "'",
                    assertThrows(Cli.UsageException.class, () -> SPEC.parse("--listen", host + ":80").address("listen"))
                            .getMessage());
        }
        assertEquals(new InetSocketAddress("127.0.100.1", 80), SPEC.parse("--listen", "127.0.100.1:80").address("listen"));
        assertEquals(new InetSocketAddress("255.255.255.255", 80),
                SPEC.parse("--listen", "255.255.255.255:80").address("listen"));
    }

    @Test
    void helpListsOptionsWithDefaults() {
        assertTrue(SPEC.parse("--help").helpRequested());
        String help = SPEC.help();
        assertTrue(help.contains("--real HOST:PORT"), help);
        assertTrue(help.contains("(repeatable) [default: 127.0.0.1:8081 127.0.0.1:8082]"), help);
        assertTrue(help.contains("[default: 1s]"), help);
    }

    @Test
    void durationForms() {
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofSeconds(1000), Durations.parse("1000s"));
        assertEquals(Duration.ofMinutes(10), Durations.parse("10m"));
        assertEquals(Duration.ofSeconds(7), Durations.parse("7"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("-1s"));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("1 fortnight"));
    }

    @Property(tries = 200)
    void formattedDurationsParseBack(@ForAll @LongRange(min = 0, max = 10_000_000) long millis) {
        Duration d = Duration.ofMillis(millis);
        assertEquals(d, Durations.parse(Durations.format(d)));
    }

    @Property(tries = 200)
    void formattedAddressesParseBack(@ForAll @IntRange(min = 0, max = 255) int last, @ForAll @IntRange(min = 0, max = 65535) int port) {
        InetSocketAddress a = new InetSocketAddress("127.0.0." + last, port);
        assertEquals(a, SPEC.parse("--listen", Addresses.format(a)).address("listen"));
    }
}
