package io.headgate.effect;

import io.headgate.engine.Scheduler;
import io.headgate.engine.lm.CausalLmWorkload;
import io.headgate.model.lm.CausalLmGraph;
import io.headgate.model.ControlRow;
import io.headgate.steer.Steering;
import io.headgate.steer.SteeringTag;
import io.headgate.testing.ParensLm;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A canary evaluation through the scheduler scores exactly what an offline greedy evaluation does. */
class EvaluatorTest {

    @Test
    void identityAccuracyEqualsAnOfflineEvaluationOfTheSameProbes() throws Exception {
        List<Probe> probes = ProbeSets.parensLm("", 6, 17);
        try (CausalLmGraph reference = ParensLm.graph(); CausalLmGraph graph = ParensLm.graph()) {
            var dims = graph.manifest().dimensions();
            Map<String, Integer> offline = new LinkedHashMap<>();
            for (Probe p : probes) {
                int max = p.answer().length() + 2;
                List<Long> out = ParensLm.greedy(reference, ParensLm.encode(p.prompt()), ControlRow.identity(dims), ControlRow.identity(dims), 0, max);
                boolean ended = out.size() < max; // greedy stops at the end-of-text token
                boolean correct = ended && ParensLm.decode(out.stream().mapToLong(Long::longValue).toArray()).equals(p.answer());
                offline.merge(p.task() + "/" + p.group(), correct ? 1 : 0, Integer::sum);
            }
            CausalLmWorkload workload = ParensLm.workload(graph, 8);
            try (Scheduler scheduler = ParensLm.scheduler(workload, 4)) {
                var results = new Evaluator(scheduler, workload, ParensLm::encode)
                        .evaluate(new Steering(SteeringTag.IDENTITY, ControlRow.identity(dims), null), probes, Duration.ofMinutes(2));
                assertThat(results).hasSize(11); // 10 depths + addition
                for (Evaluator.GroupResult r : results) {
                    assertThat(r.examples()).isEqualTo(6);
                    assertThat(r.correct()).as(r.task() + "/" + r.group()).isEqualTo(offline.get(r.task() + "/" + r.group()));
                }
                assertThat(results.stream().mapToInt(Evaluator.GroupResult::correct).sum()).as("a model that solves some probes").isGreaterThan(30);
                long deadline = System.nanoTime() + 5_000_000_000L; // slots are freed right after each final step
                while (scheduler.activeStreams() > 0 && System.nanoTime() < deadline) Thread.sleep(2);
                assertThat(scheduler.activeStreams()).isZero();
            }
        }
    }
}
