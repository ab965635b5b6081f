package io.headgate.discovery;

import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlBatch;
import io.headgate.model.lm.KvCache;
import io.headgate.model.ControlRow;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Greedy decoding of many prompts through the KV-cache slots: prompts of equal length are prefilled
 * together, then every slot decodes in one batch per step, all under one control row.
 */
final class BatchedGreedy {

    private final CausalLmGraph graph;
    private final KvCache cache;
    private final ControlBatch controls;
    private final int slots, vocab;
    private final long eos;

    BatchedGreedy(CausalLmGraph graph, int slots, long eos) {
        this.graph = graph;
        this.cache = new KvCache(graph.manifest(), slots);
        this.controls = new ControlBatch(graph.manifest().dimensions(), slots);
        this.slots = slots;
        this.vocab = graph.manifest().dimensions().vocabSize();
        this.eos = eos;
    }

    /** Each prompt's greedy continuation: at most {@code maxTokens} ids, ending with EOS if it came. */
    List<long[]> generate(List<long[]> prompts, ControlRow row, int maxTokens) throws Exception {
        for (int r = 0; r < slots; r++) controls.set(r, row);
        Integer[] order = new Integer[prompts.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> prompts.get(i).length));
        List<long[]> out = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) out.add(null);
        for (int first = 0; first < order.length; first += slots) {
            int n = Math.min(slots, order.length - first);
            long[][] chunk = new long[n][];
            for (int r = 0; r < n; r++) chunk[r] = prompts.get(order[first + r]);
            long[][] generated = decodeChunk(chunk, maxTokens);
            for (int r = 0; r < n; r++) out.set(order[first + r], generated[r]);
        }
        return out;
    }

    /** Prompts sorted by length, one per slot. */
    private long[][] decodeChunk(long[][] prompts, int maxTokens) throws Exception {
        int n = prompts.length;
        long[] next = new long[n];
        int[] lengths = new int[n];
        for (int start = 0; start < n; ) {
            int length = prompts[start].length, rows = 0;
            while (start + rows < n && prompts[start + rows].length == length) rows++;
            long[] tokens = new long[rows * length];
            for (int r = 0; r < rows; r++) System.arraycopy(prompts[start + r], 0, tokens, r * length, length);
            FloatBuffer logits = graph.forward(cache, start, rows, length, tokens, new int[rows], controls);
            for (int r = 0; r < rows; r++) {
                next[start + r] = Logits.argmax(logits, r * vocab, vocab);
                lengths[start + r] = length;
            }
            start += rows;
        }
        long[][] generated = new long[n][maxTokens];
        int[] count = new int[n];
        boolean[] done = new boolean[n];
        for (int step = 0; ; step++) {
            boolean all = true;
            for (int r = 0; r < n; r++) {
                if (done[r]) continue;
                generated[r][count[r]++] = next[r];
                done[r] = next[r] == eos || count[r] == maxTokens;
                all &= done[r];
            }
            if (all) break;
            // finished rows keep decoding their last token: cheaper than compacting the slots
            FloatBuffer logits = graph.forward(cache, 0, n, 1, next, lengths, controls);
            for (int r = 0; r < n; r++) {
                next[r] = Logits.argmax(logits, r * vocab, vocab);
                lengths[r]++;
            }
        }
        long[][] out = new long[n][];
        for (int r = 0; r < n; r++) out[r] = Arrays.copyOf(generated[r], count[r]);
        return out;
    }
}
