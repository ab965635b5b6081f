package io.headgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.DoublePredicate;

/**
 * The suite's results as the Markdown block between BENCHMARKS.md's result markers: every figure
 * the document quotes from a run is in here, so prose and tables cannot drift apart.
 */
final class Report {

    static final String BEGIN = "<!-- results:begin -->", END = "<!-- results:end -->";

    /** A ratio measured in interleaved pairs; {@code loaded} is the same under a busy core, or null. */
    record Ratio(String what, String model, Stats.Spread quiet, Stats.Spread loaded, String goal, DoublePredicate met) {
        String metText() {
            return met == null ? "" : met.test(quiet.median()) ? "yes" : "no";
        }

        double loadedOverQuiet() {
            return loaded.median() / quiet.median();
        }
    }

    private final List<Ratio> ratios = new ArrayList<>();
    private final List<String[]> breakdowns = new ArrayList<>();
    private final List<String[]> arrivals = new ArrayList<>();
    private final List<String[]> rates = new ArrayList<>();
    private final List<String[]> kinds = new ArrayList<>();
    private final Map<List<String>, Map<String, Stats.Spread>> engineCells = new LinkedHashMap<>();
    private final Set<String> engines = new LinkedHashSet<>();
    private final List<String[]> engineDirect = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final String loadAtStart = loadAverage();

    void ratio(Ratio r) {
        ratios.add(r);
        System.out.printf("  %-64s %-14s %s%s%n", r.what(), r.model(), r.quiet().format("×"),
                r.loaded() == null ? "" : "   loaded " + r.loaded().format("×"));
    }

    private String command = "bench/run";

    /** The command line that produced the report, quoted at its top. */
    void command(String command) {
        this.command = command;
    }

    void breakdown(String... cells) {
        breakdowns.add(cells);
        System.out.println("  breakdown " + String.join(" | ", cells));
    }

    void arrivals(String... cells) {
        arrivals.add(cells);
        System.out.println("  arrivals " + String.join(" | ", cells));
    }

    void rate(String... cells) {
        rates.add(cells);
        System.out.println("  " + String.join(" | ", cells));
    }

    void kind(String... cells) {
        kinds.add(cells);
        System.out.println("  " + String.join(" | ", cells));
    }

    /** One engine's figure for a comparison, for the side-by-side engine table. */
    void engine(String engine, String what, String model, Stats.Spread s) {
        engines.add(engine);
        engineCells.computeIfAbsent(List.of(what, model), k -> new LinkedHashMap<>()).put(engine, s);
        System.out.printf("  [%s] %-60s %-14s %s%n", engine, what, model, s.format("×"));
    }

    /** Whether {@code engine} has its figures for {@code model} in the engine table already. */
    boolean hasEngineRows(String engine, String model) {
        return engineCells.entrySet().stream().anyMatch(e -> e.getKey().get(1).equals(model) && e.getValue().containsKey(engine));
    }

    void engineDirect(String... cells) {
        engineDirect.add(cells);
        System.out.println("  " + String.join(" | ", cells));
    }

    void note(String n) {
        notes.add(n);
    }

    /** The 1-, 5- and 15-minute load averages, from /proc/loadavg. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + ", " + f[1] + ", " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    String markdown(int pairs, boolean loaded) {
        StringBuilder b = new StringBuilder(BEGIN).append('\n');
        b.append("Produced by `").append(command).append("`. Run on ").append(LocalDate.now()).append(": ").append(Machine.describe()).append(". Load average (1, 5, 15 min) ")
                .append(loadAtStart).append(" at the start, ").append(loadAverage()).append(" at the end. Each ratio: the median of ")
                .append(pairs).append(" ratios of adjacent blocks, A and B alternating, each block ").append(Interleaved.BLOCK_SECONDS)
                .append(" s at least, with the interquartile range (IQR)")
                .append(loaded ? "; loaded: the same pairs measured again at once with one core kept busy by a spinning process started by the suite" : "")
                .append(".\n\n");
        if (!ratios.isEmpty()) {
            b.append("#### Ratios\n\n");
            if (loaded) {
                b.append("| comparison | model | quiet: median (IQR) | loaded: median (IQR) | loaded ÷ quiet | within ±5% | goal | met |\n");
                b.append("|---|---|---|---|---|---|---|---|\n");
            } else {
                b.append("| comparison | model | median (IQR) | goal | met |\n|---|---|---|---|---|\n");
            }
            for (Ratio r : ratios) {
                b.append("| ").append(r.what()).append(" | ").append(r.model()).append(" | ").append(r.quiet().format("×"));
                if (loaded) {
                    if (r.loaded() == null) {
                        b.append(" | | | ");
                    } else {
                        double d = r.loadedOverQuiet();
                        b.append(" | ").append(r.loaded().format("×")).append(" | ").append(Stats.number(d)).append(" | ")
                                .append(Math.abs(d - 1) <= 0.05 ? "yes" : "no");
                    }
                }
                b.append(" | ").append(r.goal()).append(" | ").append(r.metText()).append(" |\n");
            }
            if (loaded) {
                long compared = ratios.stream().filter(r -> r.loaded() != null).count();
                long within = ratios.stream().filter(r -> r.loaded() != null && Math.abs(r.loadedOverQuiet() - 1) <= 0.05).count();
                b.append("\n").append(within).append(" of ").append(compared).append(" ratios measured under load are within ±5% of the quiet ones.\n");
            }
            b.append('\n');
        }
        table(b, "Where a token's time goes, 1 stream (medians over the pairs of the gateway ÷ bare loop row)",
                "| engine | model | time per token | graph (bare loop) | engine step beyond the graph | of which collect and emit | scheduling and gRPC delivery |",
                breakdowns);
        table(b, "Staggered arrivals: streams arriving as a Poisson process, chunked prefill against whole",
                "| model | concurrency (closed loop) | prefill | tokens/s | streams in flight: mean (first → last quarter) | inter-token p50 | p99 | p99 ÷ p50 | TTFT p50 | TTFT p99 | p99 ≤ 3 × p50 |",
                arrivals);
        table(b, "Rates and latencies", "| measurement | model | figures |", rates);
        table(b, "Other kinds", "| measurement | model | figures | goal | met |", kinds);
        if (!engineCells.isEmpty()) {
            b.append("#### Engines side by side (median (IQR) of each engine's own interleaved pairs)\n\n| comparison | model |");
            for (String e : engines) b.append(' ').append(e).append(" |");
            b.append("\n|---|---|").append("---|".repeat(engines.size())).append('\n');
            for (var row : engineCells.entrySet()) {
                b.append("| ").append(row.getKey().get(0)).append(" | ").append(row.getKey().get(1)).append(" |");
                for (String e : engines) {
                    Stats.Spread s = row.getValue().get(e);
                    b.append(' ').append(s == null ? "" : s.format("×")).append(" |");
                }
                b.append('\n');
            }
            b.append('\n');
        }
        table(b, "Engines against each other, interleaved (both gateways running, blocks alternating)",
                "| comparison | model | median (IQR) |", engineDirect);
        for (String n : notes) b.append(n).append("\n\n");
        b.setLength(b.length() - 1);
        b.append(END);
        return b.toString();
    }

    private static void table(StringBuilder b, String title, String header, List<String[]> rows) {
        if (rows.isEmpty()) return;
        b.append("#### ").append(title).append("\n\n").append(header).append('\n');
        int columns = header.split("\\|", -1).length - 2;
        b.append("|").append("---|".repeat(columns)).append('\n');
        for (String[] r : rows) b.append("| ").append(String.join(" | ", r)).append(" |\n");
        b.append('\n');
    }

    /** Replaces the block between the markers of {@code file}. */
    static void write(Path file, String block) throws IOException {
        String doc = Files.exists(file) ? Files.readString(file) : BEGIN + "\n" + END + "\n";
        int s = doc.indexOf(BEGIN), e = doc.indexOf(END);
        if (s < 0 || e < 0) throw new IOException(file + " lacks the result markers " + BEGIN + " / " + END);
        Files.writeString(file, doc.substring(0, s) + block + doc.substring(e + END.length()));
    }
}
