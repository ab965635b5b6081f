package io.headgate.discovery;

import ai.onnxruntime.OrtException;
import io.headgate.model.BundleManifest.Dimensions;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlBatch;
import io.headgate.model.lm.KvCache;
import io.headgate.model.lm.LastPosition;
import io.headgate.model.ControlRow;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * A head scan on an analysis graph, forward passes only, in two phases:
 *
 * <ol>
 *   <li><b>attribution</b>: each example's prompt is prefilled under the scan's steering (examples
 *       of equal length share a batch) and every head's direct logit attribution to the target is
 *       read at the last prompt position;</li>
 *   <li><b>ablation</b>: per example, one batch row per variant — the baseline, then every (layer,
 *       head) with that head's gain set to 0 on top of the steering — each row prefilled with the
 *       prompt in its own cache slot; the change of the target's log-probability and of top-1
 *       accuracy against the baseline row is averaged per head.</li>
 * </ol>
 *
 * It also reads the heads' outputs at the last prompt position for a list of prompts
 * ({@link #lastPositionHeads}), batched like the attribution phase, for directions.
 *
 * Not thread-safe: the graph runs one forward pass at a time, so one scan per instance at a time.
 * Closing it closes the graph.
 */
public final class HeadScan implements AutoCloseable {

    public static final String ATTRIBUTION = "attribution", ABLATION = "ablation";

    /** Called after each batch: the phase, examples done, examples in all. */
    public interface Progress {
        void report(String phase, int done, int total);
    }

    private final CausalLmGraph graph;
    private final Attribution attribution;
    private final Dimensions dims;
    private final KvCache cache;
    private final ControlBatch controls;
    private final int batchRows;

    /** {@code batchRows}: rows per forward pass, and cache slots held. */
    public HeadScan(CausalLmGraph graph, Attribution attribution, int batchRows) {
        if (!graph.manifest().analysis()) throw new IllegalArgumentException("bundle " + graph.manifest().name() + " has no analysis outputs");
        if (batchRows < 2) throw new IllegalArgumentException("batchRows must be at least 2");
        this.graph = graph;
        this.attribution = attribution;
        this.dims = graph.manifest().dimensions();
        this.cache = new KvCache(graph.manifest(), batchRows);
        this.controls = new ControlBatch(dims, batchRows);
        this.batchRows = batchRows;
    }

    public Dimensions dims() {
        return dims;
    }

    public int maxLength() {
        return graph.manifest().maxLength();
    }

    public HeadTables run(List<ScanExample> examples, ControlRow steering, boolean centred, Progress progress,
                          BooleanSupplier cancelled) throws OrtException {
        if (examples.isEmpty()) throw new IllegalArgumentException("a scan needs examples");
        for (ScanExample e : examples) {
            if (e.prompt().length >= maxLength()) {
                throw new IllegalArgumentException(e.label() + ": " + e.prompt().length + " tokens; the model's max length is " + maxLength());
            }
            if (e.target() >= dims.vocabSize()) throw new IllegalArgumentException(e.label() + ": target outside the vocabulary");
        }
        int heads = dims.layers() * dims.heads(), n = examples.size();
        double[] attributionSum = new double[heads], positive = new double[heads], negative = new double[heads];
        attribute(examples, steering, centred, attributionSum, positive, negative, progress, cancelled);

        double[] deltaLogprob = new double[heads], deltaCorrect = new double[heads];
        int baselineCorrect = ablate(examples, steering, deltaLogprob, deltaCorrect, progress, cancelled);

        for (int i = 0; i < heads; i++) {
            attributionSum[i] /= n;
            positive[i] /= n;
            negative[i] /= n;
            deltaLogprob[i] /= n;
            deltaCorrect[i] /= n;
        }
        return new HeadTables(dims.layers(), dims.heads(), n, attributionSum, positive, negative, deltaLogprob, deltaCorrect,
                (double) baselineCorrect / n);
    }

    /** Phase 1: prefills examples of equal length together and sums each head's attribution. */
    private void attribute(List<ScanExample> examples, ControlRow steering, boolean centred, double[] sum, double[] positive,
                           double[] negative, Progress progress, BooleanSupplier cancelled) throws OrtException {
        List<long[]> prompts = examples.stream().map(ScanExample::prompt).toList();
        forEachLastPosition(prompts, steering, cancelled, (e, at, row) -> {
            double[] shares = attribution.decompose(at, row, examples.get(e).target(), centred).heads();
            for (int i = 0; i < shares.length; i++) {
                sum[i] += shares[i];
                if (shares[i] > 0) positive[i]++;
                if (shares[i] < 0) negative[i]++;
            }
        }, done -> progress.report(ATTRIBUTION, done, prompts.size()));
    }

    /**
     * Every prompt's head outputs at its last position under {@code steering}: element i is prompt
     * i's z after the controls, before o_proj, [L, H, Dh] row-major — what a profile's head bias adds to.
     * Prompts of equal length share a forward pass; cancellation is checked between passes.
     */
    public float[][] lastPositionHeads(List<long[]> prompts, ControlRow steering, BooleanSupplier cancelled) throws OrtException {
        return lastPositionHeads(prompts, steering, done -> { }, cancelled);
    }

    /** As above; {@code done} hears how many prompts are through after each forward pass. */
    public float[][] lastPositionHeads(List<long[]> prompts, ControlRow steering, IntConsumer done, BooleanSupplier cancelled)
            throws OrtException {
        for (int i = 0; i < prompts.size(); i++) {
            int length = prompts.get(i).length;
            if (length == 0 || length >= maxLength()) {
                throw new IllegalArgumentException("prompt " + i + ": " + length + " tokens; it needs 1 to " + (maxLength() - 1));
            }
        }
        int size = dims.layers() * dims.heads() * dims.headDim();
        float[][] out = new float[prompts.size()][];
        forEachLastPosition(prompts, steering, cancelled, (p, at, row) -> {
            out[p] = new float[size];
            at.heads().get(at.headOffset(row, 0, 0), out[p]);
        }, done);
        return out;
    }

    /** What a batch gives for one prompt: its index in the caller's list, the pass's outputs, its row there. */
    private interface LastPositionVisitor {
        void visit(int prompt, LastPosition at, int row);
    }

    /**
     * Prefills the prompts under {@code steering}, those of equal length together (up to a batch's
     * rows), and hands each prompt's row of the last position to {@code visitor}; {@code done} hears
     * how many prompts are through after each pass.
     */
    private void forEachLastPosition(List<long[]> prompts, ControlRow steering, BooleanSupplier cancelled, LastPositionVisitor visitor,
                                     IntConsumer done) throws OrtException {
        for (int r = 0; r < batchRows; r++) controls.set(r, steering);
        List<Integer> byLength = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) byLength.add(i);
        byLength.sort(Comparator.comparingInt(i -> prompts.get(i).length));
        int through = 0;
        while (through < byLength.size()) {
            checkCancelled(cancelled);
            int length = prompts.get(byLength.get(through)).length;
            int rows = 0;
            while (through + rows < byLength.size() && rows < batchRows && prompts.get(byLength.get(through + rows)).length == length) rows++;
            long[] tokens = new long[rows * length];
            for (int r = 0; r < rows; r++) System.arraycopy(prompts.get(byLength.get(through + r)), 0, tokens, r * length, length);
            graph.forward(cache, 0, rows, length, tokens, new int[rows], controls);
            LastPosition at = graph.lastPosition();
            for (int r = 0; r < rows; r++) visitor.visit(byLength.get(through + r), at, r);
            through += rows;
            done.accept(through);
        }
    }

    /** Phase 2: per example, the baseline and one row per ablated head; returns how many baselines were right. */
    private int ablate(List<ScanExample> examples, ControlRow steering, double[] deltaLogprob, double[] deltaCorrect,
                       Progress progress, BooleanSupplier cancelled) throws OrtException {
        List<ControlRow> variants = ablationRows(steering, dims);
        double[] logprob = new double[variants.size()];
        boolean[] correct = new boolean[variants.size()];
        int baselineCorrect = 0;
        for (int e = 0; e < examples.size(); e++) {
            ScanExample example = examples.get(e);
            for (int first = 0; first < variants.size(); first += batchRows) {
                checkCancelled(cancelled);
                int rows = Math.min(batchRows, variants.size() - first);
                run(example, variants, first, rows, logprob, correct);
            }
            if (correct[0]) baselineCorrect++;
            for (int i = 0; i < deltaLogprob.length; i++) {
                deltaLogprob[i] += logprob[i + 1] - logprob[0];
                deltaCorrect[i] += (correct[i + 1] ? 1 : 0) - (correct[0] ? 1 : 0);
            }
            progress.report(ABLATION, e + 1, examples.size());
        }
        return baselineCorrect;
    }

    /** Variants [first, first + rows) on one example: the target's log-probability and whether it is the top token. */
    private void run(ScanExample example, List<ControlRow> variants, int first, int rows, double[] logprob, boolean[] correct)
            throws OrtException {
        FloatBuffer logits = forward(example, variants, first, rows);
        int vocab = dims.vocabSize();
        for (int r = 0; r < rows; r++) {
            logprob[first + r] = Logits.logSoftmax(logits, r * vocab, vocab, example.target());
            correct[first + r] = Logits.argmax(logits, r * vocab, vocab) == example.target();
        }
    }

    /** One batch row per variant, each prefilling the example's prompt in its own slot: logits [rows, V]. */
    FloatBuffer forward(ScanExample example, List<ControlRow> variants, int first, int rows) throws OrtException {
        int length = example.prompt().length;
        long[] tokens = new long[rows * length];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(example.prompt(), 0, tokens, r * length, length);
            controls.set(r, variants.get(first + r));
        }
        return graph.forward(cache, 0, rows, length, tokens, new int[rows], controls);
    }

    /** Row 0: the steering; row 1 + l·H + h: the steering with head (l, h)'s gain at 0. */
    static List<ControlRow> ablationRows(ControlRow steering, Dimensions dims) {
        List<ControlRow> rows = new ArrayList<>();
        rows.add(steering);
        for (int i = 0; i < dims.layers() * dims.heads(); i++) {
            float[] gain = steering.gain().clone();
            gain[i] = 0f;
            rows.add(new ControlRow(gain, steering.bias(), steering.mix()));
        }
        return rows;
    }

    @Override
    public void close() throws OrtException {
        graph.close();
    }

    private static void checkCancelled(BooleanSupplier cancelled) {
        if (cancelled.getAsBoolean()) throw new CancellationException("scan cancelled");
    }
}
