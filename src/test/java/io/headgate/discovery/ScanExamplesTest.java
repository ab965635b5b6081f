package io.headgate.discovery;

import io.headgate.effect.Probe;
import io.headgate.effect.ProbeSets;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScanExamplesTest {

    @Test
    void builtinBracketsStayWithinTrainingDepthAndALimitKeepsEveryDepth() {
        List<Probe> all = ScanExamples.builtin("parens-lm", ProbeSets.BRACKETS, 0);
        assertThat(all).hasSize(ProbeSets.TRAINING_DEPTH * ScanExamples.DEFAULT_PER_GROUP);
        assertThat(all).allSatisfy(p -> assertThat(p.answer().length()).isBetween(1, ProbeSets.TRAINING_DEPTH));

        Map<String, Long> perDepth = ScanExamples.builtin("parens-lm", ProbeSets.BRACKETS, 20).stream()
                .collect(Collectors.groupingBy(Probe::group, Collectors.counting()));
        assertThat(perDepth).hasSize(ProbeSets.TRAINING_DEPTH);
        assertThat(perDepth.values()).allSatisfy(n -> assertThat(n).isBetween(3L, 4L));
        assertThat(ScanExamples.builtin("parens-lm", ProbeSets.ADDITION, 7)).hasSize(7);
        assertThatThrownBy(() -> ScanExamples.builtin("other-model", ProbeSets.BRACKETS, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void teacherForcingStopsWhereTheAnswerBegins() {
        ScanExample e = ScanExamples.teacherForced("x", "([{=", "}])", ParensLm::encode);
        assertThat(e.prompt()).containsExactly(ParensLm.encode("([{="));
        assertThat(e.target()).isEqualTo((int) ParensLm.encode("}")[1]);
    }

    @Test
    void aTokenStraddlingTheBoundaryIsTheTarget() {
        // a tokenizer that merges "ab" and appends an end token to every encoding
        ScanExamples.Encoder merging = text -> {
            long[] ids = new long[text.length() + 2];
            int n = 0;
            ids[n++] = 1;
            for (int i = 0; i < text.length(); i++) {
                if (text.startsWith("ab", i)) {
                    ids[n++] = 99;
                    i++;
                } else {
                    ids[n++] = text.charAt(i);
                }
            }
            ids[n++] = 2;
            return java.util.Arrays.copyOf(ids, n);
        };
        ScanExample e = ScanExamples.teacherForced("x", "xa", "bc", merging);
        assertThat(e.prompt()).containsExactly(1, 'x');
        assertThat(e.target()).isEqualTo(99);
        assertThatThrownBy(() -> ScanExamples.teacherForced("x", "xy", "", merging)).hasMessageContaining("no token of the answer");
    }
}
