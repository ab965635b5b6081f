package io.headgate.effect;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The built-in labelled probe sets, drawn from the same distributions the demo model was trained
 * on (training/train_parens_lm.py), with a fixed seed so every evaluation sees the same examples:
 * bracket closing by nesting depth, within training (1–6) and beyond it (7–10), and addition.
 */
public final class ProbeSets {
    private ProbeSets() {
    }

    public static final String BRACKETS = "brackets", ADDITION = "addition";
    public static final int TRAINING_DEPTH = 6, MAX_DEPTH = 10;
    private static final Map<Character, Character> PAIRS = Map.of('(', ')', '[', ']', '{', '}', '<', '>');
    private static final String OPENINGS = "([{<";

    /** The sets a model has: only parens-lm ships probes. */
    public static Set<String> available(String model) {
        return model.equals("parens-lm") ? Set.of(BRACKETS, ADDITION) : Set.of();
    }

    /**
     * @param set      "brackets", "addition", or "" for both
     * @param perGroup examples per depth (brackets) or in the single addition group
     */
    public static List<Probe> parensLm(String set, int perGroup, long seed) {
        Random random = new Random(seed);
        List<Probe> out = new ArrayList<>();
        if (set.isEmpty() || set.equals(BRACKETS)) {
            for (int depth = 1; depth <= MAX_DEPTH; depth++) {
                String group = "depth " + depth + (depth > TRAINING_DEPTH ? " (beyond training)" : "");
                for (int i = 0; i < perGroup; i++) out.add(brackets(random, depth, group));
            }
        }
        if (set.isEmpty() || set.equals(ADDITION)) {
            for (int i = 0; i < perGroup; i++) {
                int a = random.nextInt((int) Math.pow(10, 1 + random.nextInt(3)));
                int b = random.nextInt((int) Math.pow(10, 1 + random.nextInt(3)));
                out.add(new Probe(ADDITION, "1-3 digits", a + "+" + b + "=", Integer.toString(a + b)));
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no probe set '" + set + "'; available: brackets, addition");
        return out;
    }

    /** `depth` unclosed openings with balanced fillers between them; the answer closes them in order. */
    private static Probe brackets(Random random, int depth, String group) {
        char[] opens = new char[depth];
        for (int i = 0; i < depth; i++) opens[i] = OPENINGS.charAt(random.nextInt(4));
        int filler = random.nextInt(7);
        StringBuilder prompt = new StringBuilder();
        for (char o : opens) {
            String piece = random.nextDouble() < 0.5 ? balanced(random, filler) : "";
            filler -= piece.length();
            prompt.append(piece).append(o);
        }
        if (random.nextDouble() < 0.3) prompt.append(balanced(random, filler));
        StringBuilder answer = new StringBuilder();
        for (int i = depth - 1; i >= 0; i--) answer.append(PAIRS.get(opens[i]));
        return new Probe(BRACKETS, group, prompt.append('=').toString(), answer.toString());
    }

    private static String balanced(Random random, int budget) {
        StringBuilder out = new StringBuilder();
        while (budget >= 2 && random.nextDouble() < 0.6) {
            char o = OPENINGS.charAt(random.nextInt(4));
            String inner = balanced(random, random.nextInt(budget - 1) / 2 * 2);
            out.append(o).append(inner).append(PAIRS.get(o));
            budget -= 2 + inner.length();
        }
        return out.toString();
    }
}
