package io.headgate.bench;

import io.headgate.model.ControlBatch;
import io.headgate.model.ControlRow;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.lm.KvCache;
import io.headgate.testing.Greedy;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The graph as the engine calls it, {@link CausalLmGraph} with its plain twin, decoding identity
 * rows: what a bare loop over the plain graph is compared with when the question is what serving
 * an identity batch costs beyond the plain graph (the choice of session per pass, the views, the
 * checks), without the engine around it.
 */
final class ServedGraph implements AutoCloseable {

    private final CausalLmGraph graph;
    private final KvCache cache;
    private final ControlBatch controls;
    private final int rows, promptLength, tokens, vocab;

    ServedGraph(Path steerable, Path plain, int rows, int promptLength, int tokens) throws Exception {
        graph = CausalLmGraph.load(steerable, plain, new CausalLmGraph.SessionConfig(BareLoop.threads));
        var d = graph.manifest().dimensions();
        cache = new KvCache(graph.manifest(), rows);
        controls = new ControlBatch(d, rows);
        ControlRow identity = ControlRow.identity(d);
        for (int r = 0; r < rows; r++) controls.set(r, identity);
        this.rows = rows;
        this.promptLength = promptLength;
        this.tokens = tokens;
        this.vocab = d.vocabSize();
    }

    /** One generation of {@code tokens} steps after a fresh prefill (not timed): seconds per step, as {@code BareLoop.Decoder.generation}. */
    double generation() throws Exception {
        long[] prompt = new long[rows * promptLength];
        for (int i = 0; i < prompt.length; i++) prompt[i] = 1 + (i * 7) % (vocab - 1);
        int[] past = new int[rows];
        FloatBuffer logits = graph.forward(cache, 0, rows, promptLength, prompt, past, controls);
        long[] next = new long[rows];
        Arrays.fill(past, promptLength);
        long t0 = System.nanoTime();
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) next[r] = Greedy.argmax(logits, r * vocab, vocab);
            logits = graph.forward(cache, 0, rows, 1, next, past, controls);
            for (int r = 0; r < rows; r++) past[r]++;
        }
        if (graph.identityRuns() == 0) throw new IllegalStateException("the plain twin never ran");
        return (System.nanoTime() - t0) / 1e9 / tokens;
    }

    @Override
    public void close() throws Exception {
        graph.close();
    }
}
