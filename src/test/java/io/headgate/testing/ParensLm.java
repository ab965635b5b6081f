package io.headgate.testing;

import io.headgate.convert.BundleCache;
import io.headgate.convert.CheckpointConverter;
import io.headgate.engine.EngineMetrics;
import io.headgate.engine.Scheduler;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.engine.lm.Completion;
import io.headgate.engine.lm.LmState;
import io.headgate.engine.lm.TokenEvent;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlBatch;
import io.headgate.model.lm.KvCache;
import io.headgate.model.ControlRow;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The demo model for engine tests: its bundle, a direct scheduler, and a reference greedy decoder. */
public final class ParensLm {
    private ParensLm() {
    }

    public static final long EOS = 2;

    /** The same cache the test server uses, so the checkpoint converts once per build. */
    public static Path bundle() throws IOException {
        return new BundleCache(Path.of("target", "test-bundles"), new CheckpointConverter(m -> { }))
                .bundleFor(Checkpoints.PARENS_LM, CheckpointConverter.Options.STEERABLE);
    }

    public static CausalLmGraph graph() throws Exception {
        return CausalLmGraph.load(bundle(), CausalLmGraph.SessionConfig.DEFAULT);
    }

    /** Character-level: '<s>' then one id per character (the tokenizer's vocabulary order). */
    public static long[] encode(String text) {
        String chars = "()[]{}<>0123456789+=";
        long[] ids = new long[text.length() + 1];
        ids[0] = 1;
        for (int i = 0; i < text.length(); i++) {
            int c = chars.indexOf(text.charAt(i));
            if (c < 0) throw new IllegalArgumentException("not in the vocabulary: " + text.charAt(i));
            ids[i + 1] = 3 + c;
        }
        return ids;
    }

    public static String decode(long[] ids) {
        String chars = "()[]{}<>0123456789+=";
        StringBuilder b = new StringBuilder();
        for (long id : ids) if (id >= 3) b.append(chars.charAt((int) id - 3));
        return b.toString();
    }

    public static Scheduler<LmState, Void, TokenEvent, Completion> scheduler(CausalLmWorkload workload, int maxWaiting) {
        return new Scheduler<>("parens-lm", workload, new Scheduler.Config(maxWaiting), EngineMetrics.detached());
    }

    public static CausalLmWorkload workload(CausalLmGraph graph, int slots) {
        return new CausalLmWorkload(graph, slots, ParensLm::decode);
    }

    /** Logits after the prompt and after each of {@code continuation} fed in turn, all under one control row. */
    public static List<float[]> teacherForced(CausalLmGraph graph, long[] prompt, List<Long> continuation, ControlRow row) throws Exception {
        int vocab = graph.manifest().dimensions().vocabSize();
        KvCache cache = new KvCache(graph.manifest(), 1);
        ControlBatch controls = new ControlBatch(graph.manifest().dimensions(), 1);
        controls.set(0, row);
        List<float[]> out = new ArrayList<>();
        FloatBuffer logits = graph.forward(cache, 0, 1, prompt.length, prompt, new int[]{0}, controls);
        float[] first = new float[vocab];
        logits.get(0, first);
        out.add(first);
        int length = prompt.length;
        for (long token : continuation) {
            logits = graph.forward(cache, 0, 1, 1, new long[]{token}, new int[]{length++}, controls);
            float[] next = new float[vocab];
            logits.get(0, next);
            out.add(next);
        }
        return out;
    }

    /**
     * Greedy decoding straight on the graph, no scheduler: token i is computed under {@code after}
     * when i >= switchAt, else under {@code before}; stops at EOS (not included) or maxTokens.
     */
    public static List<Long> greedy(CausalLmGraph graph, long[] prompt, ControlRow before, ControlRow after, int switchAt, int maxTokens)
            throws Exception {
        var d = graph.manifest().dimensions();
        KvCache cache = new KvCache(graph.manifest(), 1);
        ControlBatch controls = new ControlBatch(d, 1);
        controls.set(0, switchAt <= 0 ? after : before);
        FloatBuffer logits = graph.forward(cache, 0, 1, prompt.length, prompt, new int[]{0}, controls);
        List<Long> out = new ArrayList<>();
        int length = prompt.length;
        while (out.size() < maxTokens) {
            long next = Greedy.argmax(logits, 0, d.vocabSize());
            if (next == EOS) break;
            out.add(next);
            if (out.size() == maxTokens || prompt.length + out.size() >= graph.manifest().maxLength()) break;
            controls.set(0, out.size() >= switchAt ? after : before);
            logits = graph.forward(cache, 0, 1, 1, new long[]{next}, new int[]{length}, controls);
            length++;
        }
        return out;
    }
}
