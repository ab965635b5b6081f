package io.headgate.client;

import java.util.ArrayList;
import java.util.List;

/**
 * The client's command line, parsed by hand (no CLI library on the classpath). Values the user did
 * not give are {@code null} where the server's own default should apply, so the Start message sets
 * only what was asked for.
 *
 * @param maxTokens   0: the server's default
 * @param temperature null with topK, topP and seed: no Sampling message (the server samples greedily)
 * @param seed        an unsigned 64-bit value, as the proto's uint64
 * @param credit      the credit window sent in Start; 0: unlimited
 * @param switchAt    the token index after which to send the {@code --to} Steer; null: none
 * @param experiment  an A/B experiment to run under instead of a profile; null: none
 * @param routingKey  with {@code experiment}: keeps the same arm for the same key; null: a random draw
 */
public record ClientOptions(
        Target target,
        String model,
        String profile,
        String experiment,
        String routingKey,
        int maxTokens,
        Float temperature,
        Integer topK,
        Float topP,
        Long seed,
        List<String> stops,
        int credit,
        Integer switchAt,
        String switchTo,
        boolean reprefill,
        boolean interactive,
        boolean verbose,
        String prompt) {

    public static final Target DEFAULT_TARGET = new Target("localhost", 8080);
    public static final String DEFAULT_MODEL = "parens-lm";
    public static final int DEFAULT_CREDIT = 4;

    public static final String USAGE = """
            usage: headgate-client [--target localhost:8080] [--model parens-lm] [--profile NAME[@REV]] [--max-tokens N]
                                   [--experiment NAME [--routing-key KEY]]
                                   [--temperature T] [--top-k K] [--top-p P] [--seed S] [--stop STR]... [--credit N]
                                   [--switch-at INDEX --to NAME[@REV] [--reprefill]] [--interactive] [--verbose] PROMPT

            Streams one generation from a Headgate gateway and prints its tokens as they arrive. Each
            change of steering is marked inline, e.g. ⟦boost-l3@1⟧; steering events and a summary go to stderr.

              --target HOST:PORT   the gateway (plaintext gRPC)                     default localhost:8080
              --model NAME         the model                                         default parens-lm
              --profile REF        steering from the start: NAME follows the profile's new revisions,
                                   NAME@REV pins one; "identity" is built in         default identity
              --experiment NAME    run under an A/B experiment instead of --profile: the server
                                   assigns an arm (reported on stderr) and steers with its profile
              --routing-key KEY    with --experiment: the same KEY keeps the same arm
              --max-tokens N       at most N generated tokens                        default: the server's
              --temperature T      0: greedy; any sampling option sends a Sampling message, else greedy
              --top-k K            0: no limit
              --top-p P            in [0, 1]; 0 or 1: no limit
              --seed S             same seed, same tokens                            default: random
              --stop STR           end before the first occurrence of STR (repeatable)
              --credit N           the server runs at most N tokens ahead of what this client has
                                   printed; 0: unlimited                             default 4
              --switch-at INDEX    after token INDEX arrives, switch to --to before acknowledging it,
              --to REF             so tokens INDEX+1 onwards are computed under REF (the credit window
                                   is lowered to INDEX+1 if larger; with --credit 0 the switch lands
                                   wherever the server has got to)
              --reprefill          with --switch-at: recompute the prompt's cache under the new profile
              --interactive        read stdin while streaming: each non-empty line "REF" or "REF reprefill"
                                   switches the stream to REF (it lands within the credit window)
              --verbose            one tab-separated line per token (index, id, text, profile@revision,
                                   logprob) and details of every event
              --                   end of options (for a PROMPT starting with "-")
              -h, --help           this text

            Exit status: 0 when the stream finished, 1 on a gRPC error, 2 on bad arguments.""";

    /** A host and port; IPv6 literals may be written in brackets: [::1]:8080. */
    public record Target(String host, int port) {
        static Target parse(String s) throws UsageException {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon == s.length() - 1) throw new UsageException("--target must be HOST:PORT, got '" + s + "'");
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            int port = intIn("--target port", s.substring(colon + 1), 1, 65535);
            return new Target(host, port);
        }

        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** Bad arguments (exit 2), or a request for help (exit 0). */
    public static final class UsageException extends Exception {
        private final boolean help;

        UsageException(String message) {
            this(message, false);
        }

        private UsageException(String message, boolean help) {
            super(message);
            this.help = help;
        }

        static UsageException helpRequested() {
            return new UsageException("help requested", true);
        }

        public boolean help() {
            return help;
        }
    }

    public ClientOptions {
        stops = List.copyOf(stops);
    }

    /** Whether any sampling option was given; if none, Start carries no Sampling and the server is greedy. */
    public boolean sampling() {
        return temperature != null || topK != null || topP != null || seed != null;
    }

    /**
     * The credit window to send in Start. A switch at index K can only land at K+1 if the server has
     * not already computed past K, so a larger window is lowered to K+1 (the client then holds its
     * acks back until the switch is sent; see {@link HeadgateClient}).
     */
    public int creditWindow() {
        if (switchAt == null || credit == 0) return credit;
        return (int) Math.min(credit, switchAt + 1L);
    }

    public static ClientOptions parse(String... args) throws UsageException {
        Target target = DEFAULT_TARGET;
        String model = DEFAULT_MODEL, profile = null, switchTo = null, prompt = null, experiment = null, routingKey = null;
        int maxTokens = 0, credit = DEFAULT_CREDIT;
        Float temperature = null, topP = null;
        Integer topK = null, switchAt = null;
        Long seed = null;
        List<String> stops = new ArrayList<>();
        boolean reprefill = false, interactive = false, verbose = false, optionsEnded = false;

        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (optionsEnded || !arg.startsWith("-") || arg.equals("-")) {
                if (prompt != null) throw new UsageException("one PROMPT only (quote it), got '" + prompt + "' and '" + arg + "'");
                prompt = arg;
                continue;
            }
            // --name=value is accepted as well as --name value
            String name = arg, inline = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inline = arg.substring(eq + 1);
            }
            switch (name) {
                case "--" -> optionsEnded = true;
                case "-h", "--help" -> throw UsageException.helpRequested();
                case "--reprefill" -> reprefill = flag(name, inline);
                case "--interactive" -> interactive = flag(name, inline);
                case "--verbose" -> verbose = flag(name, inline);
                default -> {
                    String value = inline;
                    if (value == null) {
                        if (i + 1 == args.length) throw new UsageException(known(name) ? name + " needs a value" : "unknown option '" + name + "'");
                        value = args[++i];
                    }
                    switch (name) {
                        case "--target" -> target = Target.parse(value);
                        case "--model" -> model = nonEmpty(name, value);
                        case "--profile" -> profile = nonEmpty(name, value);
                        case "--experiment" -> experiment = nonEmpty(name, value);
                        case "--routing-key" -> routingKey = nonEmpty(name, value);
                        case "--max-tokens" -> maxTokens = intIn(name, value, 0, Integer.MAX_VALUE);
                        case "--temperature" -> temperature = floatIn(name, value, 0, Float.MAX_VALUE);
                        case "--top-k" -> topK = intIn(name, value, 0, Integer.MAX_VALUE);
                        case "--top-p" -> topP = floatIn(name, value, 0, 1);
                        case "--seed" -> seed = unsignedLong(name, value);
                        case "--stop" -> stops.add(nonEmpty(name, value));
                        case "--credit" -> credit = intIn(name, value, 0, Integer.MAX_VALUE);
                        case "--switch-at" -> switchAt = intIn(name, value, 0, Integer.MAX_VALUE);
                        case "--to" -> switchTo = nonEmpty(name, value);
                        default -> throw new UsageException("unknown option '" + name + "'");
                    }
                }
            }
        }

        if (prompt == null) throw new UsageException("PROMPT is required");
        if (prompt.isEmpty()) throw new UsageException("PROMPT is empty");
        if (switchAt != null && switchTo == null) throw new UsageException("--switch-at needs --to NAME[@REV]");
        if (switchTo != null && switchAt == null) throw new UsageException("--to needs --switch-at INDEX");
        if (experiment != null && profile != null) throw new UsageException("--experiment and --profile exclude each other");
        if (routingKey != null && experiment == null) throw new UsageException("--routing-key goes with --experiment");
        if (reprefill && switchAt == null) {
            throw new UsageException("--reprefill goes with --switch-at (interactive lines say \"REF reprefill\")");
        }
        return new ClientOptions(target, model, profile, experiment, routingKey, maxTokens, temperature, topK, topP, seed, stops, credit,
                switchAt, switchTo, reprefill, interactive, verbose, prompt);
    }

    // ------------------------------------------------------------------ values

    private static final List<String> WITH_VALUE = List.of("--target", "--model", "--profile", "--experiment", "--routing-key", "--max-tokens", "--temperature",
            "--top-k", "--top-p", "--seed", "--stop", "--credit", "--switch-at", "--to");

    private static boolean known(String name) {
        return WITH_VALUE.contains(name);
    }

    private static boolean flag(String name, String inline) throws UsageException {
        if (inline != null) throw new UsageException(name + " takes no value");
        return true;
    }

    private static String nonEmpty(String name, String value) throws UsageException {
        if (value.isBlank()) throw new UsageException(name + " must not be empty");
        return value;
    }

    static int intIn(String name, String value, int min, int max) throws UsageException {
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be an integer, got '" + value + "'");
        }
        if (n < min || n > max) throw new UsageException(name + " must be " + range(min, max) + ", got " + n);
        return n;
    }

    private static float floatIn(String name, String value, float min, float max) throws UsageException {
        float f;
        try {
            f = Float.parseFloat(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a number, got '" + value + "'");
        }
        if (!Float.isFinite(f) || f < min || f > max) {
            throw new UsageException(name + " must be " + (max == Float.MAX_VALUE ? ">= " + min : "in [" + min + ", " + max + "]") + ", got " + value);
        }
        return f;
    }

    private static long unsignedLong(String name, String value) throws UsageException {
        try {
            return Long.parseUnsignedLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be an integer from 0 to 18446744073709551615, got '" + value + "'");
        }
    }

    private static String range(int min, int max) {
        if (max == Integer.MAX_VALUE) return ">= " + min;
        return "from " + min + " to " + max;
    }
}
