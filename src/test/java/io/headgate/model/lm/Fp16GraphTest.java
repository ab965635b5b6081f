package io.headgate.model.lm;

import io.headgate.convert.CheckpointConverter;
import io.headgate.model.BundleManifest;
import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.testing.Checkpoints;
import io.headgate.testing.Greedy;
import io.headgate.testing.ParensLm;
import io.headgate.testing.ReferenceFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fp16 graph (what a GPU runs; CUDA's GroupQueryAttention has no fp32 kernel) on the CPU:
 * greedy decoding gives the fp32 graph's tokens on the demo prompts, its logits stay within
 * {@link #RELATIVE_TOLERANCE} of the fp32 logits' scale, and identity controls reproduce the plain
 * fp16 graph bit for bit — for the demo model and for the fp16, bf16 and sliding-window test
 * checkpoints.
 *
 * <p>The tolerance: fp16 keeps 11 significant bits, a unit roundoff of u = 2^-11 ≈ 4.9e-4. Weights,
 * rotary tables and the cache are rounded once to fp16 and every node rounds its fp16 output, so
 * each layer adds errors of a few u of the activations' scale, and a logit inherits them through its
 * dot products (where cancellation can make them larger relative to the logit than to the
 * activations). The bound is 16u of the largest fp32 logit (≈ 7.8e-3 relative). Measured: at most
 * 1.4u on parens-lm's demo prompts (0.0098 at a logit scale of ~15), 3.1u on its identity-test prompt,
 * and up to 9.2u on the random two-layer test checkpoints, whose logits are flat (largest ~3); a real bug (a wrong cast, a lost control, a
 * mis-typed cache) gives errors of the order of the logits themselves. Greedy tokens can only differ
 * where the fp32 top-2 margin is below twice the error; on the demo prompts it is 8.5 or more.
 */
class Fp16GraphTest {

    static final double UNIT_ROUNDOFF = Math.scalb(1.0, -11);
    static final double RELATIVE_TOLERANCE = 16 * UNIT_ROUNDOFF;
    static final int MAX_TOKENS = 40;

    @TempDir
    Path dir;

    /** The README's prompts and every reference-fixture prompt. */
    static List<long[]> demoPrompts() throws Exception {
        Map<String, long[]> prompts = new LinkedHashMap<>();
        for (String text : List.of("{(<[()]([{=", "57+681=")) prompts.put(text, ParensLm.encode(text));
        ReferenceFixture ref = ReferenceFixture.read(Checkpoints.withReferences().getFirst().reference());
        for (ReferenceFixture.Case c : ref.cases()) {
            long[] prompt = Arrays.copyOf(c.tokens(), c.promptLength());
            prompts.putIfAbsent(Arrays.toString(prompt), prompt);
        }
        return new ArrayList<>(prompts.values());
    }

    @Test
    void fp16GreedyTokensEqualFp32OnTheDemoPromptsWithLogitsWithinTolerance() throws Exception {
        try (CausalLmGraph fp32 = Checkpoints.convertAndLoad(Checkpoints.PARENS_LM, dir, "fp32", CheckpointConverter.Options.STEERABLE);
             CausalLmGraph fp16 = Checkpoints.convertAndLoad(Checkpoints.PARENS_LM, dir, "fp16", CheckpointConverter.Options.STEERABLE.withFloat16(true))) {
            assertThat(fp16.manifest().cache().dtype()).isEqualTo(BundleManifest.CacheLayout.FLOAT16);
            assertThat(fp32.manifest().cache().dtype()).isEqualTo(BundleManifest.CacheLayout.FLOAT32);
            List<long[]> prompts = demoPrompts();
            assertThat(prompts).hasSizeGreaterThanOrEqualTo(4);
            int steps = 0;
            for (long[] prompt : prompts) {
                Decode a = new Decode(fp32), b = new Decode(fp16);
                FloatBuffer la = a.prefill(prompt), lb = b.prefill(prompt);
                List<Long> tokensA = new ArrayList<>(), tokensB = new ArrayList<>();
                while (true) {
                    assertWithinTolerance(la, lb, "prompt " + ParensLm.decode(prompt) + " step " + tokensA.size());
                    steps++;
                    long nextA = Greedy.argmax(la, 0, a.vocab), nextB = Greedy.argmax(lb, 0, b.vocab);
                    tokensA.add(nextA);
                    tokensB.add(nextB);
                    if (nextA != nextB || nextA == ParensLm.EOS || tokensA.size() == MAX_TOKENS) break;
                    la = a.step(nextA);
                    lb = b.step(nextB);
                }
                assertEquals(tokensA, tokensB, "greedy tokens for " + ParensLm.decode(prompt));
            }
            assertThat(steps).as("logit rows compared").isGreaterThan(20);
        }
    }

    static List<Checkpoints.WithReference> checkpoints() {
        return Checkpoints.withReferences();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void identityControlsReproduceThePlainFp16GraphBitForBitAndStayCloseToFp32(Checkpoints.WithReference c) throws Exception {
        var fp16 = CheckpointConverter.Options.STEERABLE.withFloat16(true);
        try (CausalLmGraph plain = Checkpoints.convertAndLoad(c.checkpoint(), dir, "plain16", new CheckpointConverter.Options(false, false, 0).withFloat16(true));
             CausalLmGraph steerable = Checkpoints.convertAndLoad(c.checkpoint(), dir, "steerable16", fp16);
             CausalLmGraph reference = Checkpoints.convertAndLoad(c.checkpoint(), dir, "steerable32", CheckpointConverter.Options.STEERABLE)) {
            Decode p = new Decode(plain), s = new Decode(steerable), r = new Decode(reference);
            long[] prompt = {1, 3, 5, 7, 9, 4, 2}; // valid ids in every test vocabulary
            FloatBuffer a = p.prefill(prompt), b = s.prefill(prompt), ref = r.prefill(prompt);
            for (int step = 0; ; step++) {
                assertBitEqual(a, b, c + " step " + step);
                assertWithinTolerance(ref, b, c + " fp16 against fp32, step " + step);
                if (step == 12) break;
                long next = Greedy.argmax(ref, 0, r.vocab);
                a = p.step(next);
                b = s.step(next);
                ref = r.step(next);
            }
        }
    }

    @Test
    void fp16AnalysisOutputsAreFp32AndCloseToTheFp32AnalysisGraphs() throws Exception {
        try (CausalLmGraph fp32 = Checkpoints.convertAndLoad(Checkpoints.PARENS_LM, dir, "analysis32", CheckpointConverter.Options.ANALYSIS);
             CausalLmGraph fp16 = Checkpoints.convertAndLoad(Checkpoints.PARENS_LM, dir, "analysis16", CheckpointConverter.Options.ANALYSIS.withFloat16(true))) {
            long[] prompt = ParensLm.encode("{(<[()]([{=");
            Decode a = new Decode(fp32), b = new Decode(fp16);
            assertWithinTolerance(a.prefill(prompt), b.prefill(prompt), "analysis graph logits");
            LastPosition x = fp32.lastPosition(), y = fp16.lastPosition();
            assertCloseRelative(x.heads(), y.heads(), "head outputs");
            assertCloseRelative(x.mlps(), y.mlps(), "MLP outputs");
            assertCloseRelative(x.embedding(), y.embedding(), "embedding");
            assertCloseRelative(x.finalResidual(), y.finalResidual(), "final residual");
        }
    }

    /** Like {@link #assertWithinTolerance}, over a whole buffer of fp32 activations. */
    private static void assertCloseRelative(FloatBuffer fp32, FloatBuffer fp16, String what) {
        assertEquals(fp32.remaining(), fp16.remaining(), what);
        assertThat(fp32.remaining()).as(what).isGreaterThan(0);
        assertWithinTolerance(fp32, fp16, what);
    }

    /** One row decoded step by step under identity controls (none for a plain graph). */
    private static final class Decode {
        final CausalLmGraph graph;
        final int vocab;
        final KvCache cache;
        final ControlBatch controls;
        int length;

        Decode(CausalLmGraph graph) {
            this.graph = graph;
            var d = graph.manifest().dimensions();
            this.vocab = d.vocabSize();
            this.cache = new KvCache(graph.manifest(), 1);
            this.controls = graph.manifest().steerable() ? new ControlBatch(d, 1) : null;
            if (controls != null) controls.set(0, ControlRow.identity(d));
        }

        FloatBuffer prefill(long[] prompt) throws Exception {
            length = prompt.length;
            return graph.forward(cache, 0, 1, prompt.length, prompt, new int[]{0}, controls);
        }

        FloatBuffer step(long token) throws Exception {
            return graph.forward(cache, 0, 1, 1, new long[]{token}, new int[]{length++}, controls);
        }
    }

    static void assertWithinTolerance(FloatBuffer fp32, FloatBuffer fp16, String what) {
        double worst = 0, scale = 0;
        for (int v = 0; v < fp32.remaining(); v++) {
            worst = Math.max(worst, Math.abs(fp32.get(v) - fp16.get(v)));
            scale = Math.max(scale, Math.abs(fp32.get(v)));
        }
        assertThat(worst).as(what + ": max |Δlogit| against " + RELATIVE_TOLERANCE + " x max |logit| " + scale)
                .isLessThanOrEqualTo(RELATIVE_TOLERANCE * scale);
    }

    static void assertBitEqual(FloatBuffer expected, FloatBuffer actual, String what) {
        assertEquals(expected.remaining(), actual.remaining(), what);
        for (int i = 0; i < expected.remaining(); i++) {
            assertEquals(Float.floatToRawIntBits(expected.get(i)), Float.floatToRawIntBits(actual.get(i)),
                    what + ": logit " + i + " differs: " + expected.get(i) + " vs " + actual.get(i));
        }
    }
}
