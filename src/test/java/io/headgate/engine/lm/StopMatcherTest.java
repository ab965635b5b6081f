package io.headgate.engine.lm;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StopMatcherTest {

    @Test
    void aStopAcrossDeltasEmitsTheTextBeforeIt() {
        StopMatcher matcher = new StopMatcher(List.of("c|"));
        assertThat(matcher.push("ab")).isEqualTo(new StopMatcher.Result("ab", false));
        assertThat(matcher.push("c|d")).isEqualTo(new StopMatcher.Result("", true));
        assertThat(matcher.flush()).isEmpty();
    }

    @Test
    void aStopSplitOverThreeDeltasHoldsBackUntilItMatches() {
        StopMatcher matcher = new StopMatcher(List.of("STOP"));
        assertThat(matcher.push("xyS")).isEqualTo(new StopMatcher.Result("xy", false));
        assertThat(matcher.push("T")).isEqualTo(new StopMatcher.Result("", false));
        assertThat(matcher.push("OPzz")).isEqualTo(new StopMatcher.Result("", true));
        assertThat(matcher.stopped()).isTrue();
        assertThat(matcher.push("more")).isEqualTo(new StopMatcher.Result("", true));
    }

    @Test
    void flushReleasesAHeldBackPrefix() {
        StopMatcher matcher = new StopMatcher(List.of("</end>"));
        assertThat(matcher.push("done </e")).isEqualTo(new StopMatcher.Result("done ", false));
        assertThat(matcher.flush()).isEqualTo("</e");
        assertThat(matcher.flush()).isEmpty();
    }

    @Test
    void aPrefixThatDivergesIsReleasedOnTheNextPush() {
        StopMatcher matcher = new StopMatcher(List.of("abc"));
        assertThat(matcher.push("xab")).isEqualTo(new StopMatcher.Result("x", false));
        // "abab": the first "ab" can no longer start "abc", the second still can.
        assertThat(matcher.push("ab")).isEqualTo(new StopMatcher.Result("ab", false));
        assertThat(matcher.push("d")).isEqualTo(new StopMatcher.Result("abd", false));
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        // "cd" starts at 1 and "b" at 3 of "xcdbq": the earlier one cuts, though listed later.
        StopMatcher other = new StopMatcher(List.of("b", "cd"));
        assertThat(other.push("xc")).isEqualTo(new StopMatcher.Result("x", false));
        assertThat(other.push("dbq")).isEqualTo(new StopMatcher.Result("", true));

        StopMatcher overlapping = new StopMatcher(List.of("world", "lo w"));
        assertThat(overlapping.push("hello wor")).isEqualTo(new StopMatcher.Result("hel", true));
    }

    @Test
    void textWithoutAStopIsNeverStopped() {
        StopMatcher matcher = new StopMatcher(List.of("###", "\n\n"));
        StringBuilder out = new StringBuilder();
        for (String delta : List.of("a#", "#b", "\n", "c##", "d\n", "e")) {
            StopMatcher.Result r = matcher.push(delta);
            assertThat(r.stopped()).as("after %s", delta).isFalse();
            out.append(r.emit());
        }
        out.append(matcher.flush());
        assertThat(out.toString()).isEqualTo("a##b\nc##d\ne");
    }

    @Test
    void noStopsPassEverythingThrough() {
        StopMatcher matcher = new StopMatcher(List.of());
        assertThat(matcher.push("anything")).isEqualTo(new StopMatcher.Result("anything", false));
        assertThat(matcher.flush()).isEmpty();
    }

    @Test
    void anEmptyStopIsRejected() {
        assertThatThrownBy(() -> new StopMatcher(List.of("ok", "")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stop");
    }
}
