package io.headgate.discovery;

import io.headgate.convert.BundleCache;
import io.headgate.convert.CheckpointConverter;
import io.headgate.effect.Probe;
import io.headgate.effect.ProbeSets;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlRow;
import io.headgate.steer.ProfileCompiler;
import io.headgate.steer.ProfileSpec;
import io.headgate.steer.ProfileValidator;
import io.headgate.testing.Checkpoints;
import io.headgate.testing.ParensLm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * A miniature RASteer replication on parens-lm, straight on the graphs (no server):
 *
 * <ol>
 *   <li>accuracy per depth (1–10) and on addition, greedy, exact answer and end token;</li>
 *   <li>a head scan on brackets within training depth (attribution and ablation);</li>
 *   <li>the suggested profile (gain 1.3 on every sound head) and its accuracy;</li>
 *   <li>a sweep of the gain c and of the number of boosted heads (top N by mean attribution);</li>
 *   <li>the same sizes of random head sets, several seeds, as the control;</li>
 *   <li>diagnostics: whole layers boosted, and heads chosen by a scan on deep (dev) examples.</li>
 * </ol>
 *
 * Run: {@code ./mvnw -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.headgate.discovery.RasteerExperiment [-Dexec.args="PER_GROUP SEEDS"]}.
 * Writes the tables to stdout and to {@code target/rasteer-experiment.md}.
 */
public final class RasteerExperiment {

    static final long EVAL_SEED = 1, DEV_SEED = 2;
    static final float[] GAINS = {1.1f, 1.2f, 1.3f, 1.4f, 1.6f};
    static final List<String> COLUMNS = List.of(GroupAccuracy.WITHIN_TRAINING, "depth 7", "depth 8", "depth 9", "depth 10", "addition");

    private final GroupAccuracy accuracy, dev;
    private final HeadScan scan;
    private final Dimensions dims;
    private final StringBuilder out = new StringBuilder();

    /** {@code dev}: deep prompts drawn apart from the evaluation set, for choosing a diagnostic's setting. */
    RasteerExperiment(GroupAccuracy accuracy, GroupAccuracy dev, HeadScan scan) {
        this.accuracy = accuracy;
        this.dev = dev;
        this.scan = scan;
        this.dims = scan.dims();
    }

    public static void main(String[] args) throws Exception {
        int perGroup = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int seeds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        BundleCache cache = new BundleCache(Path.of("target", "test-bundles"), new CheckpointConverter(m -> { }));
        Path analysis = cache.bundleFor(Checkpoints.PARENS_LM, CheckpointConverter.Options.ANALYSIS);
        long t0 = System.nanoTime();
        try (CausalLmGraph steerable = ParensLm.graph();
             HeadScan scan = new HeadScan(CausalLmGraph.load(analysis, CausalLmGraph.SessionConfig.DEFAULT),
                     Attribution.load(Checkpoints.PARENS_LM, steerable.manifest().dimensions()), 64)) {
            BatchedGreedy greedy = new BatchedGreedy(steerable, 64, ParensLm.EOS);
            GroupAccuracy accuracy = new GroupAccuracy(greedy, ProbeSets.parensLm("", perGroup, EVAL_SEED));
            GroupAccuracy dev = new GroupAccuracy(greedy, ProbeSets.parensLm(ProbeSets.BRACKETS, perGroup, DEV_SEED).stream()
                    .filter(p -> p.answer().length() > ProbeSets.TRAINING_DEPTH).toList());
            new RasteerExperiment(accuracy, dev, scan).run(perGroup, seeds);
        }
        System.err.printf(Locale.ROOT, "done in %.0f s%n", (System.nanoTime() - t0) / 1e9);
    }

    void run(int perGroup, int seeds) throws Exception {
        line("Evaluation: %d prompts per depth and %d additions (ProbeSets seed %d); greedy, exact answer then end token.%n",
                perGroup, accuracy.sizes().get("addition"), EVAL_SEED);
        baseline();
        ScanReport report = scanBrackets();
        List<Integer> sound = suggested(report);
        sweep(sound, seeds);
        randomDraws(8, 1.4f, seeds);
        layers();
        deepScan(perGroup);
        Path file = Path.of("target", "rasteer-experiment.md");
        Files.writeString(file, out);
        System.err.println("wrote " + file);
    }

    private void baseline() throws Exception {
        Map<String, Double> baseline = accuracy.measure(ControlRow.identity(dims));
        line("%n### Baseline (identity)%n%n| | %s |%n|---|%s%n| accuracy | %s |%n%n",
                String.join(" | ", baseline.keySet()), "---|".repeat(baseline.size()), cells(baseline, List.copyOf(baseline.keySet())));
        for (String group : List.of("depth 9", "depth 10")) {
            int[] errors = accuracy.firstErrors(ControlRow.identity(dims), group);
            line("Wrong answers at %s by the answer position of their first wrong token: %s%n", group,
                    Arrays.toString(Arrays.copyOf(errors, 10)));
        }
        line("%n");
    }

    /** What SuggestProfile writes by default: gain 1.3 on every sound head. Returns the sound heads, strongest first. */
    private List<Integer> suggested(ScanReport report) throws Exception {
        ProfileSuggestion suggested = new ProfileSuggestion(1.3f, 0, 0);
        List<Integer> sound = suggested.boosted(report);
        ControlRow row = compile(suggested.spec(report, Instant.now()));
        line("### Suggested profile (gain 1.3 on all %d sound heads)%n%n%s| suggested | %d | 1.3 | %s |%n%n",
                sound.size(), header(), sound.size(), cells(accuracy.measure(row)));
        line("Sound heads by mean attribution, strongest first: %s%n%n", names(sound));
        return sound;
    }

    private void sweep(List<Integer> sound, int seeds) throws Exception {
        line("### Sweep: top N sound heads × c, against random sets of N heads (%d seeds: mean, min–max)%n%n%s", seeds, header());
        for (int n : new int[]{2, 4, 8, sound.size()}) {
            for (float c : GAINS) {
                line("| top %d sound | %d | %.1f | %s |%n", n, n, c, cells(accuracy.measure(boost(sound.subList(0, Math.min(n, sound.size())), c))));
                line("| random %d | %d | %.1f | %s |%n", n, n, c, randomCells(n, c, seeds));
            }
        }
    }

    /** Which random sets do well: each draw with its heads. */
    private void randomDraws(int n, float c, int seeds) throws Exception {
        line("%n### Random sets of %d heads at c = %.1f, per seed%n%n| seed | heads | layer-1 heads | %s |%n|---|---|---|%s%n",
                n, c, String.join(" | ", COLUMNS), "---|".repeat(COLUMNS.size()));
        for (int seed = 1; seed <= seeds; seed++) {
            List<Integer> heads = randomHeads(n, seed);
            long layer1 = heads.stream().filter(i -> i / dims.heads() == 1).count();
            line("| %d | %s | %d | %s |%n", seed, names(heads), layer1, cells(accuracy.measure(boost(heads, c))));
        }
    }

    /** Every head of a layer × c; the setting with the best dev score (mean of depths 8–10) is named. */
    private void layers() throws Exception {
        line("%n### Diagnostic: every head of one layer × c (dev: mean accuracy at depths 8–10 on the dev set)%n%n"
                + "| profile | heads | c | dev | " + String.join(" | ", COLUMNS) + " |%n|---|---|---|---|" + "---|".repeat(COLUMNS.size()) + "%n");
        String best = "";
        double bestDev = -1;
        for (int l = 0; l < dims.layers(); l++) {
            List<Integer> layer = new ArrayList<>();
            for (int h = 0; h < dims.heads(); h++) layer.add(l * dims.heads() + h);
            for (float c : new float[]{0.8f, 1.2f, 1.4f, 1.6f}) {
                double devScore = deepScore(dev.measure(boost(layer, c)));
                String row = String.format(Locale.ROOT, "| layer %d | %d | %.1f | %.3f | %s |", l, dims.heads(), c, devScore,
                        cells(accuracy.measure(boost(layer, c))));
                line("%s%n", row);
                if (devScore > bestDev) {
                    bestDev = devScore;
                    best = row;
                }
            }
        }
        line("%nChosen on the dev set (baseline dev %.3f): %s%n", deepScore(dev.measure(ControlRow.identity(dims))), best);
    }

    private static double deepScore(Map<String, Double> accuracy) {
        return (accuracy.get("depth 8") + accuracy.get("depth 9") + accuracy.get("depth 10")) / 3;
    }

    /** The same scan on deep dev prompts, and boosts of its top sound heads. */
    private void deepScan(int perGroup) throws Exception {
        ScanReport deep = scanDeep(perGroup);
        List<Integer> deepSound = new ProfileSuggestion(1.3f, 0, 0).boosted(deep);
        line("%n### Diagnostic: heads from a scan on deep dev examples (depths 7–10, seed %d; baseline top-1 %.3f, %d sound)%n%n"
                + "Sound heads by mean attribution: %s%n%nLargest drops of the target's log-prob when ablated: %s%n%n%s",
                DEV_SEED, deep.tables().baselineAccuracy(), deepSound.size(), names(deepSound), largestAblationDrops(deep.tables(), 4), header());
        for (int n : new int[]{2, 4, 8, deepSound.size()}) {
            for (float c : new float[]{1.2f, 1.4f}) {
                line("| deep-scan top %d | %d | %.1f | %s |%n", n, n, c, cells(accuracy.measure(boost(deepSound.subList(0, Math.min(n, deepSound.size())), c))));
            }
        }
    }

    /** The scan the service runs for builtin "brackets": depths 1–6, identity steering. */
    private ScanReport scanBrackets() throws Exception {
        List<ScanExample> examples = new ArrayList<>();
        for (Probe p : ScanExamples.builtin("parens-lm", ProbeSets.BRACKETS, 0)) examples.add(example(p));
        ScanReport report = scanReport("builtin brackets", examples);
        line("### Scan: builtin brackets, depths 1–6, %d examples, baseline top-1 %.3f%n%n%s%n%n", examples.size(),
                report.tables().baselineAccuracy(), report.thresholds());
        line("| head | class | attribution mean | share > 0 | ablation Δ log-prob | ablation Δ accuracy |%n|---|---|---|---|---|---|%n");
        HeadTables t = report.tables();
        for (int i = 0; i < dims.layers() * dims.heads(); i++) {
            line("| L%dH%d | %s | %.3f | %.2f | %+.4f | %+.4f |%n", i / dims.heads(), i % dims.heads(), report.classes().get(i),
                    t.attributionMean()[i], t.attributionPositive()[i], t.ablationDeltaLogprob()[i], t.ablationDeltaAccuracy()[i]);
        }
        line("%n");
        return report;
    }

    /** The first closer of deep prompts (beyond training), drawn apart from the evaluation set. */
    private ScanReport scanDeep(int perGroup) throws Exception {
        List<ScanExample> examples = new ArrayList<>();
        for (Probe p : ProbeSets.parensLm(ProbeSets.BRACKETS, perGroup / 2, DEV_SEED)) {
            if (p.answer().length() > ProbeSets.TRAINING_DEPTH) examples.add(example(p));
        }
        return scanReport("dev brackets, depths 7-10", examples);
    }

    private ScanReport scanReport(String source, List<ScanExample> examples) throws Exception {
        HeadTables tables = scan.run(examples, ControlRow.identity(dims), true, (phase, done, total) -> { }, () -> false);
        return ScanReport.of("experiment", "parens-lm", source, "identity@0", tables,
                new HeadClassifier(HeadClassifier.DEFAULT_THRESHOLD, HeadClassifier.DEFAULT_MARGIN, true));
    }

    private static ScanExample example(Probe p) {
        return ScanExamples.teacherForced(p.group(), p.prompt(), p.answer(), ParensLm::encode);
    }

    private String randomCells(int n, float c, int seeds) throws Exception {
        List<Map<String, Double>> runs = new ArrayList<>();
        for (int seed = 1; seed <= seeds; seed++) runs.add(accuracy.measure(boost(randomHeads(n, seed), c)));
        List<String> cells = new ArrayList<>();
        for (String column : COLUMNS) {
            double sum = 0, min = 1, max = 0;
            for (Map<String, Double> r : runs) {
                sum += r.get(column);
                min = Math.min(min, r.get(column));
                max = Math.max(max, r.get(column));
            }
            cells.add(String.format(Locale.ROOT, "%.3f (%.2f–%.2f)", sum / runs.size(), min, max));
        }
        return String.join(" | ", cells);
    }

    private String largestAblationDrops(HeadTables t, int n) {
        List<Integer> heads = new ArrayList<>();
        for (int i = 0; i < t.layers() * t.heads(); i++) heads.add(i);
        heads.sort((a, b) -> Double.compare(t.ablationDeltaLogprob()[a], t.ablationDeltaLogprob()[b]));
        List<String> out = new ArrayList<>();
        for (int i : heads.subList(0, n)) out.add(String.format(Locale.ROOT, "L%dH%d %+.3f", i / t.heads(), i % t.heads(), t.ablationDeltaLogprob()[i]));
        return String.join(", ", out);
    }

    /** n of the model's heads, drawn without replacement. */
    private List<Integer> randomHeads(int n, long seed) {
        List<Integer> heads = new ArrayList<>();
        for (int i = 0; i < dims.layers() * dims.heads(); i++) heads.add(i);
        Collections.shuffle(heads, new Random(seed));
        return List.copyOf(heads.subList(0, n));
    }

    private String names(List<Integer> heads) {
        List<String> names = new ArrayList<>();
        for (int i : heads) names.add("L" + i / dims.heads() + "H" + i % dims.heads());
        return String.join(", ", names);
    }

    private ControlRow boost(List<Integer> heads, float c) {
        ControlRow row = ControlRow.identity(dims);
        for (int i : heads) row.gain()[i] = c;
        return row;
    }

    /** Validated and compiled as the gateway would. */
    private ControlRow compile(ProfileSpec spec) {
        ProfileValidator.validate(spec, dims, 16f);
        return ProfileCompiler.compile(spec, dims);
    }

    private static String header() {
        return "| profile | heads | c | " + String.join(" | ", COLUMNS) + " |\n|---|---|---|" + "---|".repeat(COLUMNS.size()) + "\n";
    }

    private static String cells(Map<String, Double> accuracy) {
        return cells(accuracy, COLUMNS);
    }

    private static String cells(Map<String, Double> accuracy, List<String> columns) {
        List<String> cells = new ArrayList<>();
        for (String c : columns) cells.add(String.format(Locale.ROOT, "%.3f", accuracy.get(c)));
        return String.join(" | ", cells);
    }

    private void line(String format, Object... args) {
        String s = String.format(Locale.ROOT, format, args);
        out.append(s);
        System.out.print(s);
        System.out.flush();
    }
}
