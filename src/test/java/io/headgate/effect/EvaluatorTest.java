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
import static org.awaitility.Awaitility.await;

/** A canary evaluation through the scheduler scores exactly what an offline greedy evaluation does, probe by probe. */
class EvaluatorTest {

    @Test
    void identityOutcomesEqualAnOfflineEvaluationOfTheSameProbesProbeByProbe() throws Exception {
        List<Probe> probes = ProbeSets.parensLm("", 6, 17);
        try (CausalLmGraph reference = ParensLm.graph(); CausalLmGraph graph = ParensLm.graph()) {
            var dims = graph.manifest().dimensions();
            boolean[] offline = new boolean[probes.size()];
            Map<String, Integer> offlineGroups = new LinkedHashMap<>();
            for (int i = 0; i < probes.size(); i++) {
                Probe p = probes.get(i);
                int max = p.answer().length() + 2;
                List<Long> out = ParensLm.greedy(reference, ParensLm.encode(p.prompt()), ControlRow.identity(dims), ControlRow.identity(dims), 0, max);
                boolean ended = out.size() < max; // greedy stops at the end-of-text token
                offline[i] = ended && ParensLm.decode(out.stream().mapToLong(Long::longValue).toArray()).equals(p.answer());
                offlineGroups.merge(p.task() + "/" + p.group(), offline[i] ? 1 : 0, Integer::sum);
            }
            CausalLmWorkload workload = ParensLm.workload(graph, 8);
            try (Scheduler scheduler = ParensLm.scheduler(workload, 4)) {
                boolean[] outcomes = new Evaluator(scheduler, workload, ParensLm::encode)
                        .outcomes(new Steering(SteeringTag.IDENTITY, ControlRow.identity(dims), null), probes, Duration.ofMinutes(2));
                assertThat(outcomes).as("each probe's outcome, in the probes' order").containsExactly(offline);
                var results = Evaluator.groups(probes, outcomes);
                assertThat(results).hasSize(11); // 10 depths + addition
                for (Evaluator.GroupResult r : results) {
                    assertThat(r.examples()).isEqualTo(6);
                    assertThat(r.correct()).as(r.task() + "/" + r.group()).isEqualTo(offlineGroups.get(r.task() + "/" + r.group()));
                }
                assertThat(results.stream().mapToInt(Evaluator.GroupResult::correct).sum()).as("a model that solves some probes").isGreaterThan(30);
                await("slots freed right after each final step").atMost(Duration.ofSeconds(5))
                        .untilAsserted(() -> assertThat(scheduler.activeStreams()).isZero());
            }
        }
    }
}
