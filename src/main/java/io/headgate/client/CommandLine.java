package io.headgate.client;

import io.headgate.client.ClientOptions.UsageException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A subcommand's arguments, parsed by hand like {@link ClientOptions}: options with a value
 * ({@code --name value} or {@code --name=value}, the last one counting unless the option repeats),
 * flags, and positional words ({@code --} ends the options).
 */
final class CommandLine {

    private final Map<String, List<String>> options = new HashMap<>();
    private final Set<String> flags = new HashSet<>();
    private final List<String> positional = new ArrayList<>();

    private CommandLine() {
    }

    /** @throws UsageException for an unknown option, a missing value or {@code --help} (a help request) */
    static CommandLine parse(List<String> args, Set<String> withValue, Set<String> flagNames) throws UsageException {
        CommandLine c = new CommandLine();
        boolean optionsEnded = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (optionsEnded || !arg.startsWith("--") && !arg.equals("-h")) {
                c.positional.add(arg);
                continue;
            }
            if (arg.equals("--")) {
                optionsEnded = true;
                continue;
            }
            if (arg.equals("-h") || arg.equals("--help")) throw UsageException.helpRequested();
            String name = arg, value = null;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            if (flagNames.contains(name)) {
                if (value != null) throw new UsageException(name + " takes no value");
                c.flags.add(name);
            } else if (withValue.contains(name)) {
                if (value == null) {
                    if (i + 1 == args.size()) throw new UsageException(name + " needs a value");
                    value = args.get(++i);
                }
                c.options.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } else {
                throw new UsageException("unknown option '" + name + "'");
            }
        }
        return c;
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    boolean has(String name) {
        return options.containsKey(name);
    }

    /** The option's last value, or {@code absent}. */
    String option(String name, String absent) {
        List<String> values = options.get(name);
        return values == null ? absent : values.getLast();
    }

    String required(String name) throws UsageException {
        String v = option(name, null);
        if (v == null || v.isBlank()) throw new UsageException(name + " is required");
        return v;
    }

    List<String> all(String name) {
        return options.getOrDefault(name, List.of());
    }

    int integer(String name, int absent, int min, int max) throws UsageException {
        String v = option(name, null);
        return v == null ? absent : ClientOptions.intIn(name, v, min, max);
    }

    Float number(String name, float min, float max) throws UsageException {
        String v = option(name, null);
        if (v == null) return null;
        float f;
        try {
            f = Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a number, got '" + v + "'");
        }
        if (!Float.isFinite(f) || f < min || f > max) throw new UsageException(name + " must be in [" + min + ", " + max + "], got " + v);
        return f;
    }

    Long unsigned(String name) throws UsageException {
        String v = option(name, null);
        if (v == null) return null;
        try {
            return Long.parseUnsignedLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be an integer from 0 to 18446744073709551615, got '" + v + "'");
        }
    }

    List<String> positional() {
        return positional;
    }

    /** Exactly {@code names.length} positional words, named in the error when they are not. */
    List<String> positional(String... names) throws UsageException {
        if (positional.size() != names.length) {
            throw new UsageException("expected " + (names.length == 0 ? "no arguments" : String.join(" ", names)) + ", got "
                    + (positional.isEmpty() ? "none" : String.join(" ", positional)));
        }
        return positional;
    }
}
