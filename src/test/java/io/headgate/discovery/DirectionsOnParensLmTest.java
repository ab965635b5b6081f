package io.headgate.discovery;

import io.headgate.discovery.directions.Contrast;
import io.headgate.discovery.directions.DirectionFinder;
import io.headgate.discovery.directions.DirectionsJob;
import io.headgate.discovery.directions.DirectionsReport;
import io.headgate.effect.Probe;
import io.headgate.effect.ProbeSets;
import io.headgate.model.ControlRow;
import io.headgate.steer.ProfileCompiler;
import io.headgate.steer.ProfileValidator;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Directions on parens-lm's analysis graph, read where the RPC cannot: the log-probability of ')'
 * on held-out bracket prompts, un-steered and under the suggested profile, for the contrast "the
 * next closer is ')'" against the other closers.
 */
class DirectionsOnParensLmTest {

    static final List<long[]> POSITIVE = new ArrayList<>(), NEGATIVE = new ArrayList<>();
    static final List<Probe> HELD_OUT = new ArrayList<>();
    static int paren;

    @BeforeAll
    static void load() throws Exception {
        HeadScanTest.load();
        Set<String> used = new HashSet<>();
        for (Probe p : ScanExamples.builtin("parens-lm", ProbeSets.BRACKETS, 0)) {
            (p.answer().startsWith(")") ? POSITIVE : NEGATIVE).add(ParensLm.encode(p.prompt()));
            used.add(p.prompt());
        }
        for (Probe p : ProbeSets.parensLm(ProbeSets.BRACKETS, 40, 77)) {
            if (p.answer().length() <= ProbeSets.TRAINING_DEPTH && !used.contains(p.prompt())) HELD_OUT.add(p);
        }
        long[] closed = ParensLm.encode("(=)");
        paren = (int) closed[closed.length - 1];
    }

    static DirectionsJob job(int top, double alpha) {
        return new DirectionsJob("parens-lm", new Contrast("brackets by first closer", POSITIVE, NEGATIVE), 0.25, 1, top, alpha);
    }

    @Test
    void theProfileRaisesTheLogProbOfTheContrastedTokenOnHeldOutPrompts() throws Exception {
        try (HeadScan scan = HeadScanTest.scanner(64)) {
            AtomicInteger lastDone = new AtomicInteger();
            DirectionsReport report = DirectionFinder.run(scan, job(8, 4), (phase, done, total) -> {
                assertThat(phase).isEqualTo(DirectionFinder.PHASE);
                assertThat(total).isEqualTo(POSITIVE.size() + NEGATIVE.size());
                lastDone.set(done);
            }, () -> false);
            assertThat(lastDone.get()).isEqualTo(POSITIVE.size() + NEGATIVE.size());
            ProfileValidator.validate(report.profile(), scan.dims(), 16f);

            ControlRow identity = ControlRow.identity(scan.dims()), steered = ProfileCompiler.compile(report.profile(), scan.dims());
            int vocab = scan.dims().vocabSize(), negatives = 0, raised = 0;
            double before = 0, after = 0;
            for (Probe p : HELD_OUT) {
                FloatBuffer logits = scan.forward(new ScanExample(p.prompt(), ParensLm.encode(p.prompt()), paren), List.of(identity, steered), 0, 2);
                double base = Logits.logSoftmax(logits, 0, vocab, paren), moved = Logits.logSoftmax(logits, vocab, vocab, paren);
                if (p.answer().startsWith(")")) {
                    assertThat(moved).as(p.prompt()).isGreaterThan(Math.log(0.99)); // stays the answer, nearly certain
                    continue;
                }
                negatives++;
                before += base;
                after += moved;
                if (moved > base) raised++;
            }
            System.out.printf("directions (top 8, alpha 4): %s; held-out log p(')') on %d other-closer prompts %.2f -> %.2f, raised on %d%n",
                    report.profile().description(), negatives, before / negatives, after / negatives, raised);
            assertThat(negatives).isGreaterThan(60);
            assertThat(raised).isEqualTo(negatives);
            assertThat(after / negatives - before / negatives).isGreaterThan(4); // nats
        }
    }

    @Test
    void aCancelledRunStopsBeforeItsNextForwardPass() throws Exception {
        try (HeadScan scan = HeadScanTest.scanner(8)) {
            AtomicInteger passes = new AtomicInteger();
            assertThatThrownBy(() -> DirectionFinder.run(scan, job(8, 4), (phase, done, total) -> passes.incrementAndGet(), () -> passes.get() >= 3))
                    .isInstanceOf(CancellationException.class);
            assertThat(passes.get()).isEqualTo(3);
        }
    }
}
