package io.headgate.discovery;

import io.headgate.convert.BundleCache;
import io.headgate.convert.CheckpointConverter;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlBatch;
import io.headgate.model.lm.KvCache;
import io.headgate.model.ControlRow;
import io.headgate.testing.Checkpoints;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Batched single-head ablation on parens-lm: each row is what a run of its own would give. */
class HeadScanTest {

    static final double TOLERANCE = 1e-5;
    static Path bundle;
    static CausalLmGraph alone; // single runs to compare with
    static Attribution attribution;
    static Dimensions dims;

    @BeforeAll
    static void load() throws Exception {
        bundle = new BundleCache(Path.of("target", "test-bundles"), new CheckpointConverter(m -> { }))
                .bundleFor(Checkpoints.PARENS_LM, CheckpointConverter.Options.ANALYSIS);
        alone = CausalLmGraph.load(bundle, CausalLmGraph.SessionConfig.DEFAULT);
        dims = alone.manifest().dimensions();
        attribution = Attribution.load(Checkpoints.PARENS_LM, dims);
    }

    @AfterAll
    static void close() throws Exception {
        alone.close();
    }

    /** A scanner on a graph of its own (closing the scanner closes it). */
    static HeadScan scanner(int batchRows) throws Exception {
        return new HeadScan(CausalLmGraph.load(bundle, CausalLmGraph.SessionConfig.DEFAULT), attribution, batchRows);
    }

    /** The scan's own steering: a few heads boosted, so the ablations sit on top of it. */
    static ControlRow steering() {
        ControlRow row = ControlRow.identity(dims);
        row.gain()[3] = 1.3f;
        row.gain()[17] = 0.7f;
        return row;
    }

    static ScanExample example(String prompt, String answer) {
        return ScanExamples.teacherForced(prompt, prompt, answer, ParensLm::encode);
    }

    @Test
    void everyAblationRowEqualsASingleRunWithThatHeadsGainAtZero() throws Exception {
        ScanExample example = example("{[(<>)]([", "])}");
        List<ControlRow> variants = HeadScan.ablationRows(steering(), dims);
        assertThat(variants).hasSize(1 + dims.layers() * dims.heads());
        try (HeadScan scan = scanner(64)) {
            FloatBuffer batched = scan.forward(example, variants, 0, variants.size());
            float[] rows = new float[batched.remaining()];
            batched.get(rows);
            double worst = 0;
            for (int v = 0; v < variants.size(); v++) {
                ControlRow expected = steering();
                if (v > 0) expected.gain()[v - 1] = 0f;
                FloatBuffer single = singleRun(example.prompt(), expected);
                for (int t = 0; t < dims.vocabSize(); t++) worst = Math.max(worst, Math.abs(rows[v * dims.vocabSize() + t] - single.get(t)));
            }
            assertThat(worst).as("largest difference between a batched ablation row and its run alone").isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void tablesHoldTheChangeAgainstTheBaselinePerHead() throws Exception {
        List<ScanExample> examples = List.of(example("(<[{", "}]>)"), example("[]{(", ")}"), example("57+681=", "738"));
        HeadTables tables;
        HeadTables chunked;
        List<String> phases = new ArrayList<>();
        try (HeadScan scan = scanner(64); HeadScan small = scanner(5)) {
            tables = scan.run(examples, steering(), true, (phase, done, total) -> phases.add(phase + " " + done + "/" + total), () -> false);
            chunked = small.run(examples, steering(), true, (phase, done, total) -> { }, () -> false);
        }
        assertThat(phases.getFirst()).startsWith(HeadScan.ATTRIBUTION);
        assertThat(phases.getLast()).isEqualTo(HeadScan.ABLATION + " 3/3");

        int head = dims.layers() * dims.heads() - 1;
        double expectedDelta = 0;
        for (ScanExample e : examples) {
            ControlRow ablated = steering();
            ablated.gain()[head] = 0f;
            double base = Logits.logSoftmax(singleRun(e.prompt(), steering()), 0, dims.vocabSize(), e.target());
            expectedDelta += (Logits.logSoftmax(singleRun(e.prompt(), ablated), 0, dims.vocabSize(), e.target()) - base) / examples.size();
        }
        assertThat(tables.ablationDeltaLogprob()[head]).isCloseTo(expectedDelta, within(TOLERANCE));
        assertThat(tables.baselineAccuracy()).isEqualTo(1.0);
        for (int i = 0; i <= head; i++) {
            assertThat(chunked.ablationDeltaLogprob()[i]).as("head %d in batches of 5", i).isCloseTo(tables.ablationDeltaLogprob()[i], within(TOLERANCE));
            assertThat(chunked.attributionMean()[i]).isCloseTo(tables.attributionMean()[i], within(TOLERANCE));
            assertThat(tables.attributionPositive()[i] + tables.attributionNegative()[i]).isLessThanOrEqualTo(1.0);
        }
    }

    @Test
    void aCancelledScanStopsBetweenBatches() throws Exception {
        try (HeadScan scan = scanner(8)) {
            assertThatThrownBy(() -> scan.run(List.of(example("((", "))")), steering(), true, (p, d, t) -> { }, () -> true))
                    .isInstanceOf(CancellationException.class);
        }
    }

    @Test
    void lastPositionHeadsAreEachPromptsOwnRunInTheCallersOrder() throws Exception {
        // lengths 5, 3, 5, 8, 3, 5: batches of at most 2 rows split the length-5 group and reorder by length
        List<long[]> prompts = List.of(ParensLm.encode("([{<"), ParensLm.encode("()"), ParensLm.encode("[]{("),
                ParensLm.encode("57+681="), ParensLm.encode("<["), ParensLm.encode("{{{{"));
        float[][] batched;
        try (HeadScan scan = scanner(2)) {
            batched = scan.lastPositionHeads(prompts, steering(), () -> false);
        }
        int size = dims.layers() * dims.heads() * dims.headDim();
        assertThat(batched.length).isEqualTo(prompts.size());
        for (int p = 0; p < prompts.size(); p++) {
            singleRun(prompts.get(p), steering());
            FloatBuffer single = alone.lastPosition().heads();
            assertThat(batched[p]).hasSize(size);
            for (int i = 0; i < size; i++) {
                assertThat((double) batched[p][i]).as("prompt %d, value %d", p, i).isCloseTo(single.get(i), within(TOLERANCE));
            }
        }
    }

    @Test
    void lastPositionHeadsCarryTheSteeringsBiasExactly() throws Exception {
        // a bias adds to z after the head: the steered output minus the unsteered one is the bias
        ControlRow biased = ControlRow.identity(dims);
        int layer = 2, head = 5, at = (layer * dims.heads() + head) * dims.headDim();
        for (int k = 0; k < dims.headDim(); k++) biased.bias()[at + k] = 0.25f * (k - 7);
        List<long[]> prompts = List.of(ParensLm.encode("{[(<"));
        try (HeadScan scan = scanner(4)) {
            float[] plain = scan.lastPositionHeads(prompts, ControlRow.identity(dims), () -> false)[0];
            float[] steered = scan.lastPositionHeads(prompts, biased, () -> false)[0];
            for (int k = 0; k < dims.headDim(); k++) {
                assertThat((double) (steered[at + k] - plain[at + k])).isCloseTo(0.25 * (k - 7), within(1e-5));
            }
        }
    }

    @Test
    void lastPositionHeadsRefuseOverlongPromptsAndStopWhenCancelled() throws Exception {
        try (HeadScan scan = scanner(4)) {
            long[] tooLong = new long[scan.maxLength()];
            assertThatThrownBy(() -> scan.lastPositionHeads(List.of(ParensLm.encode("()"), tooLong), steering(), () -> false))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("prompt 1: " + scan.maxLength() + " tokens");
            assertThatThrownBy(() -> scan.lastPositionHeads(List.of(ParensLm.encode("()")), steering(), () -> true))
                    .isInstanceOf(CancellationException.class);
        }
    }

    private static FloatBuffer singleRun(long[] prompt, ControlRow row) throws Exception {
        ControlBatch controls = new ControlBatch(dims, 1);
        controls.set(0, row);
        return alone.forward(new KvCache(alone.manifest(), 1), 0, 1, prompt.length, prompt, new int[1], controls);
    }
}
