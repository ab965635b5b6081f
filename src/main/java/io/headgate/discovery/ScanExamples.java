package io.headgate.discovery;

import io.headgate.effect.Probe;
import io.headgate.effect.ProbeSets;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Where a scan's examples come from: a model's built-in probe sets, or prompts and answers a client sends. */
public final class ScanExamples {
    private ScanExamples() {
    }

    /** Text to token ids, with the special tokens the model's tokenizer adds (BOS). */
    public interface Encoder {
        long[] encode(String text);
    }

    /** Built-in examples per task group when no limit asks for fewer. */
    public static final int DEFAULT_PER_GROUP = 100;
    /** Scan examples are drawn apart from the probes accuracy is measured on (ProbeSets' users pick their own seeds). */
    public static final long SEED = 0x5ca9L;

    /** The built-in sets of a model; empty if it has none. */
    public static Set<String> builtinSets(String model) {
        return ProbeSets.available(model);
    }

    /**
     * A built-in set: "brackets" keeps the depths seen in training (the heads that do the task, not
     * the failures beyond it), "addition" the sums. The groups (depths) take turns, so a limit keeps
     * every group.
     *
     * @param limit at most this many examples; 0 for {@value #DEFAULT_PER_GROUP} per group
     */
    public static List<Probe> builtin(String model, String set, int limit) {
        if (!builtinSets(model).contains(set)) throw new IllegalArgumentException("no built-in set '" + set + "' for model '" + model + "'");
        int groups = set.equals(ProbeSets.BRACKETS) ? ProbeSets.TRAINING_DEPTH : 1;
        int perGroup = limit > 0 ? (limit + groups - 1) / groups : DEFAULT_PER_GROUP;
        Map<String, List<Probe>> byGroup = new LinkedHashMap<>();
        for (Probe p : ProbeSets.parensLm(set, perGroup, SEED)) {
            // a bracket answer closes one bracket per level: its length is the depth
            if (set.equals(ProbeSets.BRACKETS) && p.answer().length() > ProbeSets.TRAINING_DEPTH) continue;
            byGroup.computeIfAbsent(p.group(), g -> new ArrayList<>()).add(p);
        }
        List<Probe> out = new ArrayList<>();
        for (int i = 0; i < perGroup; i++) {
            for (List<Probe> group : byGroup.values()) if (i < group.size()) out.add(group.get(i));
        }
        return limit > 0 && out.size() > limit ? out.subList(0, limit) : out;
    }

    /**
     * Teacher forcing: the ids of prompt + answer up to the first token that covers answer text, and
     * that token as the target. Encoding the two together (not separately) gives the ids the model
     * sees in running text; where a token straddles the boundary, it is the target.
     *
     * @throws IllegalArgumentException if the answer adds no token
     */
    public static ScanExample teacherForced(String label, String prompt, String answer, Encoder encoder) {
        long[] alone = encoder.encode(prompt), together = encoder.encode(prompt + answer);
        int common = 0;
        while (common < alone.length && common < together.length && alone[common] == together[common]) common++;
        if (common >= together.length) throw new IllegalArgumentException("the tokenizer makes no token of the answer");
        if (common == 0) throw new IllegalArgumentException("the prompt encodes to no token before the answer");
        long[] ids = new long[common];
        System.arraycopy(together, 0, ids, 0, common);
        return new ScanExample(label, ids, Math.toIntExact(together[common]));
    }
}
