package io.headgate.discovery;

import io.headgate.effect.Probe;
import io.headgate.effect.ProbeSets;
import io.headgate.model.ControlRow;
import io.headgate.testing.ParensLm;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Accuracy per group of a fixed probe set under one control row: greedy decoding must give the
 * exact answer and then the end token. Groups: "depth 1" … "depth 10" and "addition", and
 * {@value #WITHIN_TRAINING} pooled.
 */
final class GroupAccuracy {

    static final String WITHIN_TRAINING = "depths 1-6";

    private final BatchedGreedy greedy;
    private final List<Probe> probes;
    private final List<long[]> prompts;
    private final int maxTokens;

    GroupAccuracy(BatchedGreedy greedy, List<Probe> probes) {
        this.greedy = greedy;
        this.probes = List.copyOf(probes);
        this.prompts = probes.stream().map(p -> ParensLm.encode(p.prompt())).toList();
        this.maxTokens = probes.stream().mapToInt(p -> p.answer().length()).max().orElse(0) + 1;
    }

    Map<String, Double> measure(ControlRow row) throws Exception {
        List<long[]> generated = greedy.generate(prompts, row, maxTokens);
        Map<String, int[]> counts = new LinkedHashMap<>();
        for (int i = 0; i < probes.size(); i++) {
            Probe p = probes.get(i);
            int[] c = counts.computeIfAbsent(group(p), g -> new int[2]);
            if (Arrays.equals(expected(p), generated.get(i))) c[0]++;
            c[1]++;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        int[] seen = new int[2]; // depths within training, pooled
        counts.forEach((g, c) -> {
            out.put(g, (double) c[0] / c[1]);
            if (g.matches("depth [1-" + ProbeSets.TRAINING_DEPTH + "]")) {
                seen[0] += c[0];
                seen[1] += c[1];
            }
        });
        if (seen[1] > 0) out.put(WITHIN_TRAINING, (double) seen[0] / seen[1]);
        return out;
    }

    /** Of a group's wrong answers, how many first go wrong at answer position 0, 1, 2, … (the end token last). */
    int[] firstErrors(ControlRow row, String group) throws Exception {
        List<long[]> generated = greedy.generate(prompts, row, maxTokens);
        int[] histogram = new int[maxTokens];
        for (int i = 0; i < probes.size(); i++) {
            if (!group(probes.get(i)).equals(group)) continue;
            long[] want = expected(probes.get(i)), got = generated.get(i);
            int k = 0;
            while (k < want.length && k < got.length && want[k] == got[k]) k++;
            if (k < want.length) histogram[k]++;
        }
        return histogram;
    }

    /** Per group, how many probes it holds. */
    Map<String, Integer> sizes() {
        Map<String, Integer> out = new LinkedHashMap<>();
        probes.forEach(p -> out.merge(group(p), 1, Integer::sum));
        return out;
    }

    static String group(Probe p) {
        return p.task().equals("addition") ? "addition" : p.group().replace(" (beyond training)", "");
    }

    /** The answer's ids, then the end token. */
    private static long[] expected(Probe p) {
        long[] answer = ParensLm.encode(p.answer()); // <s> first
        long[] out = Arrays.copyOfRange(answer, 1, answer.length + 1);
        out[out.length - 1] = ParensLm.EOS;
        return out;
    }
}
