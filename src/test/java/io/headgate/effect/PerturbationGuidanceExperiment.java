package io.headgate.effect;

import io.headgate.engine.diffusion.Guidance;
import io.headgate.engine.diffusion.TimeGrid;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.ControlRow;
import io.headgate.model.diffusion.DiffusionGraph;
import io.headgate.model.diffusion.SampleClassifier;
import io.headgate.testing.DigitsDit;
import io.headgate.testing.GuidedSampler;
import io.headgate.testing.GuidedSampler.Setting;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Perturbation guidance on digits-dit, measured through Headgate's own graph, sampler, guidance and
 * quality score (no PyTorch): conditional generation without and with classifier-free guidance;
 * unconditional generation without guidance, with PAG on each whole layer at several scales, and with
 * SoftPAG (attn_identity_mix u < 1) on whole layers over u. Each setting samples N images per seed (20
 * Euler steps, all N in one batch; conditional: N/10 of each digit) and reports the classifier's
 * accuracy, mean confidence and the Fréchet distance of its features to the held-out real images,
 * as mean ± sample standard deviation over the seeds, and the range.
 * <p>
 * Run: {@code ./mvnw -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.headgate.effect.PerturbationGuidanceExperiment [-Dexec.args="N SEEDS SOFT_LAYERS"]}
 * (defaults 500 3 0,1). Writes the tables to stdout and to {@code target/digits-dit-experiment.md}.
 */
public final class PerturbationGuidanceExperiment {

    static final double[] CFG_SCALES = {1.5, 2, 3, 5};
    static final double[] PAG_SCALES = {0.25, 0.5, 1, 2};
    static final double[] SOFT_SCALES = {0.5, 2};
    static final float[] MIXES = {0.25f, 0.5f, 0.75f}; // u = 1 is the whole-layer table

    record Row(String name, double[] accuracy, double[] confidence, double[] fd) {
    }

    private final DiffusionGraph graph;
    private final SampleClassifier classifier;
    private final FeatureStatistics real;
    private final Dimensions dims;
    private final int n;
    private final long[] seeds;
    private final TimeGrid grid = new TimeGrid(20);
    private final StringBuilder out = new StringBuilder();

    PerturbationGuidanceExperiment(DiffusionGraph graph, SampleClassifier classifier, FeatureStatistics real, int n, long[] seeds) {
        this.graph = graph;
        this.classifier = classifier;
        this.real = real;
        this.dims = graph.manifest().dimensions();
        this.n = n;
        this.seeds = seeds;
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int seedCount = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int[] softLayers = Arrays.stream((args.length > 2 ? args[2] : "0,1").split(",")).mapToInt(Integer::parseInt).toArray();
        long[] seeds = new long[seedCount];
        for (int i = 0; i < seedCount; i++) seeds[i] = 1001 + i;
        try (DiffusionGraph graph = DigitsDit.graph(); SampleClassifier classifier = DigitsDit.classifier()) {
            new PerturbationGuidanceExperiment(graph, classifier, DigitsDit.realFeatures(), n, seeds).run(softLayers);
        }
    }

    void run(int[] softLayers) throws Exception {
        long start = System.nanoTime();
        line("## Setup: " + n + " images per seed, seeds " + Arrays.toString(seeds) + ", 20 Euler steps, one ONNX Runtime thread");
        line("");
        ControlRow identity = ControlRow.identity(dims);
        long[] conditional = new long[n], unconditional = new long[n];
        for (int k = 0; k < n; k++) conditional[k] = k % 10;
        Arrays.fill(unconditional, graph.manifest().diffusion().nullLabel());

        List<Row> cond = new ArrayList<>();
        cond.add(measure("no guidance", conditional, Setting.guided(dims, Guidance.NONE, identity)));
        for (double w : CFG_SCALES) cond.add(measure("CFG w = " + num(w), conditional, Setting.guided(dims, new Guidance(w, 0, 0), identity)));
        table("Conditional generation (N/10 of each digit)", cond, true);

        List<Row> layers = new ArrayList<>();
        Row none = measure("no guidance", unconditional, Setting.guided(dims, Guidance.NONE, identity));
        layers.add(none);
        for (double s : PAG_SCALES) {
            for (int l = 0; l < dims.layers(); l++) {
                layers.add(measure("PAG layer " + l + ", s = " + num(s), unconditional,
                        Setting.guided(dims, new Guidance(1, s, 0), layerMix(l, 1f))));
            }
        }
        table("Unconditional generation, PAG on one whole layer (attn_identity_mix = 1 on its 4 heads)", layers, false);

        List<Row> soft = new ArrayList<>();
        soft.add(none);
        for (int layer : softLayers) {
            for (double s : SOFT_SCALES) {
                for (float u : MIXES) {
                    soft.add(measure("SoftPAG layer " + layer + ", s = " + num(s) + ", u = " + num(u), unconditional,
                            Setting.guided(dims, new Guidance(1, s, 0), layerMix(layer, u))));
                }
            }
        }
        table("Unconditional generation, SoftPAG (attn_identity_mix = u < 1 on one whole layer)", soft, false);
        line(String.format(Locale.ROOT, "Total time: %.0f s", (System.nanoTime() - start) / 1e9));
        Path file = Path.of("target", "digits-dit-experiment.md");
        Files.createDirectories(file.getParent());
        Files.writeString(file, out);
    }

    private ControlRow layerMix(int layer, float u) {
        ControlRow row = ControlRow.identity(dims);
        for (int h = 0; h < dims.heads(); h++) row.mix()[layer * dims.heads() + h] = u;
        return row;
    }

    private Row measure(String name, long[] labels, Setting setting) throws Exception {
        boolean conditional = labels[0] != graph.manifest().diffusion().nullLabel();
        double[] acc = new double[seeds.length], conf = new double[seeds.length], fd = new double[seeds.length];
        long start = System.nanoTime();
        GuidedSampler sampler = new GuidedSampler(graph);
        for (int i = 0; i < seeds.length; i++) {
            float[] images = sampler.sample(labels, seeds[i], setting, grid);
            SampleQuality q = SampleQuality.measure(classifier.classify(n, images), conditional ? labels : null, real);
            acc[i] = q.accuracy();
            conf[i] = q.confidence();
            fd[i] = q.frechetDistance();
        }
        System.err.printf(Locale.ROOT, "%s: FD %s (%.0f s)%n", name, cell(fd), (System.nanoTime() - start) / 1e9);
        return new Row(name, acc, conf, fd);
    }

    private void table(String title, List<Row> rows, boolean withAccuracy) {
        line("### " + title);
        line("");
        line(withAccuracy ? "| setting | accuracy | confidence | FD | FD range |" : "| setting | confidence | FD | FD range |");
        line(withAccuracy ? "|---|---|---|---|---|" : "|---|---|---|---|");
        for (Row r : rows) {
            String range = String.format(Locale.ROOT, "%.2f–%.2f", Arrays.stream(r.fd()).min().orElseThrow(), Arrays.stream(r.fd()).max().orElseThrow());
            line(withAccuracy
                    ? "| " + r.name() + " | " + cell(r.accuracy()) + " | " + cell(r.confidence()) + " | " + cell(r.fd()) + " | " + range + " |"
                    : "| " + r.name() + " | " + cell(r.confidence()) + " | " + cell(r.fd()) + " | " + range + " |");
        }
        line("");
    }

    /** 0.25, 2, 1.5: no trailing zeros. */
    static String num(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    static String cell(double[] values) {
        double mean = Arrays.stream(values).average().orElseThrow(), var = 0;
        for (double v : values) var += (v - mean) * (v - mean);
        double sd = values.length > 1 ? Math.sqrt(var / (values.length - 1)) : 0;
        return String.format(Locale.ROOT, mean < 10 ? "%.3f ± %.3f" : "%.2f ± %.2f", mean, sd);
    }

    private void line(String s) {
        System.out.println(s);
        out.append(s).append('\n');
    }
}
